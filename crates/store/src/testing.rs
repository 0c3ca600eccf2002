//! What the crate's own unit tests share: fresh databases on both engines.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a test fails loudly on a broken fixture"
)]

/// A fresh SQLite file, and a fresh PostgreSQL database when `FENGCUN_TEST_DATABASE_URL` is set.
/// The names hold the process id, so a later run's sweep removes what this one leaves.
pub(crate) async fn fresh_urls(test: &str) -> Vec<String> {
    fengcun_testkit::leftovers::sweep_scratch_dirs();
    let dir = std::env::temp_dir().join(format!("fengcun-unit-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut urls = vec![format!("sqlite://{}", dir.join("store.sqlite").display())];
    if let Ok(url) = std::env::var("FENGCUN_TEST_DATABASE_URL") {
        use sqlx::{Connection, Executor};
        sqlx::any::install_default_drivers();
        let name = format!("fengcun_unit_{test}_{}", std::process::id());
        let mut admin = sqlx::AnyConnection::connect(&url).await.unwrap();
        fengcun_testkit::leftovers::sweep_databases(&mut admin).await;
        admin
            .execute(format!("DROP DATABASE IF EXISTS {name}").as_str())
            .await
            .unwrap();
        admin
            .execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .unwrap();
        let base = url.rsplit_once('/').map(|(base, _)| base).unwrap();
        urls.push(format!("{base}/{name}"));
    }
    urls
}

/// The steps of `sql`'s plan with `params` bound, as the engine describes them. On
/// PostgreSQL sequential scans are off: an empty table is read whole by any planner, and what
/// matters is which index is taken when one is, as at scale.
pub(crate) async fn plan(
    store: &crate::sql::SqlStore,
    sql: &str,
    params: Vec<crate::sql::rows::Param>,
) -> Vec<String> {
    use crate::Store;
    let mut conn = store.pool().acquire().await.unwrap();
    match store.backend() {
        crate::Backend::Sqlite => {
            let explain = format!("EXPLAIN QUERY PLAN {sql}");
            let mut query = sqlx::query_as::<_, (i64, i64, i64, String)>(&explain);
            for param in params {
                query = param.bind_as(query);
            }
            let rows = query.fetch_all(&mut *conn).await.unwrap();
            rows.into_iter().map(|row| row.3).collect()
        }
        crate::Backend::Postgres => {
            sqlx::query("SET enable_seqscan = off")
                .execute(&mut *conn)
                .await
                .unwrap();
            let explain = format!("EXPLAIN {sql}");
            let mut query = sqlx::query_as::<_, (String,)>(&explain);
            for param in params {
                query = param.bind_as(query);
            }
            let rows = query.fetch_all(&mut *conn).await.unwrap();
            sqlx::query("RESET enable_seqscan")
                .execute(&mut *conn)
                .await
                .unwrap();
            rows.into_iter().map(|row| row.0).collect()
        }
    }
}
