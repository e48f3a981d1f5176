use serde::{Deserialize, Serialize};

/// The grants a client may be allowed to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum GrantType {
    #[serde(rename = "client_credentials")]
    ClientCredentials,
    /// RFC 7523 2.1: a JWT signed with one of the client's registered keys.
    #[serde(rename = "urn:ietf:params:oauth:grant-type:jwt-bearer")]
    JwtBearer,
}

impl GrantType {
    pub const ALL: [GrantType; 2] = [GrantType::ClientCredentials, GrantType::JwtBearer];

    /// The `grant_type` parameter value.
    pub fn as_str(self) -> &'static str {
        match self {
            GrantType::ClientCredentials => "client_credentials",
            GrantType::JwtBearer => "urn:ietf:params:oauth:grant-type:jwt-bearer",
        }
    }

    /// A short name for the command line (`jwt-bearer`).
    pub fn short_name(self) -> &'static str {
        match self {
            GrantType::ClientCredentials => "client_credentials",
            GrantType::JwtBearer => "jwt-bearer",
        }
    }

    pub fn parse(value: &str) -> Option<GrantType> {
        GrantType::ALL
            .into_iter()
            .find(|grant| grant.as_str() == value)
    }
}

impl std::str::FromStr for GrantType {
    type Err = String;

    /// Either form: the `grant_type` value or the short name.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        GrantType::ALL
            .into_iter()
            .find(|grant| grant.as_str() == s || grant.short_name() == s)
            .ok_or_else(|| {
                format!("unknown grant type '{s}' (expected client_credentials or jwt-bearer)")
            })
    }
}
