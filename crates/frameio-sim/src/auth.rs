//! Adobe IMS stand-in: the client-credentials token endpoint and the registry of issued
//! bearer tokens that Frame.io paths check.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use crate::config::ServiceAccountSeed;

/// The name under which IMS token requests appear in statistics and fault filters.
pub const IMS_OPERATION: &str = "ims.token";

/// A configured service account: an IMS credential acting as one Frame.io user.
#[derive(Debug, Clone)]
pub struct ServiceAccount {
    /// The IMS client id.
    pub client_id: String,
    /// The IMS client secret.
    pub client_secret: SecretString,
    /// The Frame.io user id it acts as.
    pub user_id: String,
    /// The user's display name.
    pub name: String,
    /// The user's e-mail address.
    pub email: String,
    /// Accounts the user belongs to.
    pub accounts: Vec<String>,
    /// Scopes the credential may request.
    pub scopes: Vec<String>,
}

impl ServiceAccount {
    /// Builds the account from its seed, generating a user id when the seed has none.
    pub fn from_seed(seed: &ServiceAccountSeed) -> Self {
        ServiceAccount {
            client_id: seed.client_id.clone(),
            client_secret: seed.client_secret.clone(),
            user_id: seed
                .user_id
                .clone()
                .unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
            name: seed.name.clone(),
            email: seed.email.clone(),
            accounts: seed.accounts.clone(),
            scopes: seed.scopes.clone(),
        }
    }
}

/// An IMS error: the OAuth error code, its description and the HTTP status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImsError {
    /// HTTP status of the answer.
    pub status: u16,
    /// The OAuth error code, e.g. `invalid_client`.
    pub error: &'static str,
    /// A human-readable description.
    pub description: String,
}

impl ImsError {
    fn new(status: u16, error: &'static str, description: impl Into<String>) -> Self {
        ImsError {
            status,
            error,
            description: description.into(),
        }
    }

    /// The IMS error body.
    pub fn body(&self) -> serde_json::Value {
        json!({"error": self.error, "error_description": self.description})
    }
}

/// The user a valid token belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The IMS client id.
    pub client_id: String,
    /// The Frame.io user id.
    pub user_id: String,
}

#[derive(Debug)]
struct IssuedToken {
    principal: Principal,
    expires_at: Instant,
    revoked: bool,
}

/// Issued tokens and the service accounts allowed to obtain them.
#[derive(Debug)]
pub struct TokenStore {
    accounts: Vec<ServiceAccount>,
    lifetime: Duration,
    issued: HashMap<String, IssuedToken>,
}

impl TokenStore {
    /// A store for these service accounts issuing tokens that live `lifetime`.
    pub fn new(accounts: Vec<ServiceAccount>, lifetime: Duration) -> Self {
        TokenStore {
            accounts,
            lifetime,
            issued: HashMap::new(),
        }
    }

    /// The configured service accounts.
    pub fn accounts(&self) -> &[ServiceAccount] {
        &self.accounts
    }

    /// The service account acting as this user.
    pub fn by_user(&self, user_id: &str) -> Option<&ServiceAccount> {
        self.accounts.iter().find(|a| a.user_id == user_id)
    }

    /// Handles a client-credentials grant given as form fields; answers the token body.
    pub fn grant(
        &mut self,
        form: &HashMap<String, String>,
        now: Instant,
    ) -> Result<serde_json::Value, ImsError> {
        let field = |name: &str| form.get(name).map(String::as_str).filter(|v| !v.is_empty());

        let grant_type = field("grant_type")
            .ok_or_else(|| ImsError::new(400, "invalid_request", "missing grant_type parameter"))?;
        if grant_type != "client_credentials" {
            return Err(ImsError::new(
                400,
                "unsupported_grant_type",
                format!("unsupported grant_type {grant_type}"),
            ));
        }
        let client_id = field("client_id")
            .ok_or_else(|| ImsError::new(400, "invalid_request", "missing client_id parameter"))?;
        let secret = field("client_secret").ok_or_else(|| {
            ImsError::new(400, "invalid_request", "missing client_secret parameter")
        })?;
        let account = self
            .accounts
            .iter()
            .find(|a| a.client_id == client_id && a.client_secret.expose_secret() == secret)
            .ok_or_else(|| ImsError::new(401, "invalid_client", "invalid client credentials"))?;
        let scope = field("scope")
            .ok_or_else(|| ImsError::new(400, "invalid_request", "missing scope parameter"))?;
        check_scopes(scope, &account.scopes)?;

        let principal = Principal {
            client_id: account.client_id.clone(),
            user_id: account.user_id.clone(),
        };
        let token = new_token();
        self.forget_stale(now);
        self.issued.insert(
            token.clone(),
            IssuedToken {
                principal,
                expires_at: now + self.lifetime,
                revoked: false,
            },
        );
        Ok(json!({
            "access_token": token,
            "token_type": "bearer",
            "expires_in": self.lifetime.as_secs(),
        }))
    }

    /// The principal of a bearer token that is known, unexpired and not revoked.
    pub fn authenticate(&self, token: &str, now: Instant) -> Option<Principal> {
        let issued = self.issued.get(token)?;
        (!issued.revoked && issued.expires_at > now).then(|| issued.principal.clone())
    }

    /// Makes tokens expire now: all of them or one client's. Returns how many changed.
    pub fn expire(&mut self, client_id: Option<&str>, now: Instant) -> usize {
        self.each_matching(client_id, |t| t.expires_at = t.expires_at.min(now))
    }

    /// Revokes tokens: all of them or one client's. Returns how many changed.
    pub fn revoke(&mut self, client_id: Option<&str>) -> usize {
        self.each_matching(client_id, |t| t.revoked = true)
    }

    /// Revokes one token. Returns whether it was known.
    pub fn revoke_token(&mut self, token: &str) -> bool {
        self.issued
            .get_mut(token)
            .map(|t| t.revoked = true)
            .is_some()
    }

    fn each_matching(
        &mut self,
        client_id: Option<&str>,
        change: impl Fn(&mut IssuedToken),
    ) -> usize {
        let mut changed = 0;
        for issued in self.issued.values_mut() {
            if client_id.is_none_or(|c| c == issued.principal.client_id) {
                change(issued);
                changed += 1;
            }
        }
        changed
    }

    /// Drops tokens that expired long ago, so that a long benchmark does not grow the map.
    fn forget_stale(&mut self, now: Instant) {
        if self.issued.len() < 10_000 {
            return;
        }
        let horizon = Duration::from_secs(3600);
        self.issued
            .retain(|_, t| now.saturating_duration_since(t.expires_at) < horizon);
    }
}

/// Checks that every requested scope, comma or space separated, is allowed.
fn check_scopes(requested: &str, allowed: &[String]) -> Result<(), ImsError> {
    let unknown: Vec<&str> = requested
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .filter(|s| !allowed.iter().any(|a| a == s))
        .collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(ImsError::new(
            400,
            "invalid_scope",
            format!("invalid scope(s): {}", unknown.join(",")),
        ))
    }
}

/// A random opaque token string.
fn new_token() -> String {
    format!(
        "sim.{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Seed;

    fn store() -> TokenStore {
        let accounts = Seed::default()
            .service_accounts
            .iter()
            .map(ServiceAccount::from_seed)
            .collect();
        TokenStore::new(accounts, Duration::from_secs(60))
    }

    fn form(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn grant_and_authenticate() {
        let mut tokens = store();
        let now = Instant::now();
        let body = tokens
            .grant(
                &form(&[
                    ("grant_type", "client_credentials"),
                    ("client_id", "sim-client-alpha"),
                    ("client_secret", "sim-secret-alpha"),
                    ("scope", "openid AdobeID frame.s2s.all"),
                ]),
                now,
            )
            .expect("grant succeeds");
        let token = body["access_token"].as_str().unwrap();
        assert_eq!(body["expires_in"], 60);
        assert!(tokens.authenticate(token, now).is_some());
        assert!(tokens
            .authenticate(token, now + Duration::from_secs(61))
            .is_none());

        tokens.revoke(Some("sim-client-alpha"));
        assert!(tokens.authenticate(token, now).is_none());
    }

    #[test]
    fn errors_follow_oauth_codes() {
        let mut tokens = store();
        let now = Instant::now();
        let base = [
            ("grant_type", "client_credentials"),
            ("client_id", "sim-client-alpha"),
            ("client_secret", "sim-secret-alpha"),
            ("scope", "openid"),
        ];
        let with = |key: &str, value: &str| {
            let mut f = form(&base);
            f.insert(key.to_owned(), value.to_owned());
            f
        };
        let code = |r: Result<serde_json::Value, ImsError>| r.unwrap_err().error;
        assert_eq!(
            code(tokens.grant(&with("client_secret", "x"), now)),
            "invalid_client"
        );
        assert_eq!(
            code(tokens.grant(&with("scope", "admin"), now)),
            "invalid_scope"
        );
        assert_eq!(
            code(tokens.grant(&with("grant_type", "password"), now)),
            "unsupported_grant_type"
        );
        assert_eq!(
            code(tokens.grant(&with("client_id", ""), now)),
            "invalid_request"
        );
    }
}
