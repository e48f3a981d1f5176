use std::path::PathBuf;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use clap::Args;
use secrecy::SecretString;
use tessera_client::{KeyGrant, KeySigner, TokenSource};

use super::CliError;

/// Secrets come from files or the environment, never from the command line.
const SECRET_ENV: &str = "TESSERA_CLIENT_SECRET";

#[derive(Debug, Args)]
pub struct GetArgs {
    /// The issuer URL (discovery names the token endpoint)
    #[arg(long, value_name = "URL", required_unless_present = "token_url")]
    issuer: Option<String>,
    /// The token endpoint, instead of discovery
    #[arg(long, value_name = "URL")]
    token_url: Option<String>,
    /// The client id [default: the key file's principal_id]
    #[arg(long, value_name = "ID")]
    client_id: Option<String>,
    /// A file holding the client secret [default: the TESSERA_CLIENT_SECRET variable]
    #[arg(long, value_name = "FILE", conflicts_with = "key_file")]
    client_secret_file: Option<PathBuf>,
    /// A credentials file (`client key create --output json`) or a PEM private key (with
    /// --kid): authenticate with a signed assertion
    #[arg(long, value_name = "FILE")]
    key_file: Option<PathBuf>,
    /// The key id, for a PEM key file
    #[arg(long)]
    kid: Option<String>,
    /// Use the jwt-bearer grant instead of private_key_jwt (with a key file)
    #[arg(long)]
    jwt_bearer: bool,
    /// A scope to request. Repeatable
    #[arg(long = "scope", value_name = "SCOPE")]
    scopes: Vec<String>,
    /// Print the token's header and claims (not verified) instead of the token
    #[arg(long)]
    decode: bool,
}

pub async fn run(args: GetArgs) -> Result<(), CliError> {
    let read = |path: &PathBuf| {
        std::fs::read_to_string(path)
            .map_err(|e| CliError::Message(format!("cannot read {}: {e}", path.display())))
    };
    let failed = |e: tessera_client::Error| CliError::Message(e.to_string());
    let mut client_id = args.client_id.clone();
    let mut builder;
    if let Some(path) = &args.key_file {
        let text = read(path)?;
        let signer = if text.trim_start().starts_with('{') {
            let (signer, principal) = KeySigner::from_credentials_json(&text).map_err(failed)?;
            client_id = client_id.or(principal);
            signer
        } else {
            let kid = args
                .kid
                .clone()
                .ok_or_else(|| CliError::Message("a PEM key file needs --kid".into()))?;
            KeySigner::from_pem(kid, &text).map_err(failed)?
        };
        let client_id = client_id.ok_or_else(|| CliError::Message("set --client-id".into()))?;
        builder = TokenSource::builder(client_id).private_key(signer);
        if args.jwt_bearer {
            builder = builder.key_grant(KeyGrant::JwtBearer);
        }
    } else {
        let secret = match &args.client_secret_file {
            Some(path) => read(path)?.trim_end_matches(['\r', '\n']).to_owned(),
            None => std::env::var(SECRET_ENV).map_err(|_| {
                CliError::Message(format!(
                    "give --client-secret-file, --key-file or the {SECRET_ENV} variable"
                ))
            })?,
        };
        let client_id = client_id.ok_or_else(|| CliError::Message("set --client-id".into()))?;
        builder = TokenSource::builder(client_id).client_secret(SecretString::from(secret));
    }
    if let Some(issuer) = args.issuer {
        builder = builder.issuer(issuer);
    }
    if let Some(url) = args.token_url {
        builder = builder.token_url(url);
    }
    for scope in args.scopes {
        builder = builder.scope(scope);
    }
    let token = builder
        .build()
        .await
        .map_err(failed)?
        .token()
        .await
        .map_err(failed)?;
    if !args.decode {
        println!("{}", token.secret());
        return Ok(());
    }
    let mut parts = token.secret().split('.');
    let mut decode = |name: &str| -> Result<serde_json::Value, CliError> {
        parts
            .next()
            .and_then(|part| URL_SAFE_NO_PAD.decode(part).ok())
            .and_then(|json| serde_json::from_slice(&json).ok())
            .ok_or_else(|| CliError::Message(format!("the token's {name} is not base64url JSON")))
    };
    let decoded = serde_json::json!({"header": decode("header")?, "claims": decode("claims")?});
    let pretty =
        serde_json::to_string_pretty(&decoded).map_err(|e| CliError::Message(e.to_string()))?;
    println!("{pretty}");
    Ok(())
}
