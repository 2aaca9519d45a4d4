//! The authentication handshake, as the distribution spec has it: a 401's `WWW-Authenticate`
//! says `Basic` (send the credentials on every request) or `Bearer realm=…,service=…,scope=…`
//! (trade them for a token at the realm, cached per scope list). [`Client::send`] answers one
//! challenge per request; a refusal after that is an error at once, never retried. Where the
//! credentials come from is [`super::credentials`]'.

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde_json::Value;

use super::credentials::CredentialProblem;
use super::{urlencode, Client, Method, RegistryError, Reply, Req};

// Also named through `auth`, where they were before the credentials module (`drydock login`).
pub use super::credentials::{remove_credential, store_credential, Credential, Secret};

/// What a client authenticates with, and what the registry's challenges taught it.
pub(super) struct Auth {
    pub(super) credential: Credential,
    /// Where the credential came from (`None`: given by the caller, as login does, or none).
    source: Option<String>,
    /// The credential was given by the caller (login), not looked up.
    given: bool,
    /// What could not be read while looking the credential up.
    pub(super) problem: Option<CredentialProblem>,
    /// Basic auth was asked for: send the credentials on every request.
    basic: Mutex<bool>,
    /// Bearer tokens by scope list.
    tokens: Mutex<BTreeMap<String, String>>,
}

impl Auth {
    /// The credential the caller gave, else the one stored for `registry`.
    pub(super) fn new(registry: &str, given: Option<Credential>) -> Auth {
        let (credential, source, problem, given) = match given {
            Some(c) => (c, None, None, true),
            None => {
                let f = Credential::find(registry);
                (f.credential, f.source, f.problem, false)
            }
        };
        Auth {
            credential,
            source,
            given,
            problem,
            basic: Mutex::new(false),
            tokens: Mutex::new(BTreeMap::new()),
        }
    }

    /// Notes a `Basic` challenge in an unauthenticated answer (the API root's).
    pub(super) fn learn(&self, r: &Reply) {
        if let Some(Challenge::Basic) = r.header("www-authenticate").map(|h| Challenge::parse(&h)) {
            *self.basic.lock().unwrap() = true;
        }
    }

    /// The `Authorization` header for a request needing `scopes`, if there is one to send.
    pub(super) fn header(&self, scopes: &[String]) -> Option<String> {
        if let Some(t) = self.tokens.lock().unwrap().get(&scopes.join(" ")) {
            return Some(format!("Bearer {t}"));
        }
        if *self.basic.lock().unwrap() {
            return self.credential.basic_header();
        }
        None
    }
}

impl Client {
    /// Sends a request with authentication, answering one challenge.
    pub fn send(&self, req: &Req<'_>) -> Result<Reply, RegistryError> {
        let r = self.raw(req, true)?;
        if r.status != 401 {
            return self.check_denied(r, req);
        }
        let challenge = r
            .header("www-authenticate")
            .map(|h| Challenge::parse(&h))
            .unwrap_or(Challenge::None);
        let had_auth = self.auth.header(&req.scopes).is_some();
        match challenge {
            Challenge::Basic if !had_auth && self.auth.credential != Credential::Anonymous => {
                *self.auth.basic.lock().unwrap() = true;
            }
            Challenge::Bearer { realm, service, .. }
                if !self
                    .auth
                    .tokens
                    .lock()
                    .unwrap()
                    .contains_key(&req.scopes.join(" ")) =>
            {
                let token = self.token(&realm, service.as_deref(), &req.scopes)?;
                self.auth
                    .tokens
                    .lock()
                    .unwrap()
                    .insert(req.scopes.join(" "), token);
            }
            _ => return Err(self.auth_error(r)),
        }
        let r = self.raw(req, true)?;
        if r.status == 401 {
            return Err(self.auth_error(r));
        }
        self.check_denied(r, req)
    }

    fn check_denied(&self, r: Reply, _req: &Req<'_>) -> Result<Reply, RegistryError> {
        if r.status == 403 {
            return Err(self.auth_error(r));
        }
        Ok(r)
    }

    fn auth_error(&self, r: Reply) -> RegistryError {
        let status = r.status;
        let fix = match (&self.auth.credential, status) {
            (Credential::Anonymous, _) => match &self.auth.problem {
                Some(p) => {
                    return RegistryError::Credentials {
                        registry: self.registry.clone(),
                        status,
                        problem: Box::new(p.clone()),
                    }
                }
                None => format!(
                    "log in first: drydock login {} -u USER --password-stdin",
                    self.registry
                ),
            },
            (_, 403) => "the account may not push or pull this repository: check its permissions".into(),
            _ if self.auth.given => "the registry refused that user name and password (or token): check them and log in again".into(),
            _ => format!(
                "the credentials stored for {} in {} were refused: log in again (drydock login {} -u USER --password-stdin)",
                self.registry,
                self.auth.source.as_deref().unwrap_or("the credential store"),
                self.registry
            ),
        };
        RegistryError::Auth {
            registry: self.registry.clone(),
            status,
            message: r.message(),
            fix,
        }
    }

    /// The bearer-token flow: trade the credentials for a token for these scopes.
    fn token(
        &self,
        realm: &str,
        service: Option<&str>,
        scopes: &[String],
    ) -> Result<String, RegistryError> {
        let mut url = realm.to_string();
        let mut params: Vec<String> = Vec::new();
        if let Some(s) = service {
            params.push(format!("service={}", urlencode(s)));
        }
        for s in scopes {
            params.push(format!("scope={}", urlencode(s)));
        }
        if !params.is_empty() {
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str(&params.join("&"));
        }
        let mut headers = vec![];
        let (method, body) = match &self.auth.credential {
            Credential::IdentityToken(t) => {
                headers.push((
                    "content-type",
                    "application/x-www-form-urlencoded".to_string(),
                ));
                let mut form = format!(
                    "grant_type=refresh_token&client_id=drydock&refresh_token={}",
                    urlencode(&t.0)
                );
                if let Some(s) = service {
                    form.push_str(&format!("&service={}", urlencode(s)));
                }
                form.push_str(&format!("&scope={}", urlencode(&scopes.join(" "))));
                url = realm.to_string();
                (Method::POST, Some(form.into_bytes()))
            }
            c => {
                if let Some(h) = c.basic_header() {
                    headers.push(("authorization", h));
                }
                (Method::GET, None)
            }
        };
        let r = self.raw(
            &Req {
                method,
                url,
                headers,
                body: body.as_deref(),
                scopes: vec![],
                what: "a token".into(),
                repository: "",
            },
            false,
        )?;
        if r.status != 200 {
            return Err(self.auth_error(r));
        }
        let v: Value =
            serde_json::from_slice(&r.bytes(1 << 20).unwrap_or_default()).unwrap_or(Value::Null);
        v.get("token")
            .or_else(|| v.get("access_token"))
            .and_then(|t| t.as_str())
            .map(str::to_string)
            .ok_or_else(|| RegistryError::Invalid {
                registry: self.registry.clone(),
                problem: format!("the token server {realm} sent no token"),
            })
    }
}

/// A parsed `WWW-Authenticate` challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    Basic,
    Bearer {
        realm: String,
        service: Option<String>,
        scope: Option<String>,
    },
    /// No challenge, or one drydock does not speak.
    None,
}

impl Challenge {
    /// Parses `Bearer realm="https://auth.example.com/token",service="registry",scope="…"`.
    pub fn parse(header: &str) -> Challenge {
        let h = header.trim();
        let (scheme, rest) = h.split_once(' ').unwrap_or((h, ""));
        if scheme.eq_ignore_ascii_case("basic") {
            return Challenge::Basic;
        }
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Challenge::None;
        }
        let params = parse_params(rest);
        match params.get("realm") {
            Some(realm) => Challenge::Bearer {
                realm: realm.clone(),
                service: params.get("service").cloned(),
                scope: params.get("scope").cloned(),
            },
            None => Challenge::None,
        }
    }
}

/// `k="v",k2=v2`, with commas inside quotes kept (scopes hold them).
fn parse_params(s: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
        if key.is_empty() {
            break;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            let mut escaped = false;
            for c in chars.by_ref() {
                match (escaped, c) {
                    (false, '\\') => escaped = true,
                    (false, '"') => break,
                    (_, c) => {
                        value.push(c);
                        escaped = false;
                    }
                }
            }
        } else {
            while let Some(c) = chars.peek() {
                if *c == ',' {
                    break;
                }
                value.push(*c);
                chars.next();
            }
        }
        out.insert(key.trim().to_ascii_lowercase(), value.trim().to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges() {
        assert_eq!(
            Challenge::parse("Basic realm=\"Registry Realm\""),
            Challenge::Basic
        );
        assert_eq!(
            Challenge::parse("Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\",scope=\"repository:library/alpine:pull,push\""),
            Challenge::Bearer {
                realm: "https://auth.docker.io/token".into(),
                service: Some("registry.docker.io".into()),
                scope: Some("repository:library/alpine:pull,push".into()),
            }
        );
        assert_eq!(Challenge::parse("Negotiate abc"), Challenge::None);
        assert_eq!(Challenge::parse("Bearer service=x"), Challenge::None);
    }
}
