//! `fengcun demo`: the server on the embedded default, with a small demo data set loaded.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use fengcun_domain::{AgencyKind, Event};
use fengcun_server::{ApiKey, Config, Role, SystemClock};
use fengcun_store::Context;
use fengcun_store::prelude::*;

const DEMO_EVENTS: &str = include_str!("../../../../examples/events.ndjson");
/// A judgment pronounced and not yet in effect: the demo's pending seal (待封存), sealed when the
/// judgment takes effect.
const DEMO_PENDING: &str = include_str!("../../../../examples/demo-pending.ndjson");
/// The demo person's own records (docs/person.md): a non-prosecution sealed in 2023 and a
/// judgment pronounced, not yet in effect (待封存).
const DEMO_PERSON: &str = include_str!("../../../../examples/demo-person.ndjson");
const DEMO_PERSON_ID: &str = "110105199503150048";
const DEMO_PERSON_NAME: &str = "林一";

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    listen: String,
    /// Directory for the demo database and key [default: a new temporary directory].
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    crate::cmd::serve::init_logging("text");
    let dir = args.dir.unwrap_or_else(|| {
        std::env::temp_dir().join(format!("fengcun-demo-{}", std::process::id()))
    });
    std::fs::create_dir_all(&dir)?;
    let operator_key = random_key();
    let mut config = Config::load(None, std::iter::empty())?;
    config.listen = args.listen;
    config.database = format!("sqlite://{}", dir.join("demo.sqlite").display());
    // The demo's data are made up and its directory thrown away: its key stays with them, apart
    // from the key of any real database on this machine.
    config.master_key_file = Some(dir.join("demo.sqlite.key"));
    // The demo's notices are issued as a district court would issue them, with an objection route
    // (made-up values: a deployment configures its own `[notices]`, docs/notices.md).
    config.notices.authority = Some("北京市朝阳区人民法院".to_owned());
    config.notices.objection_body = Some("北京市朝阳区人民检察院".to_owned());
    config.notices.objection_days = Some(30);
    config.api_keys.push(ApiKey {
        name: "demo-operator".into(),
        role: Role::Operator,
        agency: None,
        requester_kind: None,
        key_sha256: fengcun_server::config::key_digest(&operator_key),
    });
    // Each demo agency acknowledges its notices with its own agency key, as only agencies may.
    let mut agency_keys = std::collections::BTreeMap::new();
    for (code, _) in DEMO_AGENCIES {
        let key = random_key();
        config.api_keys.push(ApiKey {
            name: format!("demo-agency-{code}"),
            role: Role::Agency,
            agency: Some((*code).to_owned()),
            requester_kind: None,
            key_sha256: fengcun_server::config::key_digest(&key),
        });
        agency_keys.insert((*code).to_owned(), key);
    }
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let inbox = start_inbox(dir.join("inbox")).await?;
        for (code, kind) in DEMO_AGENCIES {
            config.agencies.push(fengcun_server::AgencyEndpoint {
                code: (*code).to_owned(),
                kind: *kind,
                name: None,
                endpoint: Some(format!("{}/{code}", inbox.url)),
            });
        }
        let keys = fengcun_store::Keys::new(config.master_key()?);
        let store = Arc::new(fengcun_store::open(&config.database, keys).await?);
        let events = DEMO_EVENTS
            .lines()
            .chain(DEMO_PENDING.lines())
            .chain(DEMO_PERSON.lines())
            .filter(|l| !l.trim().is_empty())
            .map(|l| Event::parse(l.as_bytes()))
            .collect::<Result<Vec<_>, _>>()?;
        let ctx = Context::new(Arc::new(config.load_policy()?), jiff::Timestamp::now())
            .issued_by(Arc::new(config.notices.clone()));
        let outcomes = store.ingest(&events, &ctx).await?;
        let counts = store.counts().await?;
        let for_agencies = store
            .notices(fengcun_store::NoticeFilter {
                unacknowledged: true,
                ..Default::default()
            })
            .await?
            .len();
        let running = fengcun_server::start_with_store(config, store, Arc::new(SystemClock)).await?;
        let base = format!("http://{}", running.address);
        let users = console_users(&running.state).await?;
        tokio::spawn(acknowledge(inbox.received, base.clone(), agency_keys));
        println!("fengcun demo: {} events loaded ({} new) into {}", counts.events, outcomes.len(), dir.display());
        for (state, n) in &counts.records_by_state {
            println!("  records {state}: {n}");
        }
        println!("\nserver: {base}   (Ctrl-C to stop)");
        println!("{for_agencies} notices for the agencies are delivered to a demo inbox, where each agency acknowledges its own with its own key (see the log)");
        println!(
            "delivered notices are kept in {}; check one offline with\n  fengcun notice verify {}/<notice>.json --public-key {}",
            dir.join("inbox").display(),
            dir.join("inbox").display(),
            dir.join("demo.sqlite.signing.pub.pem").display()
        );
        println!("operator key (shown once): {operator_key}\n");
        println!("console: {base}/console/   log in as (passwords made for this run):");
        for user in &users {
            println!(
                "  {:<14} {:<14} password {}   {}",
                user.role, user.username, user.password, user.about
            );
        }
        println!(
            "  the clerk's request to see {}'s sealed records waits for the approver\n",
            DEMO_REQUEST_NAME
        );
        println!("try:");
        println!("  curl {base}/healthz");
        println!("  curl -H 'Authorization: Bearer {operator_key}' '{base}/api/v1/notices?unacknowledged=true'");
        println!("  curl -H 'Authorization: Bearer {operator_key}' {base}/metrics");
        println!("  curl -H 'Authorization: Bearer {operator_key}' {base}/api/openapi.json");
        println!(
            "  curl -H 'Authorization: Bearer {operator_key}' -H 'content-type: application/json' -d '{{\"name\":\"cn-minor-opt3\"}}' {base}/api/v1/policy"
        );
        running.wait().await;
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// The console's demo users, one per role a person logs in with: (username, role, requester
/// kind, what the user does). Their passwords are made afresh on every run.
const DEMO_USERS: &[(&str, Role, Option<&str>, &str)] = &[
    (
        "demo-clerk",
        Role::Clerk,
        Some("court"),
        "办案人员: look-ups, requests",
    ),
    (
        "demo-counter",
        Role::Clerk,
        Some("court"),
        "办案人员 (窗口): confirms the counter's enrolments",
    ),
    (
        "demo-approver",
        Role::Approver,
        Some("court"),
        "审批人: approves requests",
    ),
    (
        "demo-auditor",
        Role::Auditor,
        None,
        "审计监督人员: the audit log",
    ),
    (
        "demo-operator",
        Role::Operator,
        None,
        "平台运维人员: notices, policy",
    ),
    (
        "demo-admin",
        Role::Administrator,
        None,
        "系统管理员: users and keys",
    ),
    (
        "demo-employer",
        Role::Requester,
        Some("employer"),
        "查询申请人 (employer): look-ups",
    ),
    (
        "demo-policy",
        Role::PolicyMaker,
        None,
        "政策研究人员: simulation",
    ),
    (
        "demo-supervisor",
        Role::Supervisor,
        None,
        "查询监督人员: flags of unusual look-ups",
    ),
];

/// Whose sealed records the demo clerk asks to see (张三's record of 2024 is sealed).
const DEMO_REQUEST_ID: &str = "110105199003070025";
const DEMO_REQUEST_NAME: &str = "张三";

/// A console user of the demo, as printed.
struct DemoUser {
    username: String,
    role: &'static str,
    password: String,
    about: &'static str,
}

/// Makes (or, on a rerun over the same directory, resets) the console's demo users through the
/// same service functions an administrator's page calls, each with a password made for this
/// run, and files the clerk's request to see a sealed record, left for the approver.
async fn console_users(state: &fengcun_server::AppState) -> anyhow::Result<Vec<DemoUser>> {
    use fengcun_server::service::{identity, requests};
    let setup = fengcun_server::Caller {
        name: "demo-setup".into(),
        owner: "demo-setup".into(),
        role: Role::Administrator,
        agency: None,
        kind: None,
        person_key: None,
    };
    let mut users = Vec::new();
    for (username, role, kind, about) in DEMO_USERS {
        let password = fengcun_crypto::random_hex::<8>();
        let new = identity::NewUser {
            username: (*username).to_owned(),
            password: password.clone(),
            role: role.code().to_owned(),
            requester_kind: kind.map(str::to_owned),
            agency: None,
            id_number: None,
        };
        match identity::create_user(state, &setup, new).await {
            Ok(_) => {}
            Err(fengcun_server::ServiceError::Conflict(_)) => {
                identity::reset_password(state, &setup, username, &password).await?;
            }
            Err(e) => return Err(e.into()),
        }
        users.push(DemoUser {
            username: (*username).to_owned(),
            role: role.code(),
            password,
            about,
        });
    }
    // The demo person, enrolled at the court's counter by its two clerks (one opens the
    // enrolment, the other confirms it and gets the code) and activated as a person does it: they
    // log in with their identity number (a rerun makes a new code, which sets a new password).
    let counter = |username: &str| fengcun_server::Caller {
        name: format!("user:{username}"),
        owner: format!("user:{username}"),
        role: Role::Clerk,
        agency: None,
        kind: Some(fengcun_store::RequesterKind::Court),
        person_key: None,
    };
    let card = || fengcun_server::service::portal::EnrolRequest {
        id_number: DEMO_PERSON_ID.into(),
        name: DEMO_PERSON_NAME.into(),
    };
    let opened =
        fengcun_server::service::portal::enrol(state, &counter("demo-clerk"), card()).await?;
    let enrolled = fengcun_server::service::portal::confirm_enrolment(
        state,
        &counter("demo-counter"),
        &opened.enrolment,
        card(),
    )
    .await?;
    let password = fengcun_crypto::random_hex::<8>();
    fengcun_server::service::portal::activate(
        state,
        fengcun_server::service::portal::ActivateRequest {
            code: enrolled.code,
            id_number: DEMO_PERSON_ID.into(),
            password: password.clone(),
        },
    )
    .await?;
    users.push(DemoUser {
        username: DEMO_PERSON_ID.to_owned(),
        role: Role::Person.code(),
        password,
        about: "本人 (林一): my records, notices, certificates",
    });
    // A reset withdrew any earlier run's request: the clerk files one anew.
    let clerk = fengcun_server::Caller {
        name: "user:demo-clerk".into(),
        owner: "user:demo-clerk".into(),
        role: Role::Clerk,
        agency: None,
        kind: Some(fengcun_store::RequesterKind::Court),
        person_key: None,
    };
    requests::create(
        state,
        &clerk,
        requests::NewRequest {
            purpose: "case_handling".into(),
            post: None,
            id_number: DEMO_REQUEST_ID.into(),
            name: Some(DEMO_REQUEST_NAME.into()),
            basis: "（2026）京0105刑初88号".into(),
            reason: "审理新案需要查阅被告人前科".into(),
        },
    )
    .await?;
    Ok(users)
}

/// The demo's agencies (their codes in `examples/events.ndjson`).
const DEMO_AGENCIES: &[(&str, AgencyKind)] = &[
    ("110105-ga", AgencyKind::PublicSecurity),
    ("110105-jc", AgencyKind::Procuratorate),
    ("110105-fy", AgencyKind::Court),
    ("110105-jy", AgencyKind::Prison),
    ("110105-sq", AgencyKind::CommunityCorrection),
];

/// A stand-in for the agencies' own systems: takes the notices the outbox delivers, each agency
/// at its own path (`/notices/{agency code}`), and keeps each as received in `DIR/inbox/` (to be
/// checked with `fengcun notice verify`).
struct Inbox {
    url: String,
    received: tokio::sync::mpsc::UnboundedReceiver<(String, serde_json::Value)>,
}

async fn start_inbox(keep: PathBuf) -> anyhow::Result<Inbox> {
    std::fs::create_dir_all(&keep)?;
    let (sender, received) = tokio::sync::mpsc::unbounded_channel::<(String, serde_json::Value)>();
    let app = axum::Router::new().route(
        "/notices/{agency}",
        axum::routing::post(
            move |axum::extract::Path(agency): axum::extract::Path<String>,
                  bytes: axum::body::Bytes| {
                let (sender, keep) = (sender.clone(), keep.clone());
                async move {
                    let Ok(notice) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
                        return axum::http::StatusCode::BAD_REQUEST;
                    };
                    // Notice numbers are `A-Z`, `0-9` and `-`: safe as a file name.
                    if let Some(id) = notice["notice_id"]
                        .as_str()
                        .filter(|id| id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
                    {
                        let _ = std::fs::write(keep.join(format!("{id}.json")), &bytes);
                    }
                    let _ = sender.send((agency, notice));
                    axum::http::StatusCode::OK
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/notices", listener.local_addr()?);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(Inbox { url, received })
}

/// Acknowledges every delivered notice with its token and the receiving agency's own key, as an
/// agency's system would.
async fn acknowledge(
    mut received: tokio::sync::mpsc::UnboundedReceiver<(String, serde_json::Value)>,
    base: String,
    keys: std::collections::BTreeMap<String, String>,
) {
    let client = reqwest::Client::new();
    while let Some((agency, notice)) = received.recv().await {
        let (Some(path), Some(token), Some(key)) = (
            notice["ack"]["path"].as_str(),
            notice["ack"]["token"].as_str(),
            keys.get(&agency),
        ) else {
            continue;
        };
        let acknowledged = client
            .post(format!("{base}{path}"))
            .bearer_auth(key)
            .json(&serde_json::json!({"token": token}))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        tracing::info!(%agency, notice = %notice["notice_id"], title = %notice["title"], acknowledged, "demo agency received a notice");
    }
}

/// 32 random bytes as hex, from the operating system's generator.
fn random_key() -> String {
    fengcun_crypto::random_hex::<32>()
}
