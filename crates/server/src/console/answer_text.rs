//! The words of the look-up answer's table and of the policy preview by charge (Chinese, English), kept apart from `i18n::TEXTS`
//! and `pages_text` so that each block of pages brings its own; `Lang::t` reads all of them.

/// (key, 中文, English).
pub(crate) const ANSWER_TEXTS: &[(&str, &str, &str)] = &[
    ("policy.by_charge", "按主罪名统计", "By main charge"),
    ("policy.main_charge", "主罪名", "Main charge"),
    (
        "policy.no_change",
        "没有记录会改变状态。",
        "No record would change state.",
    ),
    ("answer.case_code", "案件编号", "Case code"),
    ("answer.state", "状态", "State"),
    ("answer.state_date", "状态日期", "State since"),
    ("answer.person", "当事人", "Person"),
    ("answer.charges", "罪名", "Charges"),
    ("answer.disposition", "处理结果", "Disposition"),
    ("answer.sentence", "刑罚", "Sentence"),
    ("answer.offence_date", "犯罪日期", "Offence date"),
    (
        "answer.disposition_date",
        "判决或决定日期",
        "Disposition date",
    ),
    (
        "answer.judgment_effective",
        "判决生效日期",
        "Judgment in effect",
    ),
    (
        "answer.execution_completed",
        "刑罚执行完毕日期",
        "Sentence served",
    ),
    (
        "answer.confidential",
        "本记录系依据授权查阅的封存记录，查询单位应当予以保密，不得泄露（《刑事诉讼法》第二百八十六条）。",
        "A sealed record read under a grant: the enquiring body keeps it confidential and discloses it to no one (Criminal Procedure Law art. 286).",
    ),
    (
        "answer.confidential_violation",
        "本记录系依据授权查阅的封存违法记录，依法进行查询的单位应当对被封存的违法记录的情况予以保密（《中华人民共和国治安管理处罚法》第一百三十六条）。",
        "A sealed violation record read under a grant: the body that enquired under the law keeps what it learnt of the sealed record confidential (Public Security Administration Punishments Law art. 136).",
    ),
    ("answer.kind", "记录类别", "Kind of record"),
    (
        "answer.kind.violation",
        "违法记录（治安管理处罚法）",
        "violation record (Public Security Administration Punishments Law)",
    ),
    ("answer.violations", "违法行为", "Violations"),
    ("answer.penalty", "处罚", "Penalty"),
    (
        "answer.violation_date",
        "违法行为日期",
        "Date of the violation",
    ),
    (
        "answer.decision_date",
        "处罚或不予处罚决定日期",
        "Decision date",
    ),
    (
        "answer.decision_effective",
        "处罚决定生效日期",
        "Penalty decision in effect",
    ),
    (
        "answer.penalty_executed",
        "处罚执行完毕日期",
        "Penalty executed",
    ),
    (
        "answer.disposition.penalized",
        "给予治安管理处罚",
        "penalised",
    ),
    (
        "answer.disposition.not_penalized",
        "不予处罚",
        "not penalised",
    ),
    ("answer.disposition.withdrawn", "撤销案件", "case withdrawn"),
    ("timeline.kind.violation", "违法记录", "Violation record"),
    ("timeline.kind.criminal", "犯罪记录", "Criminal record"),
    (
        "timeline.kind.non_conviction",
        "涉罪记录",
        "Record without a conviction",
    ),
    ("timeline.doc.judgment", "判决书", "Judgment"),
    ("timeline.doc.penalty", "处罚决定书", "Penalty decision"),
    (
        "timeline.doc.not_penalized",
        "不予处罚决定书",
        "Decision not to penalise",
    ),
    ("answer.state.open", "案件未终结", "open"),
    ("answer.state.not_eligible", "不予封存", "not eligible"),
    ("answer.state.pending_seal", "待封存", "pending seal"),
    ("answer.state.sealed", "已封存", "sealed"),
    ("answer.state.unsealed", "已解封", "unsealed"),
    ("answer.state.revoked", "撤销封存", "seal revoked"),
    ("answer.disposition.convicted", "判决有罪", "convicted"),
    (
        "answer.disposition.not_prosecuted",
        "不起诉",
        "not prosecuted",
    ),
    (
        "answer.disposition.case_withdrawn",
        "撤销案件",
        "case withdrawn",
    ),
    ("answer.disposition.acquitted", "宣告无罪", "acquitted"),
    ("answer.disposition.open", "案件尚未终结", "not concluded"),
    (
        "answer.principal.exempt",
        "免予刑事处罚",
        "exempt from criminal punishment",
    ),
    (
        "answer.principal.supplementary_only",
        "单处附加刑",
        "supplementary punishment only",
    ),
    (
        "answer.principal.public_surveillance",
        "管制",
        "public surveillance",
    ),
    (
        "answer.principal.criminal_detention",
        "拘役",
        "criminal detention",
    ),
    (
        "answer.principal.fixed_term",
        "有期徒刑",
        "fixed-term imprisonment",
    ),
    ("answer.principal.life", "无期徒刑", "life imprisonment"),
    (
        "answer.principal.death_suspended",
        "死刑缓期二年执行",
        "death with a two-year reprieve",
    ),
    ("answer.principal.death", "死刑", "death"),
];

#[cfg(test)]
mod tests {
    use super::ANSWER_TEXTS;

    /// Every row label the look-up view asks for (`put("answer.…"`) has both texts.
    #[test]
    fn every_row_of_the_answer_has_both_texts() {
        let source = include_str!("lookup.rs");
        let mut used = 0;
        for (index, _) in source
            .match_indices("put(\n        \"answer.")
            .chain(source.match_indices("put(\"answer."))
        {
            let rest = &source[index..];
            let start = rest.find('"').unwrap() + 1;
            let key = &rest[start..start + rest[start..].find('"').unwrap()];
            used += 1;
            assert!(
                ANSWER_TEXTS
                    .iter()
                    .any(|(k, zh, en)| *k == key && !zh.is_empty() && !en.is_empty()),
                "no text for `{key}`"
            );
        }
        assert!(used >= 10, "only {used} rows found");
    }
}
