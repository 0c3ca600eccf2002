//! The policies shipped with fengcun, compiled into the binary from `data/policies/`.

use std::sync::LazyLock;

use crate::error::PolicyError;
use crate::policy::Policy;

/// (file name, text) of every shipped policy, in the order `policy list` shows them.
pub const SOURCES: &[(&str, &str)] = &[
    (
        "cn-juvenile.toml",
        include_str!("../../../data/policies/cn-juvenile.toml"),
    ),
    (
        "cn-minor-opt1.toml",
        include_str!("../../../data/policies/cn-minor-opt1.toml"),
    ),
    (
        "cn-minor-opt2.toml",
        include_str!("../../../data/policies/cn-minor-opt2.toml"),
    ),
    (
        "cn-minor-opt3.toml",
        include_str!("../../../data/policies/cn-minor-opt3.toml"),
    ),
    (
        "cn-minor-tiered.toml",
        include_str!("../../../data/policies/cn-minor-tiered.toml"),
    ),
    (
        "cn-pilot-dangerous-driving.toml",
        include_str!("../../../data/policies/cn-pilot-dangerous-driving.toml"),
    ),
    (
        "cn-pilot-light-penalty.toml",
        include_str!("../../../data/policies/cn-pilot-light-penalty.toml"),
    ),
    (
        "cn-public-security-violation.toml",
        include_str!("../../../data/policies/cn-public-security-violation.toml"),
    ),
    (
        "uk-rehabilitation-2023.toml",
        include_str!("../../../data/policies/uk-rehabilitation-2023.toml"),
    ),
];

static PRESETS: LazyLock<Vec<Policy>> = LazyLock::new(|| {
    load_all().unwrap_or_else(|error| panic!("a shipped policy is invalid: {error}"))
});

/// Loads every shipped policy, reporting the first that does not load.
pub fn load_all() -> Result<Vec<Policy>, PolicyError> {
    SOURCES
        .iter()
        .map(|(file, text)| Policy::from_toml(&format!("data/policies/{file}"), text))
        .collect()
}

/// Every shipped policy.
pub fn all() -> &'static [Policy] {
    &PRESETS
}

/// A shipped policy by name (`cn-minor-opt1`).
pub fn get(name: &str) -> Option<&'static Policy> {
    all().iter().find(|p| p.meta.name == name)
}
