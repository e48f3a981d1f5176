use serde_json::{Map, Value};

/// The claims of a verified token.
#[derive(Debug, Clone, PartialEq)]
pub struct Claims(Map<String, Value>);

impl Claims {
    pub(crate) fn new(claims: Map<String, Value>) -> Self {
        Claims(claims)
    }

    /// Any claim by name.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name)
    }

    fn str(&self, name: &str) -> Option<&str> {
        self.0.get(name).and_then(Value::as_str)
    }

    /// `sub`: for client credentials tokens, the service account.
    pub fn subject(&self) -> Option<&str> {
        self.str("sub")
    }

    pub fn issuer(&self) -> Option<&str> {
        self.str("iss")
    }

    /// The client the token was issued to: `client_id`, else `azp`.
    pub fn client_id(&self) -> Option<&str> {
        self.str("client_id").or_else(|| self.str("azp"))
    }

    /// `exp`, in seconds since the Unix epoch.
    pub fn expires_at(&self) -> Option<u64> {
        self.0
            .get("exp")
            .and_then(Value::as_f64)
            .map(|exp| exp as u64)
    }

    /// The space-separated `scope` claim, split.
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.str("scope")
            .unwrap_or_default()
            .split(' ')
            .filter(|s| !s.is_empty())
    }

    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes().any(|s| s == scope)
    }

    /// `aud` as a list (it may be one string or an array).
    pub fn audiences(&self) -> Vec<&str> {
        match self.0.get("aud") {
            Some(Value::String(aud)) => vec![aud.as_str()],
            Some(Value::Array(auds)) => auds.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        }
    }

    /// All claims.
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.0
    }

    pub fn into_map(self) -> Map<String, Value> {
        self.0
    }
}
