//! Authentication: every endpoint but health needs `Authorization: Bearer <key>`; keys are
//! compared by their digest, in constant time.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use crate::AppState;
use crate::config::{Role, key_digest};
use crate::error::ApiError;

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    pub name: String,
    pub role: Role,
    pub agency: Option<String>,
}

impl Caller {
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(ApiError::Forbidden)
        }
    }

    pub fn require_operator(&self) -> Result<(), ApiError> {
        self.require(&[Role::Operator])
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or(ApiError::Unauthenticated)?;
        let key = header
            .strip_prefix("Bearer ")
            .ok_or(ApiError::Unauthenticated)?
            .trim();
        let digest = key_digest(key);
        let found = state
            .config
            .api_keys
            .iter()
            .find(|k| {
                constant_time_eq(
                    k.key_sha256.to_ascii_lowercase().as_bytes(),
                    digest.as_bytes(),
                )
            })
            .ok_or(ApiError::Unauthenticated)?;
        Ok(Caller {
            name: found.name.clone(),
            role: found.role,
            agency: found.agency.clone(),
        })
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
