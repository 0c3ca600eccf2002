//! Masked identities, for lists whose reader's task does not need to know who a record is about
//! (an operator watching deliveries): the name as its first character and 某, the identity number
//! as its first four and last four characters around stars (docs/disclosure.md, who reads what).

/// `张三` → `张某`, `欧阳娜娜` → `欧某`; an empty name stays empty.
pub fn name(name: &str) -> String {
    let name = name.trim();
    match name.chars().next() {
        Some(first) => format!("{first}某"),
        None => String::new(),
    }
}

/// `110105199003070025` → `1101**********0025`: the first four and last four characters, a star
/// for each one between. A number of eight characters or fewer is all stars (its ends would be the
/// whole of it).
pub fn id_number(id_number: &str) -> String {
    let chars: Vec<char> = id_number.trim().chars().collect();
    if chars.len() <= 8 {
        return "*".repeat(chars.len());
    }
    let (head, rest) = chars.split_at(4);
    let (middle, tail) = rest.split_at(rest.len() - 4);
    let mut masked: String = head.iter().collect();
    masked.push_str(&"*".repeat(middle.len()));
    masked.extend(tail);
    masked
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_keep_their_first_character() {
        assert_eq!(super::name("张三"), "张某");
        assert_eq!(super::name("欧阳娜娜"), "欧某");
        assert_eq!(super::name("阿卜杜·热合曼"), "阿某");
        assert_eq!(super::name(""), "");
    }

    #[test]
    fn identity_numbers_keep_four_characters_at_each_end() {
        assert_eq!(super::id_number("110105199003070025"), "1101**********0025");
        assert_eq!(super::id_number("11010519491231002X"), "1101**********002X");
        assert_eq!(super::id_number("E12345678"), "E123*5678");
        assert_eq!(super::id_number("12345678"), "********");
        assert_eq!(super::id_number(""), "");
    }
}
