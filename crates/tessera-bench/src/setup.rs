//! Databases for the scenarios, made with Tessera's own admin operations.

use std::path::Path;

use base64::{Engine, engine::general_purpose::STANDARD};
use secrecy::ExposeSecret;
use tessera::{
    admin::{self, NewClient, NewRealm},
    clock::SystemClock,
    keys::{SigningAlg, pem},
    secret::SecretHasher,
    store,
};

/// How clients authenticate in a scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    ClientSecretBasic,
    PrivateKeyJwt,
}

/// What the load generator needs to ask for tokens.
pub struct Credentials {
    pub database: String,
    /// `Authorization` header values, one per client (client_secret_basic).
    pub basic_headers: Vec<String>,
    /// For private_key_jwt: the Ed25519 key of client `svc0`.
    pub key: Option<ClientKey>,
}

/// A client's signing key: its kid and PKCS#8 DER.
pub struct ClientKey {
    pub kid: String,
    pub pkcs8: Vec<u8>,
}

/// A realm `bench` signing with `alg` and `clients` clients (`svc0`, `svc1`, …).
pub async fn prepare(
    dir: &Path,
    alg: SigningAlg,
    clients: usize,
    auth: Auth,
) -> Result<Credentials, String> {
    let database = format!("sqlite://{}", dir.join("bench.db").display());
    let store = store::open(&database, store::DatabaseOptions::default())
        .await
        .map_err(|e| e.to_string())?;
    let clock = SystemClock;
    let hasher = SecretHasher::new(&store.secret_hash_key().await.map_err(|e| e.to_string())?);
    let new_realm = NewRealm {
        name: "bench".into(),
        token_lifetime: None,
        signing_alg: alg,
        strict_assertions: false,
    };
    let realm = admin::create_realm(store.as_ref(), &clock, new_realm)
        .await
        .map_err(|e| e.to_string())?;
    let new = |i: usize| NewClient {
        client_id: format!("svc{i}"),
        scopes: vec![],
        default_scopes: vec!["read".into()],
        audience: vec![],
        token_lifetime: None,
        grant_types: vec![],
    };
    let secrets = admin::create_clients(
        store.as_ref(),
        &hasher,
        &clock,
        &realm,
        (0..clients).map(new).collect(),
    )
    .await
    .map_err(|e| e.to_string())?;
    let basic_headers = secrets
        .iter()
        .enumerate()
        .map(|(i, secret)| {
            format!(
                "Basic {}",
                STANDARD.encode(format!("svc{i}:{}", secret.expose_secret()))
            )
        })
        .collect();
    let key = match auth {
        Auth::ClientSecretBasic => None,
        Auth::PrivateKeyJwt => {
            let key =
                admin::create_client_key(store.as_ref(), &clock, &realm, "svc0", SigningAlg::EdDSA)
                    .await
                    .map_err(|e| e.to_string())?;
            let (_, pkcs8) = pem::decode(key.private_key_pem.expose_secret()).ok_or("bad PEM")?;
            Some(ClientKey {
                kid: key.kid,
                pkcs8,
            })
        }
    };
    Ok(Credentials {
        database,
        basic_headers,
        key,
    })
}
