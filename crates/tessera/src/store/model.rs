//! The records Tessera keeps: realms, their signing keys, and clients.

use secrecy::SecretBox;

use crate::{clock::UnixTime, keys::SigningAlg, oauth::GrantType};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Realm {
    pub id: String,
    pub name: String,
    /// Access token lifetime in seconds for clients that set none.
    pub token_lifetime: Option<u32>,
    pub signing_alg: SigningAlg,
    /// Whether the Frontier endpoints hold assertions to the strict RFC 7523 rules too.
    pub strict_assertions: bool,
    pub created_at: UnixTime,
}

/// A realm's private signing key. Only the server reads it; it is never served.
#[derive(Debug)]
pub struct RealmKey {
    pub kid: String,
    pub realm_id: String,
    pub alg: SigningAlg,
    /// PKCS#8 DER.
    pub private_key: SecretBox<[u8]>,
    /// The key new tokens are signed with.
    pub active: bool,
    /// For a rotated-out key: until when it is still published (its tokens' last expiry).
    pub publish_until: Option<UnixTime>,
    pub created_at: UnixTime,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    /// Stable internal id; also the token's `sub` (the service account's id).
    pub id: String,
    pub realm_id: String,
    pub client_id: String,
    /// HMAC-SHA256 of the secret under the server-wide key (see `secret::SecretHasher`);
    /// `None` for clients that authenticate with keys only.
    pub secret_hash: Option<Vec<u8>>,
    pub enabled: bool,
    /// Scopes the client may request; an entry ending in `*` allows any scope with that prefix.
    pub scopes: Vec<String>,
    /// Scopes every token of this client carries.
    pub default_scopes: Vec<String>,
    pub grant_types: Vec<GrantType>,
    /// The token's `aud`; empty means the realm default (see `token::DEFAULT_AUDIENCE`).
    pub audience: Vec<String>,
    pub token_lifetime: Option<u32>,
    /// Tokens issued before this time are revoked (`client revoke-tokens`).
    pub not_before: UnixTime,
    pub created_at: UnixTime,
}

/// A revoked access token, remembered until it would have expired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevokedToken {
    pub realm_id: String,
    pub jti: String,
    pub expires_at: UnixTime,
}

/// A client's public key for verifying its assertions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientKey {
    /// Unique within the realm.
    pub kid: String,
    pub realm_id: String,
    /// The `Client::id` of the owner.
    pub owner_id: String,
    pub alg: SigningAlg,
    /// X.509 SubjectPublicKeyInfo DER.
    pub public_key: Vec<u8>,
    pub created_at: UnixTime,
}

/// Everything the server caches.
#[derive(Debug)]
pub struct Contents {
    /// The store's revision when the load began; it grows with every change.
    pub revision: i64,
    pub realms: Vec<Realm>,
    pub keys: Vec<RealmKey>,
    pub clients: Vec<Client>,
    pub client_keys: Vec<ClientKey>,
    pub revoked_tokens: Vec<RevokedToken>,
}
