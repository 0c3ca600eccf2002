//! A transition explained: the decision derived again from its evidence (the facts and the date it
//! was taken on) under the policy version that took it. The engine is a pure function, so this is
//! the decision as it was made; the store keeps the evidence and the policy's text, never the
//! explanation.

use fengcun_domain::{Date, RecordParser};
use serde_json::{Value, json};

use crate::{Policy, evaluate};

/// Why a transition's evidence cannot be explained: a damaged or foreign evidence document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExplainError {
    #[error("recorded policy {0}: {1}")]
    Policy(String, String),
    #[error("transition evidence without a date")]
    NoDate,
    #[error("transition facts: {0}")]
    Facts(String),
}

/// The explained decision of a transition: `decision` (FORMATS.md's decision with every reason in
/// Chinese and its legal basis), `as_of`, `facts` and, where an unsealing rule lifted the seal,
/// `unseal` (the rule, its trigger, its text and basis). `evidence` is what the store keeps with
/// the transition: `{"as_of": "YYYY-MM-DD", "facts": {…}}`.
pub fn explain(
    policy: &Policy,
    evidence: &Value,
    rule: Option<&str>,
) -> Result<Value, ExplainError> {
    let as_of: Date = evidence["as_of"]
        .as_str()
        .and_then(|d| d.parse().ok())
        .ok_or(ExplainError::NoDate)?;
    let record = RecordParser::new(fengcun_domain::Catalogue::builtin())
        .parse_value(&evidence["facts"])
        .map_err(|e| ExplainError::Facts(e.to_string()))?;
    let decision = evaluate(policy, &record, as_of);
    let unseal = rule.and_then(|id| policy.unseals.iter().find(|u| u.id == id));
    Ok(json!({
        "decision": decision.view(policy, &record),
        "as_of": as_of.to_string(),
        "facts": evidence["facts"],
        "unseal": unseal.map(|u| json!({"rule": u.id, "trigger": u.trigger.code(), "text": u.text, "basis": u.basis})),
    }))
}

/// [`explain`] under a policy version as recorded with its transitions: its name, version and
/// text.
pub fn explain_recorded(
    name: &str,
    version: &str,
    text: &str,
    evidence: &Value,
    rule: Option<&str>,
) -> Result<Value, ExplainError> {
    let label = format!("{name} {version}");
    let policy = Policy::from_toml(&label, text)
        .map_err(|e| ExplainError::Policy(label.clone(), e.to_string()))?;
    explain(&policy, evidence, rule)
}
