//! The dashboard (首页): what every user may do, and for each role what it may read — the
//! supervisor's numbers as cards and small SVG bar charts drawn on the server (operators and
//! auditors, `service::records::dashboard_stats`: counted at most every half minute), the requests waiting for an approver
//! (`service::requests::list`). A part is shown only to the roles its service lets read it: the
//! page asks the service only for a caller who holds the service's roles, so a clerk's home page
//! neither reads the numbers nor leaves a refusal in the audit log.

use askama::Template;
use axum::extract::State;
use axum::response::Response;

use super::{Ctx, Lang, Page, render};
use crate::AppState;
use crate::config::Role;
use crate::service::records::{self, SUPERVISORS, StatsView};
use crate::service::requests::{self, RequestFilter, RequestView};

/// A task on the home page: a menu entry and what it is for.
pub struct Task {
    pub href: &'static str,
    pub key: &'static str,
    pub about: String,
}

/// A number on a card.
pub struct Card {
    pub id: &'static str,
    pub key: &'static str,
    pub value: i64,
    /// `ok`, `wait` or `bad`: how the number is coloured.
    pub tone: &'static str,
}

/// One bar of a chart, laid out in the SVG's units.
pub struct Bar {
    pub label: String,
    pub value: i64,
    /// The bar's top and width; where its value is written.
    pub y: u32,
    pub width: u32,
    pub text_y: u32,
    pub value_x: u32,
    /// The CSS class that colours it.
    pub class: String,
}

/// A horizontal bar chart (a plain `<svg>` in the page: no script, no style attribute).
pub struct Chart {
    pub id: &'static str,
    pub title_key: &'static str,
    pub height: u32,
    pub bars: Vec<Bar>,
}

/// The SVG's layout: labels on the left, bars from `BAR_X`, values after the bar.
pub const CHART_WIDTH: u32 = 520;
const BAR_X: u32 = 130;
const BAR_MAX: u32 = 320;
const ROW: u32 = 26;

/// `(label, value, class)` rows as a chart; bars are scaled to the largest value.
pub fn chart(id: &'static str, title_key: &'static str, rows: Vec<(String, i64, String)>) -> Chart {
    let max = rows.iter().map(|(_, v, _)| *v).max().unwrap_or(0).max(1);
    let bars = rows
        .into_iter()
        .enumerate()
        .map(|(i, (label, value, class))| {
            let y = u32::try_from(i).unwrap_or(0) * ROW + 4;
            let scaled = i128::from(value.max(0)) * i128::from(BAR_MAX) / i128::from(max);
            // A non-zero value is at least a sliver, so that it is seen.
            let width = u32::try_from(scaled)
                .unwrap_or(BAR_MAX)
                .max(u32::from(value > 0) * 2);
            Bar {
                label,
                value,
                y,
                width,
                text_y: y + 14,
                value_x: BAR_X + width + 6,
                class,
            }
        })
        .collect::<Vec<_>>();
    Chart {
        id,
        title_key,
        height: u32::try_from(bars.len()).unwrap_or(0) * ROW + 8,
        bars,
    }
}

/// What a supervisor sees: the numbers and the two charts.
pub struct Numbers {
    pub today: String,
    /// When the numbers were counted (they are counted at most every half minute).
    pub counted_at: String,
    pub cards: Vec<Card>,
    pub charts: Vec<Chart>,
    /// The records list filtered to the seals due within a week (for a role with the list).
    pub due_link: Option<String>,
}

/// A record state's name in the page's language (待封存, 已封存, …).
pub fn state_text(lang: Lang, state: &str) -> String {
    lang.code_text("state", state)
}

fn numbers(lang: Lang, stats: StatsView, may_list: bool) -> Numbers {
    let count = |state: &str| stats.records_by_state.get(state).copied().unwrap_or(0);
    let total: i64 = stats.records_by_state.values().sum();
    let cards = vec![
        Card {
            id: "card-records",
            key: "dash.records",
            value: total,
            tone: "",
        },
        Card {
            id: "card-sealed",
            key: "dash.sealed",
            value: count("sealed"),
            tone: "ok",
        },
        Card {
            id: "card-pending",
            key: "dash.pending_seal",
            value: count("pending_seal"),
            tone: "wait",
        },
        Card {
            id: "card-due-7",
            key: "dash.due_7",
            value: stats.seals_due_7_days,
            tone: "wait",
        },
        Card {
            id: "card-due-30",
            key: "dash.due_30",
            value: stats.seals_due_30_days,
            tone: "",
        },
        Card {
            id: "card-unack-3",
            key: "dash.unack_3",
            value: stats.notices_unacknowledged_after_3_days,
            tone: "wait",
        },
        Card {
            id: "card-unack-7",
            key: "dash.unack_7",
            value: stats.notices_unacknowledged_after_7_days,
            tone: "bad",
        },
        Card {
            id: "card-failed",
            key: "dash.failed",
            value: stats.failed_deliveries,
            tone: "bad",
        },
        Card {
            id: "card-requests",
            key: "dash.pending_requests",
            value: stats.pending_requests,
            tone: "wait",
        },
        Card {
            id: "card-grants",
            key: "dash.live_grants",
            value: stats.live_grants,
            tone: "",
        },
    ];
    // Every state, in the order a record lives them, zero included.
    let by_state = fengcun_lifecycle::StateCode::ALL
        .iter()
        .map(|s| {
            (
                state_text(lang, s.code()),
                count(s.code()),
                format!("bar state-{}", s.code()),
            )
        })
        .collect();
    let by_agency = stats
        .records_by_agency
        .iter()
        .map(|(agency, n)| (agency.clone(), *n, "bar agency".to_owned()))
        .collect();
    let due_link = may_list
        .then(|| {
            let today: fengcun_domain::Date = stats.today.parse().ok()?;
            // The week: pending seals due on today + 7 days at the latest (the list's bound is
            // exclusive), overdue ones included — the card's number.
            let bound = fengcun_domain::date::add_period(today, 0, 0, 8)?;
            Some(format!(
                "/console/records?state=pending_seal&due_before={bound}"
            ))
        })
        .flatten();
    Numbers {
        counted_at: lang.time(&stats.now),
        today: stats
            .today
            .parse()
            .map(|d| lang.date(d))
            .unwrap_or(stats.today),
        cards,
        charts: vec![
            chart("chart-states", "dash.by_state", by_state),
            chart("chart-agencies", "dash.by_agency", by_agency),
        ],
        due_link,
    }
}

#[derive(Template)]
#[template(path = "home.html")]
struct Home {
    ctx: Ctx,
    tasks: Vec<Task>,
    numbers: Option<Numbers>,
    /// For an approver: the requests they may decide (others' pending ones).
    waiting: Option<Vec<RequestView>>,
    chart_width: u32,
}

/// The roles the records pages serve (the menu's entry): clerks search and read timelines,
/// operators list and read every record.
pub const RECORD_READERS: &[Role] = &[Role::Clerk, Role::Operator];

pub async fn home(State(state): State<AppState>, page: Page) -> Response {
    if page.caller.role == crate::config::Role::Person {
        // A person's home is their own records (docs/person.md).
        return axum::response::IntoResponse::into_response(axum::response::Redirect::to(
            "/console/me",
        ));
    }
    let tasks = page
        .ctx
        .nav
        .iter()
        .filter(|n| n.href != "/console/")
        .map(|n| Task {
            href: n.href,
            key: n.key,
            about: format!("home.{}", n.key.trim_start_matches("nav.")),
        })
        .collect();
    let numbers = if page.caller.holds(SUPERVISORS) {
        match records::dashboard_stats(&state, &page.caller).await {
            Ok(stats) => Some(numbers(page.lang, stats, page.caller.holds(RECORD_READERS))),
            Err(error) => return page.service_error(&error),
        }
    } else {
        None
    };
    let waiting = if page.caller.holds(&[Role::Approver]) {
        let filter = RequestFilter {
            status: Some("pending".into()),
        };
        match requests::list(&state, &page.caller, filter).await {
            Ok(list) => Some(
                list.requests
                    .into_iter()
                    // Nobody decides their own request.
                    .filter(|r| r.requester != page.caller.name)
                    .collect(),
            ),
            Err(error) => return page.service_error(&error),
        }
    } else {
        None
    };
    render(&Home {
        ctx: page.ctx,
        tasks,
        numbers,
        waiting,
        chart_width: CHART_WIDTH,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest_value_and_a_small_one_shows() {
        let c = chart(
            "c",
            "t",
            vec![
                ("a".into(), 1000, "bar".into()),
                ("b".into(), 500, "bar".into()),
                ("c".into(), 1, "bar".into()),
                ("d".into(), 0, "bar".into()),
            ],
        );
        let widths: Vec<u32> = c.bars.iter().map(|b| b.width).collect();
        assert_eq!(widths, [320, 160, 2, 0]);
        assert_eq!(c.bars[1].y, 30);
        assert_eq!(c.height, 4 * 26 + 8);
    }
}
