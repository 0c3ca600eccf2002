//! The policy layer's error: where in which file, and what.

use std::fmt;

/// A policy file that cannot be loaded, located by line, column and field path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    /// Path of the field, e.g. `rule[2].require.any[0].sentence_at_most.months`; empty when the
    /// document itself is malformed.
    pub field: String,
    pub message: String,
}

impl PolicyError {
    pub(crate) fn at(
        file: &str,
        source: &str,
        offset: usize,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        let (line, column) = line_column(source, offset);
        Self {
            file: file.to_owned(),
            line,
            column,
            field: field.into(),
            message: message.into(),
        }
    }
}

/// 1-based line and column (in characters) of a byte offset.
fn line_column(source: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(source.len());
    let before = source.get(..offset).unwrap_or(source);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file, self.line, self.column)?;
        if !self.field.is_empty() {
            write!(f, "field `{}`: ", self.field)?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for PolicyError {}
