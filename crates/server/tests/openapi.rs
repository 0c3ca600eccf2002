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

use serde_json::Value;
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
