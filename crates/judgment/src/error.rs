//! The one error enum of the judgment crate.

/// Why a judgment, or one defendant in it, cannot be turned into record facts or redacted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JudgmentError {
    /// No `判决如下` / `裁定如下` introduces an operative part.
    #[error("document {document}: no operative part (判决如下) found")]
    NoOperativePart { document: String },
    /// The operative part names nobody convicted of a charge.
    #[error("document {document}: the operative part convicts no one (no 被告人…犯…罪)")]
    NoConviction { document: String },
    /// A defendant was found but the facts cannot form a valid record-facts line.
    #[error("document {document}, defendant {k} ({name}): {reason}")]
    Defendant {
        document: String,
        k: usize,
        name: String,
        reason: String,
    },
    /// A JSON-lines input line is not an object with the expected text field.
    #[error("line {line}: {reason}")]
    Input { line: usize, reason: String },
}
