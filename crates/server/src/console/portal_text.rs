//! The words of the person's own portal (docs/person.md), beside `i18n::TEXTS`: (key, 中文, English).

pub(crate) const PORTAL_TEXTS: &[(&str, &str, &str)] = &[("role.person", "本人", "The person")];
