//! Look-ups: the requester declares purpose, post and legal basis; the answer is the API's
//! (`service::disclosure::lookup`'s bytes, parsed and laid out), so a sealed record without a
//! covering grant shows exactly as no record. The page never repeats the identity number asked
//! about: the answer alone is shown.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::i18n::Lang;
use super::identity::Choice;
use super::requests::purpose_choices;
use super::{Ctx, Notice, Page, optional, render};
use crate::AppState;
use crate::service::disclosure::{self, LookupRequest};

/// One record of the answer.
pub struct Shown {
    case_code: String,
    grant: Option<String>,
    /// A public-security violation record (治安违法记录): its duty of confidentiality is art. 136
    /// of the 治安管理处罚法's, not art. 286 of the Criminal Procedure Law's.
    violation: bool,
    /// The record as the API shows it, one row per field (label, value).
    rows: Vec<(&'static str, String)>,
}

/// The answer, as the API gives it.
pub struct Answer {
    /// `records`, `no_record` or `no_right`.
    code: String,
    message: String,
    basis: Option<String>,
    records: Vec<Shown>,
}

#[derive(Template)]
#[template(path = "lookup.html")]
struct LookupPage {
    ctx: Ctx,
    purposes: Vec<Choice>,
    posts: Vec<super::requests::PostChoice>,
    notice: Option<Notice>,
    answer: Option<Answer>,
}

#[derive(Template)]
#[template(path = "lookup_answer.html")]
struct AnswerFragment {
    ctx: Ctx,
    notice: Option<Notice>,
    answer: Option<Answer>,
}

pub async fn page(State(state): State<AppState>, page: Page) -> Response {
    let purposes = purpose_choices(page.lang);
    render(&LookupPage {
        ctx: page.ctx,
        purposes,
        posts: super::requests::post_choices(&state, page.lang),
        notice: None,
        answer: None,
    })
}

#[derive(Deserialize)]
pub struct LookupForm {
    #[serde(default)]
    purpose: String,
    #[serde(default)]
    post: String,
    #[serde(default)]
    basis: String,
    #[serde(default)]
    id_number: String,
    #[serde(default)]
    case_code: String,
}

fn answer_of(lang: Lang, body: &str) -> Option<Answer> {
    let value: serde_json::Value = serde_json::from_str(body).ok()?;
    let records = value["records"]
        .as_array()
        .map(|records| {
            records
                .iter()
                .map(|r| Shown {
                    case_code: r["case_code"].as_str().unwrap_or_default().to_owned(),
                    grant: r["grant"].as_str().map(str::to_owned),
                    violation: is_violation(&r["record"])
                        || r["confidentiality"].as_str().is_some(),
                    rows: rows_of(lang, &r["record"]),
                })
                .collect()
        })
        .unwrap_or_default();
    Some(Answer {
        code: value["answer"].as_str()?.to_owned(),
        // The answer's words in the reader's language; the service's own (Chinese) otherwise.
        message: match (lang, value["answer"].as_str()?) {
            (Lang::En, "records") => "Records".to_owned(),
            (Lang::En, "no_record") => "No record".to_owned(),
            (Lang::En, "no_right") => "Not permitted to look up".to_owned(),
            _ => value["message"].as_str()?.to_owned(),
        },
        basis: value["basis"].as_str().map(str::to_owned),
        records,
    })
}

pub async fn lookup(
    State(state): State<AppState>,
    page: Page,
    Form(form): Form<LookupForm>,
) -> Response {
    let request = LookupRequest {
        purpose: form.purpose,
        post: optional(&form.post),
        id_number: optional(&form.id_number),
        case_code: optional(&form.case_code),
        basis: optional(&form.basis),
    };
    let (status, notice, answer) = if request.id_number.is_none() && request.case_code.is_none() {
        let message = page.ctx.t("lookup.either").to_owned();
        let notice = Notice { ok: false, message };
        (StatusCode::UNPROCESSABLE_ENTITY, Some(notice), None)
    } else {
        match disclosure::lookup(&state, &page.caller, request).await {
            Ok(body) => (StatusCode::OK, None, answer_of(page.lang, &body)),
            Err(error) => {
                let status = crate::error::ApiError::status_of(&error);
                if status == StatusCode::FORBIDDEN {
                    return page.service_error(&error);
                }
                let notice = Notice {
                    ok: false,
                    message: page.lang.error(&error),
                };
                (status, Some(notice), None)
            }
        }
    };
    if page.htmx {
        let fragment = AnswerFragment {
            ctx: page.ctx,
            notice,
            answer,
        };
        return (status, render(&fragment)).into_response();
    }
    let purposes = purpose_choices(page.lang);
    let html = LookupPage {
        ctx: page.ctx,
        purposes,
        posts: super::requests::post_choices(&state, page.lang),
        notice,
        answer,
    };
    (status, render(&html)).into_response()
}

/// A violation record's view: its facts (or its summary) say `"kind": "public_security_violation"`.
fn is_violation(record: &serde_json::Value) -> bool {
    [&record["facts"]["kind"], &record["kind"]]
        .iter()
        .any(|k| k.as_str() == Some("public_security_violation"))
}

/// The rows of a record as the answer shows it: the summary (charges, disposition, sentence, the
/// judgment's date) or the full view (the state and every fact). Only what the answer holds is
/// drawn, so two answers with the same JSON are drawn the same.
fn rows_of(lang: Lang, record: &serde_json::Value) -> Vec<(&'static str, String)> {
    let text = |v: &serde_json::Value| v.as_str().map(str::to_owned);
    let date = |v: &serde_json::Value| {
        v.as_str().map(|d| {
            d.parse::<fengcun_domain::Date>()
                .map_or_else(|_| d.to_owned(), |d| lang.date(d))
        })
    };
    let disposition = |v: &serde_json::Value| {
        v.as_str()
            .map(|code| lang.code_text("answer.disposition", code))
    };
    let mut rows = Vec::new();
    let mut put = |key: &'static str, value: Option<String>| {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            rows.push((lang.t(key), value));
        }
    };
    put("answer.case_code", text(&record["case_code"]));
    let facts = &record["facts"];
    if record.get("state").is_none() {
        // The summary.
        let names = |list: &serde_json::Value| {
            list.as_array().map(|names| {
                names
                    .iter()
                    .filter_map(|n| n.as_str())
                    .collect::<Vec<_>>()
                    .join(separator(lang))
            })
        };
        if is_violation(record) {
            // A violation record's summary: its behaviours and penalty decision, never charges.
            put(
                "answer.kind",
                Some(lang.t("answer.kind.violation").to_owned()),
            );
            put("answer.violations", names(&record["violations"]));
            put("answer.disposition", disposition(&record["disposition"]));
            put("answer.penalty", text(&record["penalty"]));
            put(
                "answer.decision_effective",
                date(&record["decision_effective_date"]),
            );
            return rows;
        }
        put("answer.charges", names(&record["charges"]));
        put("answer.disposition", disposition(&record["disposition"]));
        put("answer.sentence", text(&record["sentence"]));
        put(
            "answer.judgment_effective",
            date(&record["judgment_effective_date"]),
        );
        return rows;
    }
    put(
        "answer.state",
        text(&record["state"]).map(|code| lang.code_text("answer.state", &code)),
    );
    put("answer.state_date", date(&record["state_date"]));
    let person = [&facts["person"]["name"], &facts["person"]["id_number"]]
        .iter()
        .filter_map(|v| v.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    put("answer.person", Some(person));
    if is_violation(record) {
        // A violation record in its own words: behaviours, the penalty decision, its dates.
        put(
            "answer.kind",
            Some(lang.t("answer.kind.violation").to_owned()),
        );
        let behaviours = facts["violations"].as_array().map(|list| {
            list.iter()
                .filter_map(|v| v["name"].as_str())
                .collect::<Vec<_>>()
                .join(separator(lang))
        });
        put("answer.violations", behaviours);
        put("answer.disposition", disposition(&facts["disposition"]));
        put("answer.penalty", penalty(lang, facts));
        put("answer.violation_date", date(&facts["offence_date"]));
        put("answer.decision_date", date(&facts["disposition_date"]));
        put(
            "answer.decision_effective",
            date(&facts["decision_effective_date"]),
        );
        put(
            "answer.penalty_executed",
            date(&facts["execution_completed_date"]),
        );
        return rows;
    }
    let charges = facts["charges"].as_array().map(|charges| {
        charges
            .iter()
            .filter_map(|c| c["name"].as_str())
            .collect::<Vec<_>>()
            .join(separator(lang))
    });
    put("answer.charges", charges);
    put("answer.disposition", disposition(&facts["disposition"]));
    put("answer.sentence", sentence(lang, facts));
    put("answer.offence_date", date(&facts["offence_date"]));
    put("answer.disposition_date", date(&facts["disposition_date"]));
    put(
        "answer.judgment_effective",
        date(&facts["judgment_effective_date"]),
    );
    put(
        "answer.execution_completed",
        date(&facts["execution_completed_date"]),
    );
    rows
}

/// A violation record's penalty as a decision states it (`行政拘留十日，罚款五百元`), or in English.
fn penalty(lang: Lang, facts: &serde_json::Value) -> Option<String> {
    let json = facts.get("penalty").filter(|p| p.is_object())?;
    let flag = |key: &str| json[key].as_bool().unwrap_or(false);
    let p = fengcun_domain::Penalty {
        warning: flag("warning"),
        fine_yuan: json["fine_yuan"].as_u64().unwrap_or(0),
        detention_days: json["detention_days"]
            .as_u64()
            .and_then(|d| u32::try_from(d).ok())
            .unwrap_or(0),
        licence_revoked: flag("licence_revoked"),
        deadline_to_leave: flag("deadline_to_leave"),
        deportation: flag("deportation"),
    };
    Some(match lang {
        Lang::Zh => p.chinese(),
        Lang::En => {
            let mut parts = Vec::new();
            if p.warning {
                parts.push("warning".to_owned());
            }
            if p.detention_days > 0 {
                parts.push(format!(
                    "administrative detention {} days",
                    p.detention_days
                ));
            }
            if p.fine_yuan > 0 {
                parts.push(format!("fine {} yuan", p.fine_yuan));
            }
            if p.licence_revoked {
                parts.push("licence issued by public security revoked".to_owned());
            }
            if p.deadline_to_leave {
                parts.push("deadline to leave the country".to_owned());
            }
            if p.deportation {
                parts.push("deportation".to_owned());
            }
            parts.join("; ")
        }
    })
}

fn separator(lang: Lang) -> &'static str {
    match lang {
        Lang::Zh => "、",
        Lang::En => ", ",
    }
}

/// A full view's sentence as a judgment states it (`有期徒刑六个月，并处罚金三千元`), or in
/// English; read with the one record-facts parser.
fn sentence(lang: Lang, facts: &serde_json::Value) -> Option<String> {
    if facts.get("sentence").is_none_or(serde_json::Value::is_null) {
        return None;
    }
    let bytes = serde_json::to_vec(facts).ok()?;
    let sentence = fengcun_domain::parse_record(&bytes).ok()?.sentence?;
    Some(match lang {
        Lang::Zh => sentence.chinese(),
        Lang::En => {
            let kind = sentence.principal.kind;
            let mut parts = vec![lang.code_text("answer.principal", kind.code())];
            if kind.has_term() {
                parts[0].push_str(&format!(", {} months", sentence.principal.months));
            }
            if let Some(months) = sentence.probation_months {
                parts.push(format!("probation {months} months"));
            }
            if sentence.fine_yuan > 0 {
                parts.push(format!("fine {} yuan", sentence.fine_yuan));
            }
            if sentence.political_rights_months > 0 {
                parts.push(format!(
                    "deprivation of political rights {} months",
                    sentence.political_rights_months
                ));
            }
            parts.join("; ")
        }
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use super::*;

    /// Issue 18: a sealed violation record shown under a grant is drawn in its own words, and its
    /// duty of confidentiality is art. 136 of the 治安管理处罚法 (the template's `violation`), not
    /// the Criminal Procedure Law's art. 286; a criminal record's stays art. 286.
    #[test]
    fn a_violation_record_in_the_answer_has_its_own_words_and_art_136() {
        let body = serde_json::json!({
            "answer": "records", "message": "查询结果",
            "records": [
                {"case_code": "110105-2026-000031", "grant": "G-1",
                 "confidentiality": "依法进行查询的单位，应当对被封存的违法记录的情况予以保密",
                 "record": {"state": "sealed", "state_date": "2026-02-12", "facts": {
                    "kind": "public_security_violation",
                    "person": {"id_number": "110105199203070011", "name": "赵违法"},
                    "offence_date": "2026-02-10", "violations": [{"name": "殴打他人"}],
                    "disposition": "penalized", "disposition_date": "2026-02-12",
                    "penalty": {"detention_days": 10, "fine_yuan": 500},
                    "decision_effective_date": "2026-02-12"}}},
                {"case_code": "110105-2024-000001", "grant": "G-2",
                 "record": {"state": "sealed", "facts": {
                    "person": {"id_number": "110105199001010011"},
                    "charges": [{"name": "危险驾驶罪"}], "disposition": "convicted"}}}
            ]
        });
        let answer = answer_of(Lang::Zh, &body.to_string()).unwrap();
        let [violation, criminal] = &answer.records[..] else {
            panic!("two records")
        };
        assert!(violation.violation && !criminal.violation);
        let rows: Vec<(&str, &str)> = violation
            .rows
            .iter()
            .map(|(label, value)| (*label, value.as_str()))
            .collect();
        for row in [
            ("记录类别", "违法记录（治安管理处罚法）"),
            ("违法行为", "殴打他人"),
            ("处理结果", "给予治安管理处罚"),
            ("处罚", "行政拘留十日，罚款五百元"),
            ("处罚决定生效日期", "2026年2月12日"),
        ] {
            assert!(rows.contains(&row), "{row:?} not in {rows:?}");
        }
        assert!(
            !rows
                .iter()
                .any(|(label, _)| *label == "罪名" || *label == "刑罚")
        );
        assert!(
            Lang::Zh
                .t("answer.confidential_violation")
                .contains("第一百三十六条")
        );
        assert!(
            Lang::En
                .t("answer.confidential_violation")
                .contains("art. 136")
        );
        let english = answer_of(Lang::En, &body.to_string()).unwrap();
        let en_rows = &english.records[0].rows;
        assert!(
            en_rows
                .iter()
                .any(|(l, v)| *l == "Penalty"
                    && v == "administrative detention 10 days; fine 500 yuan"),
            "{en_rows:?}"
        );
    }

    /// A vetting answer shows a summary (no state, no identity): a violation record's is its
    /// behaviours, disposition, penalty and the decision's date, as the API gives it — it once
    /// showed only the case code and the disposition, the summary being read as a criminal one.
    #[test]
    fn a_violation_records_summary_shows_its_behaviours_and_penalty() {
        let body = serde_json::json!({
            "answer": "records", "message": "查询结果",
            "records": [
                {"case_code": "110105-2026-000031", "grant": "G-1",
                 "record": {"case_code": "110105-2026-000031", "kind": "public_security_violation",
                    "disposition": "penalized", "violations": ["殴打他人"],
                    "penalty": "行政拘留十日，罚款五百元", "decision_effective_date": "2026-02-12"}}
            ]
        });
        let answer = answer_of(Lang::Zh, &body.to_string()).unwrap();
        let rows: Vec<(&str, &str)> = answer.records[0]
            .rows
            .iter()
            .map(|(label, value)| (*label, value.as_str()))
            .collect();
        assert_eq!(
            rows,
            [
                ("案件编号", "110105-2026-000031"),
                ("记录类别", "违法记录（治安管理处罚法）"),
                ("违法行为", "殴打他人"),
                ("处理结果", "给予治安管理处罚"),
                ("处罚", "行政拘留十日，罚款五百元"),
                ("处罚决定生效日期", "2026年2月12日"),
            ]
        );
    }
}
