//! Configuration: a TOML file, then `FENGCUN_*` environment variables; unknown keys are refused,
//! secrets are hidden from `Debug` and logs.

use std::fmt;
use std::path::{Path, PathBuf};

use fengcun_crypto::{MasterKey, SigningKey};
use fengcun_policy::{Policy, presets};
use fengcun_store::AgencyEndpoint;
use serde::Deserialize;

use crate::keyfile;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{file}: {message}")]
    File { file: String, message: String },
    #[error("environment variable {name}: {message}")]
    Environment { name: String, message: String },
    #[error("policy: {0}")]
    Policy(String),
    #[error("master key: {0}")]
    MasterKey(String),
    #[error("signing key: {0}")]
    SigningKey(String),
}

/// What a key may do (kept with users and keys: the store's enum).
pub use fengcun_store::Role;

/// An API key, stored as the SHA-256 of the key (hex), never the key.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ApiKey {
    pub name: String,
    pub role: Role,
    /// For agency keys: the agency code the key speaks for.
    #[serde(default)]
    pub agency: Option<String>,
    /// Who the key asks as, for look-ups and requests (`court`, `employer`, …).
    #[serde(default)]
    pub requester_kind: Option<fengcun_access::RequesterKind>,
    pub key_sha256: String,
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKey")
            .field("name", &self.name)
            .field("role", &self.role)
            .field("agency", &self.agency)
            .field("requester_kind", &self.requester_kind)
            .field("key_sha256", &"redacted")
            .finish()
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AgencyConfig {
    pub code: String,
    pub kind: String,
    #[serde(default)]
    pub name: Option<String>,
    /// Where notices are POSTed (the agency's webhook).
    #[serde(default)]
    pub endpoint: Option<String>,
}

/// `[notices]`: who issues sealing and unsealing notices, where an unsealing is objected to, and
/// the instrument a policy is cited as being in force under where the deploying authority names
/// another than the policy's own.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct NoticesFile {
    #[serde(default)]
    issuing_authority: Option<String>,
    #[serde(default)]
    violation_issuing_authority: Option<String>,
    #[serde(default)]
    objection_body: Option<String>,
    #[serde(default)]
    objection_days: Option<u32>,
    /// Policy name → instrument.
    #[serde(default)]
    instruments: std::collections::BTreeMap<String, String>,
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    #[serde(default)]
    listen: Option<String>,
    #[serde(default)]
    database: Option<String>,
    #[serde(default)]
    policy: Option<String>,
    #[serde(default)]
    master_key_file: Option<PathBuf>,
    #[serde(default)]
    signing_key_file: Option<PathBuf>,
    #[serde(default)]
    tree_head_interval_seconds: Option<u64>,
    #[serde(default)]
    log_format: Option<String>,
    #[serde(default)]
    scheduler_interval_seconds: Option<u64>,
    #[serde(default)]
    outbox_interval_seconds: Option<u64>,
    #[serde(default)]
    outbox_max_attempts: Option<i64>,
    #[serde(default)]
    certificate_issuer: Option<String>,
    #[serde(default)]
    public_url: Option<String>,
    #[serde(default)]
    notices: Option<NoticesFile>,
    #[serde(default)]
    session_hours: Option<u64>,
    #[serde(default)]
    secure_cookies: Option<bool>,
    #[serde(default)]
    api_keys: Vec<ApiKey>,
    #[serde(default)]
    agencies: Vec<AgencyConfig>,
}

/// The server's configuration.
#[derive(Clone)]
pub struct Config {
    pub listen: String,
    pub database: String,
    /// A shipped policy name or a policy file.
    pub policy: String,
    pub master_key_file: Option<PathBuf>,
    master_key_hex: Option<String>,
    /// The PKCS#8 PEM key that signs tree heads and certificates.
    pub signing_key_file: Option<PathBuf>,
    /// How often a tree head is signed (when the log grew).
    pub tree_head_interval_seconds: u64,
    pub log_format: String,
    pub scheduler_interval_seconds: u64,
    pub outbox_interval_seconds: u64,
    pub outbox_max_attempts: i64,
    /// The agency named on certificates as their issuer.
    pub certificate_issuer: String,
    /// Where the public reaches the platform (`https://host[:port]`, no path): a certificate's QR
    /// code and its printed page point at `{public_url}/verify`. Without it, the QR code carries
    /// the signed token alone (verified offline, `fengcun cert verify --token`) and the page prints
    /// no address: a path without its host leads nowhere from a phone.
    pub public_url: Option<String>,
    /// `[notices]`: the authority that issues and signs notices, the objection route of an
    /// unsealing, and instruments cited instead of a policy's own.
    pub notices: fengcun_lifecycle::Issuing,
    /// How long a console session lasts.
    pub session_hours: u64,
    /// Whether the session cookie is marked `Secure` (HTTPS only); on unless the deployment
    /// serves plain HTTP on loopback.
    pub secure_cookies: bool,
    pub api_keys: Vec<ApiKey>,
    pub agencies: Vec<AgencyEndpoint>,
    /// The user's configuration directory (`$XDG_CONFIG_HOME`, else `$HOME/.config`), from the
    /// environment given to [`Config::load`]: the default master key lives there.
    config_home: Option<PathBuf>,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("database", &redact_url(&self.database))
            .field("policy", &self.policy)
            .field("master_key_file", &self.master_key_file)
            .field(
                "master_key",
                &self.master_key_hex.as_ref().map(|_| "redacted"),
            )
            .field("signing_key_file", &self.signing_key_file)
            .field("log_format", &self.log_format)
            .field("api_keys", &self.api_keys)
            .field("agencies", &self.agencies)
            .finish()
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}://{user}:***@{}", &url[..scheme], &url[at + 1..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Environment variables that configure the server; any other `FENGCUN_*` is refused, except the
/// few the test tooling uses.
const ENVIRONMENT: &[&str] = &[
    "FENGCUN_LISTEN",
    "FENGCUN_DATABASE",
    "FENGCUN_POLICY",
    "FENGCUN_MASTER_KEY",
    "FENGCUN_MASTER_KEY_FILE",
    "FENGCUN_SIGNING_KEY_FILE",
    "FENGCUN_TREE_HEAD_INTERVAL_SECONDS",
    "FENGCUN_LOG_FORMAT",
    "FENGCUN_SCHEDULER_INTERVAL_SECONDS",
    "FENGCUN_OUTBOX_INTERVAL_SECONDS",
];
/// Variables of the test suite and CI, read by tests, never by the platform; and those of the
/// command line that are not the server's (`FENGCUN_PG_BIN`: where `backup` and `restore` find
/// PostgreSQL's client programs, docs/operations.md).
const NOT_CONFIGURATION: &[&str] = &[
    "FENGCUN_PG_BIN",
    "FENGCUN_TEST_DATABASE_URL",
    "FENGCUN_REQUIRE_BROWSER",
    "FENGCUN_UPDATE_SCREENSHOTS",
    "FENGCUN_SHARED_DIR",
    "FENGCUN_CONFIG",
];

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".to_owned(),
            database: "sqlite://fengcun.sqlite".to_owned(),
            policy: "cn-minor-opt1".to_owned(),
            master_key_file: None,
            master_key_hex: None,
            signing_key_file: None,
            tree_head_interval_seconds: 300,
            log_format: "text".to_owned(),
            scheduler_interval_seconds: 60,
            outbox_interval_seconds: 5,
            outbox_max_attempts: 12,
            certificate_issuer: "犯罪记录查询平台".to_owned(),
            public_url: None,
            notices: fengcun_lifecycle::Issuing {
                authority: Some("犯罪记录封存平台".to_owned()),
                violation_authority: Some("违法记录封存平台".to_owned()),
                ..Default::default()
            },
            session_hours: 8,
            secure_cookies: true,
            api_keys: Vec::new(),
            agencies: Vec::new(),
            config_home: None,
        }
    }
}

impl Config {
    /// Defaults, then the file (if any), then the environment.
    pub fn load(
        file: Option<&Path>,
        environment: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut config = Config::default();
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).map_err(|e| ConfigError::File {
                file: path.display().to_string(),
                message: e.to_string(),
            })?;
            config.apply_file(&path.display().to_string(), &text)?;
        }
        let (mut xdg, mut home) = (None, None);
        for (name, value) in environment {
            match name.as_str() {
                "XDG_CONFIG_HOME" => xdg = Some(PathBuf::from(&value)),
                "HOME" => home = Some(PathBuf::from(&value)),
                _ => {}
            }
            if !name.starts_with("FENGCUN_") || NOT_CONFIGURATION.contains(&name.as_str()) {
                continue;
            }
            config.apply_env(&name, value)?;
        }
        // The XDG base directory rules: a relative XDG_CONFIG_HOME is ignored.
        config.config_home = xdg.filter(|dir| dir.is_absolute()).or_else(|| {
            home.filter(|dir| dir.is_absolute())
                .map(|h| h.join(".config"))
        });
        Ok(config)
    }

    pub fn apply_file(&mut self, file: &str, text: &str) -> Result<(), ConfigError> {
        let parsed: FileConfig = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1)
                .unwrap_or(0);
            ConfigError::File {
                file: file.to_owned(),
                message: format!("line {line}: {}", e.message().trim()),
            }
        })?;
        let FileConfig {
            listen,
            database,
            policy,
            master_key_file,
            signing_key_file,
            tree_head_interval_seconds,
            log_format,
            scheduler_interval_seconds,
            outbox_interval_seconds,
            outbox_max_attempts,
            certificate_issuer,
            public_url,
            notices,
            session_hours,
            secure_cookies,
            api_keys,
            agencies,
        } = parsed;
        set(&mut self.certificate_issuer, certificate_issuer);
        if let Some(url) = public_url {
            self.public_url = Some(public_url_of(file, &url)?);
        }
        if let Some(notices) = notices {
            self.apply_notices(file, notices)?;
        }
        set(&mut self.session_hours, session_hours);
        set(&mut self.secure_cookies, secure_cookies);
        set(&mut self.listen, listen);
        set(&mut self.database, database);
        set(&mut self.policy, policy);
        if master_key_file.is_some() {
            self.master_key_file = master_key_file;
        }
        if signing_key_file.is_some() {
            self.signing_key_file = signing_key_file;
        }
        set(
            &mut self.tree_head_interval_seconds,
            tree_head_interval_seconds,
        );
        set(&mut self.log_format, log_format);
        set(
            &mut self.scheduler_interval_seconds,
            scheduler_interval_seconds,
        );
        set(&mut self.outbox_interval_seconds, outbox_interval_seconds);
        set(&mut self.outbox_max_attempts, outbox_max_attempts);
        self.api_keys.extend(api_keys);
        for agency in agencies {
            let Some(kind) = fengcun_domain::AgencyKind::parse(&agency.kind) else {
                let kinds: Vec<&str> = fengcun_domain::AgencyKind::ALL
                    .iter()
                    .map(|k| k.code())
                    .collect();
                return Err(ConfigError::File {
                    file: file.to_owned(),
                    message: format!(
                        "agency `{}`: kind `{}` is not one of {}",
                        agency.code,
                        agency.kind,
                        kinds.join(", ")
                    ),
                });
            };
            if let Some(name) = &agency.name {
                self.notices
                    .agency_names
                    .insert(agency.code.clone(), name.clone());
            }
            self.agencies.push(AgencyEndpoint {
                code: agency.code,
                kind,
                name: agency.name,
                endpoint: agency.endpoint,
            });
        }
        self.check(file)
    }

    fn apply_notices(&mut self, file: &str, notices: NoticesFile) -> Result<(), ConfigError> {
        let refuse = |field: &str, message: &str| ConfigError::File {
            file: file.to_owned(),
            message: format!("notices.{field}: {message}"),
        };
        let text = |field: &str, value: Option<String>| match value {
            Some(v) if v.trim().is_empty() || v.trim() != v || v.chars().any(char::is_control) => {
                Err(refuse(
                    field,
                    "must be a name without surrounding white space or control characters",
                ))
            }
            other => Ok(other),
        };
        if let Some(authority) = text("issuing_authority", notices.issuing_authority)? {
            self.notices.authority = Some(authority);
        }
        if let Some(authority) = text(
            "violation_issuing_authority",
            notices.violation_issuing_authority,
        )? {
            self.notices.violation_authority = Some(authority);
        }
        if let Some(body) = text("objection_body", notices.objection_body)? {
            self.notices.objection_body = Some(body);
        }
        if let Some(days) = notices.objection_days {
            if !(1..=365).contains(&days) {
                return Err(refuse("objection_days", "must be from 1 to 365 days"));
            }
            self.notices.objection_days = Some(days);
        }
        if self.notices.objection_days.is_some() && self.notices.objection_body.is_none() {
            return Err(refuse(
                "objection_days",
                "needs objection_body: a time limit without the body to object to says nothing",
            ));
        }
        for (policy, instrument) in notices.instruments {
            let instrument =
                text(&format!("instruments.{policy}"), Some(instrument))?.unwrap_or_default();
            self.notices.instruments.insert(policy, instrument);
        }
        Ok(())
    }

    fn apply_env(&mut self, name: &str, value: String) -> Result<(), ConfigError> {
        let number = |value: &str| {
            value.parse::<u64>().map_err(|_| ConfigError::Environment {
                name: name.to_owned(),
                message: format!("`{value}` is not a number"),
            })
        };
        match name {
            "FENGCUN_LISTEN" => self.listen = value,
            "FENGCUN_DATABASE" => self.database = value,
            "FENGCUN_POLICY" => self.policy = value,
            "FENGCUN_MASTER_KEY" => self.master_key_hex = Some(value),
            "FENGCUN_MASTER_KEY_FILE" => self.master_key_file = Some(PathBuf::from(value)),
            "FENGCUN_SIGNING_KEY_FILE" => self.signing_key_file = Some(PathBuf::from(value)),
            "FENGCUN_TREE_HEAD_INTERVAL_SECONDS" => {
                self.tree_head_interval_seconds = number(&value)?
            }
            "FENGCUN_LOG_FORMAT" => self.log_format = value,
            "FENGCUN_SCHEDULER_INTERVAL_SECONDS" => {
                self.scheduler_interval_seconds = number(&value)?
            }
            "FENGCUN_OUTBOX_INTERVAL_SECONDS" => self.outbox_interval_seconds = number(&value)?,
            _ => {
                return Err(ConfigError::Environment {
                    name: name.to_owned(),
                    message: format!("unknown setting; known: {}", ENVIRONMENT.join(", ")),
                });
            }
        }
        self.check("environment")
    }

    fn check(&self, source: &str) -> Result<(), ConfigError> {
        if !matches!(self.log_format.as_str(), "text" | "json") {
            return Err(ConfigError::File {
                file: source.to_owned(),
                message: format!("log_format `{}`: expected text or json", self.log_format),
            });
        }
        for key in &self.api_keys {
            let hex_ok =
                key.key_sha256.len() == 64 && key.key_sha256.bytes().all(|b| b.is_ascii_hexdigit());
            if !hex_ok {
                return Err(ConfigError::File {
                    file: source.to_owned(),
                    message: format!(
                        "api key `{}`: key_sha256 must be 64 hex characters",
                        key.name
                    ),
                });
            }
            if key.role == Role::Agency && key.agency.is_none() {
                return Err(ConfigError::File {
                    file: source.to_owned(),
                    message: format!("api key `{}`: an agency key needs `agency`", key.name),
                });
            }
            // The log names callers `user:…` and `key:…`: a configured key named like one would
            // share that caller's name, grants and entries.
            if key.name.starts_with("user:") || key.name.starts_with("key:") {
                return Err(ConfigError::File {
                    file: source.to_owned(),
                    message: format!(
                        "api key `{}`: a configured key's name may not begin with `user:` or `key:` (the names of console users and stored keys)",
                        key.name
                    ),
                });
            }
            // An approver decides as a person, who must never approve their own request: a
            // configured key names no user, so approval could not tell its holder from the
            // asker. Approvers use their login, or a stored key that names its owner.
            if key.role == Role::Approver {
                return Err(ConfigError::File {
                    file: source.to_owned(),
                    message: format!(
                        "api key `{}`: role approver is not for a configured key (it names no owner, so self-approval could not be refused); approvers log in, or use a key made with POST /api/v1/keys naming its owner",
                        key.name
                    ),
                });
            }
        }
        Ok(())
    }

    pub fn load_policy(&self) -> Result<Policy, ConfigError> {
        if let Some(policy) = presets::get(&self.policy) {
            return Ok(policy.clone());
        }
        let text = std::fs::read_to_string(&self.policy).map_err(|e| {
            ConfigError::Policy(format!(
                "`{}` is neither a shipped policy nor a readable file: {e}",
                self.policy
            ))
        })?;
        Policy::from_toml(&self.policy, &text).map_err(|e| ConfigError::Policy(e.to_string()))
    }

    /// The master key: `FENGCUN_MASTER_KEY` (hex), else the key file `master_key_file`, else the
    /// key file an earlier version kept beside the SQLite database if it is there (with a warning
    /// to move it), else the default key file, [`Config::default_master_key_file`], outside the
    /// data directory. For a new SQLite database a key file not yet there is created (mode
    /// 0600), so that nothing has to be set up by hand; for an SQLite database that already
    /// exists it is not: a new key could not open its sealed details, and a mistyped path would
    /// leave a decoy key for the next backup to save. A key file its group or others may read is
    /// refused.
    pub fn master_key(&self) -> Result<MasterKey, ConfigError> {
        if let Some(hex) = &self.master_key_hex {
            return MasterKey::from_hex(hex.trim())
                .map_err(|e| ConfigError::MasterKey(e.to_string()));
        }
        let embedded = self.database.starts_with("sqlite:") && !self.sqlite_database_exists();
        if let Some(path) = &self.master_key_file {
            return master_key_at(path, embedded);
        }
        let beside = default_key_file(&self.database);
        if beside.exists() {
            let key = master_key_at(&beside, false)?;
            tracing::warn!(
                file = %beside.display(),
                recommended = %self.default_master_key_file().unwrap_or_else(|| PathBuf::from("/etc/fengcun/master.key")).display(),
                "the master key sits beside the database, so a copy of the data directory holds both the sealed details and the key that opens them: move the key out of the data directory (to the recommended place, or set master_key_file), and keep its backup apart from the database's"
            );
            return Ok(key);
        }
        let Some(path) = self.default_master_key_file() else {
            return Err(ConfigError::MasterKey(
                "no master key: set master_key_file (FENGCUN_MASTER_KEY_FILE) or FENGCUN_MASTER_KEY; \
                 the default key file ($XDG_CONFIG_HOME/fengcun/master.key or \
                 $HOME/.config/fengcun/master.key) is unknown without HOME"
                    .to_owned(),
            ));
        };
        master_key_at(&path, embedded)
    }

    /// Whether the configured database is an SQLite file that is already there.
    fn sqlite_database_exists(&self) -> bool {
        self.database.starts_with("sqlite:")
            && std::fs::metadata(sqlite_path(&self.database)).is_ok_and(|m| m.len() > 0)
    }

    /// Where the master key is kept when nothing says otherwise: `fengcun/master.key` in the user's
    /// configuration directory (`$XDG_CONFIG_HOME`, else `$HOME/.config`) — away from the data
    /// directory, so that a copy of the database does not carry the key that opens it.
    pub fn default_master_key_file(&self) -> Option<PathBuf> {
        self.config_home
            .as_ref()
            .map(|dir| dir.join("fengcun").join("master.key"))
    }
}

/// The master key in `path`; created there when absent and `create`.
fn master_key_at(path: &Path, create: bool) -> Result<MasterKey, ConfigError> {
    let parse = |text: &str| {
        MasterKey::from_hex(text.trim())
            .map_err(|e| ConfigError::MasterKey(format!("{}: {e}", path.display())))
    };
    match keyfile::read_private(path) {
        Ok(text) => parse(&text),
        Err(error) if error.is_not_found() && create => {
            let failed =
                |e: std::io::Error| ConfigError::MasterKey(format!("{}: {e}", path.display()));
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                keyfile::create_directory(dir).map_err(failed)?;
            }
            let key = MasterKey::generate();
            if !keyfile::create(path, &format!("{}\n", key.to_hex()), keyfile::Access::Owner)
                .map_err(failed)?
            {
                // Another process made it first: its key is the database's.
                let text = keyfile::read_private(path)
                    .map_err(|e| ConfigError::MasterKey(e.to_string()))?;
                return parse(&text);
            }
            tracing::warn!(file = %path.display(), "created a new master key; back it up, apart from the database's backups: without it the sealed details cannot be read");
            Ok(key)
        }
        Err(error) if error.is_not_found() => Err(ConfigError::MasterKey(format!(
            "{error} (set master_key_file, FENGCUN_MASTER_KEY_FILE or FENGCUN_MASTER_KEY; \
             a database that exists is opened only by the key it was made with: check the path \
             for a typing mistake, or restore the key from its backup — a new one is not made)"
        ))),
        Err(error) => Err(ConfigError::MasterKey(error.to_string())),
    }
}

/// A public address as configured: `http(s)://host[:port]` without path, query or credentials,
/// without its trailing `/`.
fn public_url_of(file: &str, url: &str) -> Result<String, ConfigError> {
    let trimmed = url.trim_end_matches('/');
    let rest = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !host.contains(['/', '?', '#', '@', ' ']) => {
            Ok(trimmed.to_owned())
        }
        _ => Err(ConfigError::File {
            file: file.to_owned(),
            message: format!(
                "public_url `{url}`: expected https://host or https://host:port, without a path"
            ),
        }),
    }
}

impl Config {
    /// Agency keys whose agency is not in `[[agencies]]` (key name, agency code): their events are
    /// refused (403) until the agency is configured or registered — `serve` warns of them at
    /// start, rather than the agency finding out from its first refused batch.
    pub fn keys_of_unconfigured_agencies(&self) -> Vec<(&str, &str)> {
        self.api_keys
            .iter()
            .filter(|key| key.role == Role::Agency)
            .filter_map(|key| Some((key.name.as_str(), key.agency.as_deref()?)))
            .filter(|(_, agency)| !self.agencies.iter().any(|a| a.code == *agency))
            .collect()
    }

    /// How a page or a document names an agency: the name it is configured with (`[[agencies]]`
    /// `name`), else its code.
    pub fn agency_name(&self, code: &str) -> String {
        self.agencies
            .iter()
            .find(|a| a.code == code)
            .and_then(|a| a.name.clone())
            .unwrap_or_else(|| code.to_owned())
    }

    /// The key that signs tree heads and certificates: the configured PEM file, or — the first
    /// time an embedded database is used — a new key of the master key's suite, created beside it
    /// (`fengcun.sqlite.signing.pem`, with the public key in `fengcun.sqlite.signing.pub.pem` for
    /// verifiers). A key file its group or others may read is refused.
    pub fn signing_key(&self, suite: fengcun_crypto::Suite) -> Result<SigningKey, ConfigError> {
        let path = self.signing_key_file.clone().unwrap_or_else(|| {
            PathBuf::from(format!("{}.signing.pem", sqlite_path(&self.database)))
        });
        let parse = |text: &str| {
            SigningKey::from_pkcs8_pem(text)
                .map_err(|e| ConfigError::SigningKey(format!("{}: {e}", path.display())))
        };
        match keyfile::read_private(&path) {
            Ok(text) => parse(&text),
            Err(error)
                if error.is_not_found()
                    && self.signing_key_file.is_none()
                    && self.database.starts_with("sqlite:") =>
            {
                let failed = |file: &Path, e: std::io::Error| {
                    ConfigError::SigningKey(format!("{}: {e}", file.display()))
                };
                let key = SigningKey::generate(suite);
                let pem = key
                    .to_pkcs8_pem()
                    .map_err(|e| ConfigError::SigningKey(e.to_string()))?;
                if !keyfile::create(
                    &path,
                    &format!("{}\n", pem.trim_end()),
                    keyfile::Access::Owner,
                )
                .map_err(|e| failed(&path, e))?
                {
                    // Another process made it first: that key is the one.
                    let text = keyfile::read_private(&path)
                        .map_err(|e| ConfigError::SigningKey(e.to_string()))?;
                    return parse(&text);
                }
                // The public key of the new key replaces any left from an earlier one.
                let public = public_key_path(&path);
                match std::fs::remove_file(&public) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                        return Err(failed(&public, e));
                    }
                    _ => {}
                }
                keyfile::create(
                    &public,
                    &key.verifying_key().to_text(),
                    keyfile::Access::Everyone,
                )
                .map_err(|e| failed(&public, e))?;
                tracing::warn!(file = %path.display(), public = %public.display(), "created a new signing key for tree heads and certificates; give the public key to auditors and verifiers");
                Ok(key)
            }
            Err(error) if error.is_not_found() => Err(ConfigError::SigningKey(format!(
                "{error} (set signing_key_file or FENGCUN_SIGNING_KEY_FILE)"
            ))),
            Err(error) => Err(ConfigError::SigningKey(error.to_string())),
        }
    }
}

/// `x.signing.pem` → `x.signing.pub.pem`.
pub fn public_key_path(private: &Path) -> PathBuf {
    let text = private.display().to_string();
    PathBuf::from(match text.strip_suffix(".pem") {
        Some(stem) => format!("{stem}.pub.pem"),
        None => format!("{text}.pub.pem"),
    })
}

fn sqlite_path(database: &str) -> &str {
    database
        .strip_prefix("sqlite://")
        .or_else(|| database.strip_prefix("sqlite:"))
        .map(|p| p.split('?').next().unwrap_or(p))
        .unwrap_or("fengcun")
}

fn set<T>(target: &mut T, value: Option<T>) {
    if let Some(value) = value {
        *target = value;
    }
}

/// `fengcun.sqlite` keeps its key in `fengcun.sqlite.key`.
fn default_key_file(database: &str) -> PathBuf {
    PathBuf::from(format!("{}.key", sqlite_path(database)))
}

/// The SHA-256 of a key, as stored in `api_keys`.
pub fn key_digest(key: &str) -> String {
    fengcun_crypto::hash(fengcun_crypto::Suite::International, key.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_public_url_is_a_host_without_a_path() {
        let mut config = Config::default();
        config
            .apply_file(
                "f.toml",
                "public_url = \"https://fengcun.example.gov.cn/\"\n",
            )
            .unwrap();
        assert_eq!(
            config.public_url.as_deref(),
            Some("https://fengcun.example.gov.cn")
        );
        for wrong in [
            "fengcun.example.gov.cn",
            "https://",
            "https://fengcun.example.gov.cn/verify",
            "https://user:pw@fengcun.example.gov.cn",
            "ftp://fengcun.example.gov.cn",
        ] {
            let error = Config::default()
                .apply_file("f.toml", &format!("public_url = \"{wrong}\"\n"))
                .unwrap_err()
                .to_string();
            assert!(
                error.contains("f.toml") && error.contains("public_url"),
                "{wrong}: {error}"
            );
        }
    }

    #[test]
    fn unknown_keys_and_variables_are_refused() {
        let mut config = Config::default();
        let error = config
            .apply_file("f.toml", "listen = \"127.0.0.1:1\"\nlisen = \"x\"\n")
            .unwrap_err();
        assert!(
            error.to_string().contains("line 2") && error.to_string().contains("lisen"),
            "{error}"
        );
        let error = Config::load(None, [("FENGCUN_LISTN".to_owned(), "x".to_owned())]).unwrap_err();
        assert!(error.to_string().contains("FENGCUN_LISTN"), "{error}");
        let ok = Config::load(
            None,
            [
                ("FENGCUN_TEST_DATABASE_URL".to_owned(), "x".to_owned()),
                ("FENGCUN_REQUIRE_BROWSER".to_owned(), "1".to_owned()),
                ("FENGCUN_UPDATE_SCREENSHOTS".to_owned(), "1".to_owned()),
                // The command line's, for `backup` and `restore` (docs/operations.md).
                (
                    "FENGCUN_PG_BIN".to_owned(),
                    "/usr/lib/postgresql/15/bin".to_owned(),
                ),
                ("PATH".to_owned(), "/bin".to_owned()),
            ],
        );
        assert!(ok.is_ok());
    }

    /// An agency's configured kind is what its key's events are held to: a misspelt one is refused
    /// at start, not found out when every event of the agency is refused.
    /// `[notices]` as docs/operations.md shows it; a bad value is refused naming its field.
    #[test]
    fn notices_name_their_authority_and_objection_route() {
        let mut config = Config::default();
        assert_eq!(
            config.notices.authority.as_deref(),
            Some("犯罪记录封存平台")
        );
        // A violation record's notices are not the criminal-record platform's, nor a court's.
        assert_eq!(
            config.notices.violation_authority.as_deref(),
            Some("违法记录封存平台")
        );
        config
            .apply_file(
                "f.toml",
                "[notices]\nissuing_authority = \"北京市朝阳区人民法院\"\nviolation_issuing_authority = \"北京市公安局朝阳分局\"\nobjection_body = \"北京市朝阳区人民检察院\"\n\
                 objection_days = 30\n[notices.instruments]\ncn-minor-opt1 = \"《某省轻微犯罪记录封存试点办法》\"\n",
            )
            .unwrap();
        let notices = &config.notices;
        assert_eq!(notices.authority.as_deref(), Some("北京市朝阳区人民法院"));
        assert_eq!(
            notices.violation_authority.as_deref(),
            Some("北京市公安局朝阳分局")
        );
        assert_eq!(
            notices.objection_body.as_deref(),
            Some("北京市朝阳区人民检察院")
        );
        assert_eq!(notices.objection_days, Some(30));
        let opt1 = fengcun_policy::presets::get("cn-minor-opt1").unwrap();
        assert_eq!(
            notices.instrument(&opt1.meta),
            "《某省轻微犯罪记录封存试点办法》"
        );
        let opt2 = fengcun_policy::presets::get("cn-minor-opt2").unwrap();
        assert!(
            notices
                .instrument(&opt2.meta)
                .ends_with("第二种意见（研究方案，尚非有效法律文件）")
        );
        for (text, message) in [
            (
                "[notices]\nissuing_authority = \" \"\n",
                "notices.issuing_authority: must be a name",
            ),
            (
                "[notices]\nviolation_issuing_authority = \"\"\n",
                "notices.violation_issuing_authority: must be a name",
            ),
            (
                "[notices]\nobjection_body = \"某院\"\nobjection_days = 0\n",
                "notices.objection_days: must be from 1 to 365 days",
            ),
            (
                "[notices]\nobjection_days = 30\n",
                "notices.objection_days: needs objection_body",
            ),
            (
                "[notices.instruments]\ncn-minor-opt1 = \"\"\n",
                "notices.instruments.cn-minor-opt1: must be a name",
            ),
            (
                "[notices]\nauthority = \"某院\"\n",
                "unknown field `authority`",
            ),
        ] {
            let error = Config::default()
                .apply_file("f.toml", text)
                .unwrap_err()
                .to_string();
            assert!(error.contains(message), "{text}: {error}");
        }
    }

    /// A key for an agency the configuration does not list is named at start: its events would
    /// be refused until the agency is registered.
    #[test]
    fn keys_of_agencies_not_configured_are_named() {
        let digest = |c: char| c.to_string().repeat(64);
        let mut config = Config::default();
        config
            .apply_file(
                "f.toml",
                &format!(
                    "[[api_keys]]\nname = \"court\"\nrole = \"agency\"\nagency = \"110105-fy\"\nkey_sha256 = \"{}\"\n\
                     [[api_keys]]\nname = \"police\"\nrole = \"agency\"\nagency = \"110105-ga\"\nkey_sha256 = \"{}\"\n\
                     [[agencies]]\ncode = \"110105-ga\"\nkind = \"public_security\"\n",
                    digest('a'),
                    digest('b')
                ),
            )
            .unwrap();
        assert_eq!(
            config.keys_of_unconfigured_agencies(),
            vec![("court", "110105-fy")]
        );
    }

    #[test]
    fn a_configured_key_is_never_an_approvers() {
        let digest = "a".repeat(64);
        let mut config = Config::default();
        let error = config
            .apply_file(
                "f.toml",
                &format!("[[api_keys]]\nname = \"desk\"\nrole = \"approver\"\nrequester_kind = \"court\"\nkey_sha256 = \"{digest}\"\n"),
            )
            .unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("f.toml: api key `desk`: role approver is not for a configured key"),
            "{error}"
        );
        let mut config = Config::default();
        let error = config
            .apply_file(
                "f.toml",
                &format!("[[api_keys]]\nname = \"user:alice\"\nrole = \"clerk\"\nrequester_kind = \"court\"\nkey_sha256 = \"{digest}\"\n"),
            )
            .unwrap_err();
        assert!(
            error.to_string().contains("may not begin with `user:`"),
            "{error}"
        );
        let mut config = Config::default();
        config
            .apply_file(
                "f.toml",
                &format!("[[api_keys]]\nname = \"desk\"\nrole = \"clerk\"\nrequester_kind = \"court\"\nkey_sha256 = \"{digest}\"\n"),
            )
            .unwrap();
    }

    #[test]
    fn an_agency_kind_must_be_a_known_kind() {
        let mut config = Config::default();
        let error = config
            .apply_file(
                "f.toml",
                "[[agencies]]\ncode = \"110105-ga\"\nkind = \"police\"\n",
            )
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "f.toml: agency `110105-ga`: kind `police` is not one of public_security, procuratorate, court, prison, community_correction, state_security"
        );
        let mut config = Config::default();
        config
            .apply_file(
                "f.toml",
                "[[agencies]]\ncode = \"110105-ga\"\nkind = \"public_security\"\n",
            )
            .unwrap();
    }

    /// An agency's configured name is what its notices address it by.
    #[test]
    fn an_agencys_configured_name_goes_to_its_notices() {
        let mut config = Config::default();
        config
            .apply_file(
                "f.toml",
                "[[agencies]]\ncode = \"110105-ga\"\nkind = \"public_security\"\nname = \"北京市公安局朝阳分局\"\n\n[[agencies]]\ncode = \"110105-fy\"\nkind = \"court\"\n",
            )
            .unwrap();
        assert_eq!(
            config.notices.agency_names,
            [("110105-ga".to_owned(), "北京市公安局朝阳分局".to_owned())].into()
        );
    }

    #[test]
    fn the_environment_overrides_the_file() {
        let dir = std::env::temp_dir().join(format!("fengcun-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("fengcun.toml");
        std::fs::write(
            &file,
            "listen = \"127.0.0.1:9000\"\npolicy = \"cn-minor-opt2\"\n",
        )
        .unwrap();
        let config = Config::load(
            Some(&file),
            [("FENGCUN_LISTEN".to_owned(), "127.0.0.1:9001".to_owned())],
        )
        .unwrap();
        assert_eq!(
            (config.listen.as_str(), config.policy.as_str()),
            ("127.0.0.1:9001", "cn-minor-opt2")
        );
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn secrets_stay_out_of_debug_output() {
        let mut config = Config::load(
            None,
            [
                ("FENGCUN_MASTER_KEY".to_owned(), "ab".repeat(32)),
                (
                    "FENGCUN_DATABASE".to_owned(),
                    "postgres://u:hunter2@db/x".to_owned(),
                ),
            ],
        )
        .unwrap();
        config.api_keys.push(ApiKey {
            name: "k".into(),
            role: Role::Operator,
            agency: None,
            requester_kind: None,
            key_sha256: key_digest("s3cret"),
        });
        let shown = format!("{config:?}");
        assert!(
            !shown.contains("abab")
                && !shown.contains("hunter2")
                && !shown.contains(&key_digest("s3cret")),
            "{shown}"
        );
    }

    fn scratch(test: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("fengcun-config-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("data")).unwrap();
        dir
    }

    fn env(pairs: &[(&str, &Path)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(name, value)| ((*name).to_owned(), value.display().to_string()))
            .collect()
    }

    #[test]
    fn a_new_master_key_is_made_outside_the_data_directory_owner_only() {
        let dir = scratch("newkey");
        let config_home = dir.join("config");
        let mut config = Config::load(None, env(&[("XDG_CONFIG_HOME", &config_home)])).unwrap();
        config.database = format!("sqlite://{}", dir.join("data/f.sqlite").display());
        let key = config.master_key().unwrap();
        let file = config_home.join("fengcun/master.key");
        assert_eq!(config.default_master_key_file(), Some(file.clone()));
        assert_eq!(
            std::fs::read_to_string(&file).unwrap().trim(),
            key.to_hex().as_str()
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{mode:o}");
            let mode = std::fs::metadata(file.parent().unwrap())
                .unwrap()
                .permissions()
                .mode()
                & 0o777;
            assert_eq!(mode, 0o700, "{mode:o}");
        }
        let data: Vec<_> = std::fs::read_dir(dir.join("data")).unwrap().collect();
        assert!(data.is_empty(), "nothing beside the database: {data:?}");
        assert_eq!(
            config.master_key().unwrap().to_hex(),
            key.to_hex(),
            "read back"
        );
        // Without XDG_CONFIG_HOME: ~/.config.
        let home = Config::load(None, env(&[("HOME", &dir.join("home"))])).unwrap();
        assert_eq!(
            home.default_master_key_file(),
            Some(dir.join("home/.config/fengcun/master.key"))
        );
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_master_key_kept_beside_the_database_is_still_read() {
        let dir = scratch("legacy");
        let database = dir.join("data/f.sqlite");
        let legacy = dir.join("data/f.sqlite.key");
        let ours = MasterKey::generate();
        keyfile::create(&legacy, &ours.to_hex(), keyfile::Access::Owner).unwrap();
        let config_home = dir.join("config");
        let mut config = Config::load(None, env(&[("XDG_CONFIG_HOME", &config_home)])).unwrap();
        config.database = format!("sqlite://{}", database.display());
        assert_eq!(config.master_key().unwrap().to_hex(), ours.to_hex());
        assert!(!config_home.exists(), "no second key made");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn no_new_key_is_made_for_a_database_that_exists() {
        let dir = scratch("typo");
        let database = dir.join("data/f.sqlite");
        std::fs::write(&database, b"SQLite format 3\0").unwrap();
        let mut config = Config::load(None, std::iter::empty()).unwrap();
        config.database = format!("sqlite://{}", database.display());
        let mistyped = dir.join("keys/master.kye");
        config.master_key_file = Some(mistyped.clone());
        let error = config.master_key().err().unwrap().to_string();
        assert!(
            error.contains("master.kye") && error.contains("a new one is not made"),
            "{error}"
        );
        assert!(!mistyped.exists(), "no decoy key");
        assert!(!dir.join("keys").exists(), "no directory for it either");
        // The default key file is not made for it either.
        let config_home = dir.join("config");
        let mut default = Config::load(None, env(&[("XDG_CONFIG_HOME", &config_home)])).unwrap();
        default.database = config.database.clone();
        assert!(default.master_key().is_err());
        assert!(!config_home.exists());
        // A new (absent or empty) database still gets its key made.
        std::fs::write(&database, b"").unwrap();
        assert!(config.master_key().is_ok());
        assert!(mistyped.exists());
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn without_a_home_the_master_key_must_be_named() {
        let mut config = Config::load(None, std::iter::empty()).unwrap();
        config.database = "sqlite://nowhere/f.sqlite".to_owned();
        let error = config.master_key().err().unwrap().to_string();
        assert!(
            error.contains("master_key_file") && error.contains("FENGCUN_MASTER_KEY_FILE"),
            "{error}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn key_files_others_may_read_are_refused() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = scratch("exposed");
        let master = dir.join("master.key");
        std::fs::write(&master, MasterKey::generate().to_hex()).unwrap();
        std::fs::set_permissions(&master, std::fs::Permissions::from_mode(0o644)).unwrap();
        let signing = dir.join("signing.pem");
        let pem = SigningKey::generate(fengcun_crypto::Suite::Sm)
            .to_pkcs8_pem()
            .unwrap();
        std::fs::write(&signing, pem.as_bytes()).unwrap();
        std::fs::set_permissions(&signing, std::fs::Permissions::from_mode(0o640)).unwrap();
        let config = Config::load(
            None,
            env(&[
                ("FENGCUN_MASTER_KEY_FILE", &master),
                ("FENGCUN_SIGNING_KEY_FILE", &signing),
            ]),
        )
        .unwrap();
        for error in [
            config.master_key().err().unwrap().to_string(),
            config
                .signing_key(fengcun_crypto::Suite::Sm)
                .err()
                .unwrap()
                .to_string(),
        ] {
            assert!(error.contains("chmod 600"), "{error}");
        }
        let _ = std::fs::remove_dir_all(dir);
    }
}
