//! Enums the store keeps as text: each written with one code (`as_str`, its serde name), read
//! back with `FromStr`; a code the store does not know is an error, never a panic.

/// A stored code that names none of its enum's values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{value}` is not a {kind}")]
pub struct UnknownCode {
    pub kind: &'static str,
    pub value: String,
}

/// Declares an enum stored as text: the codes are its serde names, `as_str`, `parse`, `FromStr`
/// and `Display`, comparison with a code (`status == "pending"`), and `ALL` lists its values
/// in order.
macro_rules! stored_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident ($what:literal) {
            $($(#[$vmeta:meta])* $variant:ident => $code:literal,)+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $code)] $variant,)+
        }

        impl $name {
            pub const ALL: [$name; [$($code),+].len()] = [$($name::$variant),+];

            /// The code it is stored and serialised with.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $code,)+
                }
            }

            pub fn parse(code: &str) -> Option<Self> {
                match code {
                    $($code => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::code::UnknownCode;

            fn from_str(code: &str) -> Result<Self, Self::Err> {
                Self::parse(code).ok_or_else(|| $crate::code::UnknownCode {
                    kind: $what,
                    value: code.to_owned(),
                })
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, code: &str) -> bool {
                self.as_str() == code
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, code: &&str) -> bool {
                self.as_str() == *code
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub(crate) use stored_enum;
