use std::path::PathBuf;

use clap::Subcommand;
use secrecy::ExposeSecret;
use serde_json::json;

use super::{Admin, CliError, Output, client::Target, print_json};
use crate::{admin, keys::SigningAlg};

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Make a key pair for the client; prints the private key once
    Create {
        #[command(flatten)]
        target: Target,
        /// RS256, ES256 or EdDSA
        #[arg(long, value_name = "ALG", default_value = "RS256")]
        alg: SigningAlg,
        /// `json` prints a Frontier service-account credentials object
        #[arg(long, value_enum, default_value_t)]
        output: Output,
    },
    /// Register a public key made elsewhere (a PEM `PUBLIC KEY` or a JWK file)
    Add {
        #[command(flatten)]
        target: Target,
        #[arg(long, value_name = "FILE")]
        public_key: PathBuf,
        /// The key's algorithm, when the file does not say [default: from the key type]
        #[arg(long, value_name = "ALG")]
        alg: Option<SigningAlg>,
        /// The key id assertions will name [default: the JWK's kid, else a new UUID]
        #[arg(long)]
        kid: Option<String>,
    },
    /// List a client's keys
    List {
        #[command(flatten)]
        target: Target,
        #[arg(long, value_enum, default_value_t)]
        output: Output,
    },
    /// Delete a key; assertions signed with it are refused from then on
    Delete {
        #[command(flatten)]
        target: Target,
        kid: String,
    },
}

/// Frontier's name for each key kind (`sv_rsa` is Frontier's own).
fn frontier_key_type(alg: SigningAlg) -> &'static str {
    match alg {
        SigningAlg::RS256 => "sv_rsa",
        SigningAlg::ES256 => "sv_ec",
        SigningAlg::EdDSA => "sv_ed25519",
    }
}

pub async fn run(command: KeyCommand, admin: &Admin) -> Result<(), CliError> {
    let store = admin.store.as_ref();
    match command {
        KeyCommand::Create {
            target,
            alg,
            output,
        } => {
            let realm = admin::find_realm(store, &target.realm).await?;
            let key = admin::create_client_key(store, &admin.clock, &realm, &target.client_id, alg)
                .await?;
            let private_key = key.private_key_pem.expose_secret();
            match output {
                Output::Json => print_json(&json!({
                    "type": frontier_key_type(key.alg),
                    "kid": key.kid,
                    "principal_id": target.client_id,
                    "private_key": private_key,
                })),
                Output::Text => {
                    println!(
                        "Created key {} ({}) for client '{}' in realm '{}'.",
                        key.kid, key.alg, target.client_id, realm.name
                    );
                    println!("Private key (shown only this once; only the public key is kept):");
                    print!("{private_key}");
                }
            }
        }
        KeyCommand::Add {
            target,
            public_key,
            alg,
            kid,
        } => {
            let realm = admin::find_realm(store, &target.realm).await?;
            let text = std::fs::read_to_string(&public_key).map_err(|e| {
                CliError::Message(format!("cannot read {}: {e}", public_key.display()))
            })?;
            let (kid, alg) = admin::add_client_key(
                store,
                &admin.clock,
                &realm,
                &target.client_id,
                &text,
                alg,
                kid,
            )
            .await?;
            println!(
                "Added key {kid} ({alg}) to client '{}' in realm '{}'.",
                target.client_id, realm.name
            );
        }
        KeyCommand::List { target, output } => {
            let realm = admin::find_realm(store, &target.realm).await?;
            let client = admin::find_client(store, &realm, &target.client_id).await?;
            let keys = store.client_keys(&client.id).await?;
            match output {
                Output::Json => print_json(&json!(
                    keys.iter()
                        .map(|k| json!({"kid": k.kid, "alg": k.alg.as_str(), "created_at": k.created_at}))
                        .collect::<Vec<_>>()
                )),
                Output::Text => {
                    println!("{:<40} {:<6} CREATED", "KID", "ALG");
                    for key in keys {
                        println!("{:<40} {:<6} {}", key.kid, key.alg, key.created_at);
                    }
                }
            }
        }
        KeyCommand::Delete { target, kid } => {
            let realm = admin::find_realm(store, &target.realm).await?;
            let client = admin::find_client(store, &realm, &target.client_id).await?;
            store.delete_client_key(&client.id, &kid).await?;
            println!(
                "Deleted key {kid} of client '{}' in realm '{}'.",
                target.client_id, realm.name
            );
        }
    }
    Ok(())
}
