//! The OpenAPI document: derived from the routes (utoipa), served at `/api/openapi.json`,
//! snapshot-tested (a change to the API shows in review: `tests/snapshots/`), and matching the
//! routes the server answers, both ways.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a test fails loudly on a broken fixture"
)]

use fengcun_server::Role;
use std::collections::BTreeSet;

use serde_json::{Value, json};
use support::{Engine, Server, api_key, engines};

mod support;

const OPERATOR: &str = "operator-key-for-openapi-tests";

async fn server(engine: Engine) -> Server {
    let mut config = support::config("cn-minor-opt1");
    config.api_keys = vec![api_key("ops", Role::Operator, None, None, OPERATOR)];
    Server::start(config, "2025-01-01T00:00:00Z", engine, "openapi").await
}

async fn served_document(server: &Server) -> Value {
    let (status, document) = server.get("/api/openapi.json", OPERATOR).await;
    assert_eq!(status.as_u16(), 200);
    document
}

/// The document as served; a change to the API changes the snapshot, which review sees. (The
/// version is the crate's, replaced so that a release does not change the snapshot.)
#[tokio::test]
async fn the_served_document_is_the_snapshot() {
    let server = server(Engine::Sqlite).await;
    let mut document = served_document(&server).await;
    assert_eq!(document["openapi"], "3.1.0");
    assert_eq!(document["info"]["version"], env!("CARGO_PKG_VERSION"));
    document["info"]["version"] = "[version]".into();
    insta::assert_json_snapshot!("openapi", document);
}

/// The paths an axum router routes, read from its `Debug` form (axum has no other way to list
/// them): `RouteId(n): "/path"` in the node of its path router (not of its fallback router, which
/// holds axum's own `/` and `/{*__private__axum_fallback}`).
fn routed_paths(router: &axum::Router) -> BTreeSet<String> {
    let debug = format!("{router:?}");
    let (path_router, _) = debug
        .split_once(", fallback_router: ")
        .unwrap_or_else(|| panic!("no fallback_router after the path router in {debug}"));
    let paths: BTreeSet<String> = path_router
        .split("RouteId(")
        .skip(1)
        .filter_map(|part| {
            let (_, rest) = part.split_once("): \"")?;
            rest.split_once('"').map(|(path, _)| path.to_owned())
        })
        .filter(|path| !path.contains("__private__axum"))
        .collect();
    // The parse is not silently empty if axum's Debug form changes.
    assert!(paths.len() >= 30, "{} paths in {debug}", paths.len());
    paths
}

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// What the router answers to `method path` without credentials: 405 for a method it does not
/// route, an empty 404 for a path it does not know, else the handler's own answer.
async fn answer(server: &Server, method: &str, path: &str) -> (u16, String) {
    let url = format!("{}{path}", server.base);
    let method = reqwest::Method::from_bytes(method.to_ascii_uppercase().as_bytes()).unwrap();
    let response = server.http.request(method, url).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

/// Every operation in the document is routed, and every method the router serves on a
/// documented path is documented: asked with each method, the server answers through a handler
/// (its own status, a JSON error naming one) exactly where the document has an operation, and
/// 405 elsewhere. Runs on every engine the harness has.
#[tokio::test]
async fn every_route_is_documented_and_every_documented_route_is_served() {
    for engine in engines() {
        let server = server(engine).await;
        let document = served_document(&server).await;
        let paths = document["paths"].as_object().unwrap();
        assert!(paths.len() >= 30, "{engine:?}: {}", paths.len());
        for (path, item) in paths {
            // A path parameter becomes a value no row has.
            let concrete = path
                .split('/')
                .map(|part| {
                    if part.starts_with('{') {
                        "no-such-thing"
                    } else {
                        part
                    }
                })
                .collect::<Vec<_>>()
                .join("/");
            for method in METHODS {
                let (status, body) = answer(&server, method, &concrete).await;
                if item.get(method).is_some() {
                    assert_ne!(
                        status, 405,
                        "{engine:?}: {method} {path} is documented, not routed"
                    );
                    assert!(
                        !(status == 404 && body.is_empty()),
                        "{engine:?}: {method} {path} is documented, not routed"
                    );
                } else {
                    assert_eq!(
                        status, 405,
                        "{engine:?}: {method} {path} is routed ({status}: {body}), not documented"
                    );
                }
            }
        }
        // A path the document does not have is not served either: the router the server runs
        // (built as `start` builds it) routes exactly the documented paths, whichever way a route
        // was added to it (`routes!`, or `route` on the OpenApiRouter or on the axum Router).
        assert_eq!(answer(&server, "get", "/api/v1/nowhere").await.0, 404);
        let routed = routed_paths(&fengcun_server::api::router(server.running.state.clone()));
        let documented: BTreeSet<String> = paths.keys().cloned().collect();
        assert_eq!(
            routed.difference(&documented).collect::<Vec<_>>(),
            Vec::<&String>::new(),
            "{engine:?}: routed, not documented"
        );
        assert_eq!(routed, documented, "{engine:?}");
        server.stop();
    }
}

/// Every response has a description, and no answer is a bare object but the OpenAPI document
/// itself: each names its fields.
#[tokio::test]
async fn every_response_is_described_and_typed() {
    let server = server(Engine::Sqlite).await;
    let document = served_document(&server).await;
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            for (status, response) in operation["responses"].as_object().unwrap() {
                let description = response["description"].as_str().unwrap_or_default();
                assert!(!description.is_empty(), "{method} {path} {status}");
                for content in response["content"].as_object().into_iter().flatten() {
                    let schema = &content.1["schema"];
                    if path != "/api/openapi.json" {
                        assert_ne!(
                            schema,
                            &json!({"type": "object"}),
                            "{method} {path} {status}"
                        );
                    }
                }
            }
        }
    }
    server.stop();
}

/// The documented `Event` has exactly the fields the domain reads, at every level: a domain event
/// with every field given, written out, has the documented schema's properties as its keys.
#[tokio::test]
async fn the_documented_event_is_the_domain_event() {
    use fengcun_domain::event::{
        Agency, AgencyKind, Event, EventCharge, EventKind, EventPerson, EventViolation, Instance,
        Judgment, JudgmentVerdict,
    };
    let server = server(Engine::Sqlite).await;
    let document = served_document(&server).await;
    let charge = EventCharge {
        name: "盗窃罪".into(),
        article: Some("264".into()),
        culpability: Some("intentional".into()),
    };
    let inner = Event {
        idempotency_key: "k0".into(),
        kind: EventKind::Filed,
        date: "2024-01-01".into(),
        case_code: None,
        agency: Agency {
            kind: AgencyKind::PublicSecurity,
            code: "110105-ga".into(),
            name: None,
        },
        document_number: None,
        person: EventPerson {
            id_number: None,
            document_type: None,
            document_number: None,
            name: None,
            birth_date: None,
        },
        charges: vec![],
        offence_date: None,
        ground: None,
        prior_convictions: None,
        judgment: None,
        corrects: None,
        replacement: None,
        reason: None,
        violations: vec![],
        penalty: None,
        review: None,
    };
    let event = Event {
        idempotency_key: "k1".into(),
        kind: EventKind::Correction,
        date: "2024-03-01".into(),
        case_code: Some("110105-2024-000001".into()),
        agency: Agency {
            kind: AgencyKind::Court,
            code: "110105-fy".into(),
            name: Some("某区人民法院".into()),
        },
        document_number: Some("(2024)某刑初000001号".into()),
        person: EventPerson {
            id_number: Some("110105199003070025".into()),
            document_type: Some("passport".into()),
            document_number: Some("E1".into()),
            name: Some("测试人".into()),
            birth_date: Some("1990-03-07".into()),
        },
        charges: vec![charge.clone()],
        offence_date: Some("2024-01-01".into()),
        ground: Some("discretionary".into()),
        prior_convictions: Some(0),
        judgment: Some(Judgment {
            instance: Instance::First,
            verdict: JudgmentVerdict::Convicted,
            charges: vec![charge],
            sentence: Some(json!({"principal": "fixed_term", "months": 7})),
            offence_date: Some("2024-01-01".into()),
            recidivist: Some(false),
            prior_convictions: Some(0),
            sealed_juvenile_priors: Some(0),
            main_conduct_under_18: Some(false),
            combined_sentence: Some(json!({"principal": "fixed_term", "months": 7})),
            combined_with: vec!["110105-2023-000001".into()],
            conditions: Some(json!({})),
        }),
        corrects: Some("k0".into()),
        replacement: Some(Box::new(inner)),
        reason: Some("更正".into()),
        violations: vec![EventViolation {
            name: "殴打他人".into(),
            article: Some("51".into()),
        }],
        penalty: Some(json!({"detention_days": 5})),
        review: Some("reconsideration".into()),
    };
    let schemas = &document["components"]["schemas"];
    let written = serde_json::to_value(&event).unwrap();
    let mut checked = 0;
    same_keys(schemas, &schemas["Event"], &written, "Event", &mut checked);
    // Event, its agency, person, charges, judgment, the judgment's charges and the violations.
    assert!(checked >= 7, "{checked}");
    server.stop();
}

/// `value`'s keys are `schema`'s properties, and likewise down every property whose schema names
/// its own (through `$ref`, an optional's `oneOf` and an array's `items`).
fn same_keys(schemas: &Value, schema: &Value, value: &Value, at: &str, checked: &mut usize) {
    let resolve = |schema: &Value| -> Value {
        let mut schema = schema.clone();
        loop {
            if let Some(reference) = schema["$ref"].as_str() {
                schema = schemas[reference.rsplit('/').next().unwrap()].clone();
            } else if let Some(options) = schema["oneOf"].as_array() {
                schema = options
                    .iter()
                    .find(|o| o["type"] != "null")
                    .unwrap()
                    .clone();
            } else if schema["items"].is_object() {
                schema = schema["items"].clone();
            } else {
                return schema;
            }
        }
    };
    let schema = resolve(schema);
    let Some(properties) = schema["properties"].as_object() else {
        return;
    };
    let value = match value {
        Value::Array(items) => items.first().unwrap_or(&Value::Null),
        other => other,
    };
    let Some(object) = value.as_object() else {
        return;
    };
    let documented: BTreeSet<&String> = properties.keys().collect();
    let written: BTreeSet<&String> = object.keys().collect();
    assert_eq!(documented, written, "{at}");
    *checked += 1;
    for (key, property) in properties {
        same_keys(
            schemas,
            property,
            &object[key],
            &format!("{at}.{key}"),
            checked,
        );
    }
}
