//! The fengcun server: the HTTP API (ingestion, notices, policy), the scheduler that makes pending
//! seals take effect, and the outbox that delivers notices to agencies with retries.
//!
//! `start` binds, spawns the background workers and returns the address, so that tests run a real
//! server on port 0 with a fresh database and an injected clock.

pub mod api;
mod auth;
mod clock;
pub mod config;
pub mod console;
pub mod enrol;
mod error;
mod headers;
pub mod keyfile;
pub mod limits;
pub mod mask;
mod metrics;
mod outbox;
mod scheduler;
pub mod service;
pub mod supervision;
mod throttle;

use std::net::SocketAddr;
use std::sync::Arc;

use fengcun_policy::Policy;
use fengcun_store::SqlStore;
use fengcun_store::prelude::*;
use tokio::sync::RwLock;

pub use clock::{Clock, FixedClock, SystemClock};
pub use config::{ApiKey, Config, ConfigError, Role};
pub use error::ApiError;
pub use fengcun_store::AgencyEndpoint;
pub use service::identity::hash_password;
pub use service::{Caller, ServiceError};

/// Everything a request handler needs.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub policy: Arc<RwLock<Arc<Policy>>>,
    pub clock: Arc<dyn Clock>,
    pub config: Arc<Config>,
    pub metrics: Arc<metrics::Metrics>,
    /// Signs tree heads (and certificates).
    pub signing: Arc<fengcun_crypto::SigningKey>,
    /// Every key that has signed for this database, the current one included (a rotated key's
    /// heads and certificates still verify): registered at start, `GET /api/v1/signing-keys`.
    pub verifying_keys: Arc<Vec<fengcun_crypto::VerifyingKey>>,
    /// Who may see what (docs/disclosure.md).
    pub disclosure: Arc<fengcun_access::Disclosure>,
    /// Slows password guessing per username.
    pub logins: Arc<throttle::LoginThrottle>,
    /// Activation-code guesses, counted per person (docs/person.md) as logins are per username.
    pub activations: Arc<throttle::LoginThrottle>,
    /// Keeps repeated refusals (a revoked key, a missing CSRF token) from filling the log.
    pub repeated_refusals: Arc<throttle::RepeatedRefusals>,
    /// The console dashboard's numbers, counted at most every few seconds (service/records.rs).
    pub dashboard: Arc<service::records::StatsSnapshot>,
    /// The console's policy simulations in memory (service/simulation.rs).
    pub simulations: Arc<service::simulation::Jobs>,
    /// Supervision of queries: the rules and the round's engine (supervision.rs).
    pub supervision: Arc<supervision::Supervision>,
}

/// The timer of a background round (scheduler, outbox, tree heads): the first round comes one
/// period after start, not at once, so that a round never races the requests of the first moments
/// (a test that sets a long period runs the rounds itself), and a slow round delays the next
/// instead of bunching them.
pub(crate) fn rounds(seconds: u64) -> tokio::time::Interval {
    let period = std::time::Duration::from_secs(seconds.max(1));
    let mut interval = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    interval
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl AppState {
    pub async fn context(&self, actor: fengcun_lifecycle::Actor) -> fengcun_store::Context {
        fengcun_store::Context {
            policy: self.policy.read().await.clone(),
            // Violation records are decided by the shipped art. 136 preset (docs/disclosure.md).
            violation_policy: fengcun_store::default_violation_policy(),
            // CPL art. 286 beside it: a juvenile record the statute seals is decided by it.
            juvenile_policy: Some(fengcun_store::default_juvenile_policy()),
            now: self.clock.now(),
            actor,
            issuing: Arc::new(self.config.notices.clone()),
        }
    }
}

/// A running server.
#[derive(Debug)]
pub struct Running {
    pub address: SocketAddr,
    pub state: AppState,
    server: tokio::task::JoinHandle<()>,
    workers: Vec<tokio::task::JoinHandle<()>>,
}

impl Running {
    /// Runs until the process is asked to stop (Ctrl-C or SIGTERM).
    pub async fn wait(self) {
        let _ = self.server.await;
    }

    /// Stops serving and the workers (by reference, so that a holder of the server may go on
    /// owning it, e.g. to clean up after it).
    pub fn stop(&self) {
        self.server.abort();
        for worker in &self.workers {
            worker.abort();
        }
    }
}

/// Loads the master key ring again every few seconds, so that a rotation begun by
/// `fengcun keys rotate-master` while this server runs is seen before any record key is re-wrapped
/// (the command waits twice this long before it re-wraps the first).
async fn refresh_keys(store: Arc<SqlStore>) {
    let mut interval = tokio::time::interval(fengcun_store::RING_REFRESH);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        if let Err(error) = store.refresh_keys().await {
            tracing::warn!(kind = error.kind(), "loading the master key ring failed");
        }
    }
}

/// Binds the address first — a port in use stops the start before anything is written (no
/// migration, no agency, no signed head) — then opens the store, loads the policy in force and
/// serves.
pub async fn start(config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<Running> {
    let listener = bind(&config).await?;
    let keys = fengcun_store::Keys::new(config.master_key()?);
    let store = fengcun_store::open(&config.database, keys).await?;
    serve_on(listener, config, Arc::new(store), clock).await
}

/// As [`start`], with a store already open.
pub async fn start_with_store(
    config: Config,
    store: Arc<SqlStore>,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<Running> {
    let listener = bind(&config).await?;
    serve_on(listener, config, store, clock).await
}

async fn bind(config: &Config) -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(&config.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.listen))
}

async fn serve_on(
    listener: tokio::net::TcpListener,
    config: Config,
    store: Arc<SqlStore>,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<Running> {
    // A policy an operator put in force (POST /api/v1/policy with apply) outlives a restart; the
    // configured one is the default until then.
    let policy = match store.policy_in_force().await? {
        Some((name, version, text)) => {
            let in_force = Policy::from_toml(&format!("policy in force {name} {version}"), &text)?;
            if in_force.name() != config.policy {
                tracing::warn!(configured = %config.policy, in_force = %in_force.name(), "using the policy put in force, not the configured one");
            }
            in_force
        }
        None => config.load_policy()?,
    };
    if policy.meta.records != fengcun_domain::RecordKind::Criminal {
        anyhow::bail!(
            "policy: `{}` decides {} records; the configured policy decides criminal records (violation records are decided by `{}`, in force beside it)",
            policy.name(),
            policy.meta.records.code(),
            fengcun_store::VIOLATION_PRESET
        );
    }
    let policy = Arc::new(policy);
    for agency in &config.agencies {
        store.set_agency(agency).await?;
    }
    let signing = Arc::new(config.signing_key(store.keys().suite())?);
    let current = signing.verifying_key();
    store
        .register_signing_key(
            &current,
            &fengcun_certificate::key_id(&current),
            clock.now(),
        )
        .await?;
    let mut verifying_keys = Vec::new();
    for published in store.signing_keys().await? {
        match fengcun_crypto::VerifyingKey::from_text(&published.public_key) {
            Ok(key) => verifying_keys.push(key),
            Err(error) => {
                tracing::error!(key_id = %published.key_id, %error, "a published signing key does not read")
            }
        }
    }
    let verifying_keys = Arc::new(verifying_keys);
    let disclosure = Arc::new(fengcun_access::Disclosure::cn_default()?);
    let state = AppState {
        signing,
        verifying_keys,
        disclosure,
        logins: Arc::default(),
        activations: Arc::default(),
        repeated_refusals: Arc::default(),
        dashboard: Arc::default(),
        simulations: Arc::default(),
        supervision: Arc::new(supervision::Supervision::shipped()?),
        store: store.clone(),
        policy: Arc::new(RwLock::new(policy)),
        clock,
        config: Arc::new(config),
        metrics: Arc::new(metrics::Metrics::default()),
    };
    service::audit::sign_if_grown(&state).await;
    let address = listener.local_addr()?;
    let router = crate::headers::private_answers(
        api::router(state.clone())
            .merge(console::router(state.clone()))
            .fallback(error::unknown_address)
            .method_not_allowed_fallback(error::method_not_allowed),
    );
    let server = tokio::spawn(async move {
        let shutdown = async {
            let ctrl_c = tokio::signal::ctrl_c();
            #[cfg(unix)]
            {
                let mut term =
                    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    {
                        Ok(term) => term,
                        Err(_) => return,
                    };
                tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
            }
            #[cfg(not(unix))]
            let _ = ctrl_c.await;
        };
        if let Err(error) = axum::serve(listener, router)
            .with_graceful_shutdown(shutdown)
            .await
        {
            tracing::error!(%error, "server stopped");
        }
    });
    let workers = vec![
        tokio::spawn(scheduler::run(state.clone())),
        tokio::spawn(outbox::run(state.clone())),
        tokio::spawn(service::audit::sign_periodically(state.clone())),
        tokio::spawn(refresh_keys(store.clone())),
        tokio::spawn(supervision::run(state.clone())),
    ];
    tracing::info!(%address, policy = %state.policy.read().await.name(), backend = ?store.backend(), "fengcun is listening");
    Ok(Running {
        address,
        state,
        server,
        workers,
    })
}
