//! Masking of a person's identity for readers whose task does not need it in full: the one place
//! that decides what a masked name and identity number show.

/// An identity number with its first four and last four characters shown (`1101**********0025`):
/// the province and city, and the check digits a person recognises as theirs.
pub fn id_number(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    if chars.len() <= 8 {
        return "*".repeat(chars.len());
    }
    let hidden = chars.len() - 8;
    chars[..4]
        .iter()
        .chain(std::iter::repeat_n(&'*', hidden))
        .chain(&chars[chars.len() - 4..])
        .collect()
}

/// A name with its first character shown and the rest as 某 (`张三丰` → `张某`), as Chinese
/// documents name a person they must not identify.
pub fn name(name: &str) -> String {
    name.chars()
        .next()
        .map_or_else(String::new, |first| format!("{first}某"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn masks_keep_what_a_person_recognises_and_hide_the_rest() {
        assert_eq!(super::id_number("110105199003070025"), "1101**********0025");
        assert_eq!(super::id_number("11010519491231002X"), "1101**********002X");
        assert_eq!(super::id_number("1234"), "****");
        assert_eq!(super::name("张三丰"), "张某");
        assert_eq!(super::name("王"), "王某");
        assert_eq!(super::name(""), "");
    }
}
