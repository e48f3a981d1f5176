use clap::Subcommand;
use serde_json::json;

use super::{Admin, CliError, Output, print_json};
use crate::{
    admin::{self, NewRealm, RealmChanges},
    keys::SigningAlg,
};

#[derive(Debug, Subcommand)]
pub enum RealmCommand {
    /// Create a realm with a new signing key
    Create {
        name: String,
        /// Access token lifetime in seconds for clients that set none [default: 300]
        #[arg(long, value_name = "SECS")]
        token_lifetime: Option<u32>,
        /// RS256, ES256 or EdDSA
        #[arg(long, value_name = "ALG", default_value = "RS256")]
        signing_alg: SigningAlg,
        /// Hold assertions on the Frontier endpoints to the strict RFC 7523 rules too
        #[arg(long)]
        strict_assertions: bool,
    },
    /// Change a realm's settings
    Update {
        name: String,
        /// Access token lifetime in seconds for clients that set none
        #[arg(long, value_name = "SECS")]
        token_lifetime: Option<u32>,
        /// Whether the Frontier endpoints apply the strict RFC 7523 assertion rules
        #[arg(long, value_name = "BOOL")]
        strict_assertions: Option<bool>,
    },
    /// Make a new signing key active; the old one stays published until its tokens expire
    RotateKey {
        name: String,
        /// Switch the realm to this algorithm with the new key
        #[arg(long, value_name = "ALG")]
        signing_alg: Option<SigningAlg>,
    },
    /// List realms
    List {
        #[arg(long, value_enum, default_value_t)]
        output: Output,
    },
}

pub async fn run(command: RealmCommand, admin: &Admin) -> Result<(), CliError> {
    match command {
        RealmCommand::Create {
            name,
            token_lifetime,
            signing_alg,
            strict_assertions,
        } => {
            let new = NewRealm {
                name,
                token_lifetime,
                signing_alg,
                strict_assertions,
            };
            let realm = admin::create_realm(admin.store.as_ref(), &admin.clock, new).await?;
            println!(
                "Created realm '{}' signing with {}.",
                realm.name, realm.signing_alg
            );
        }
        RealmCommand::Update {
            name,
            token_lifetime,
            strict_assertions,
        } => {
            let changes = RealmChanges {
                token_lifetime,
                strict_assertions,
            };
            let realm = admin::update_realm(admin.store.as_ref(), &name, changes).await?;
            println!("Updated realm '{}'.", realm.name);
        }
        RealmCommand::RotateKey { name, signing_alg } => {
            let kid =
                admin::rotate_realm_key(admin.store.as_ref(), &admin.clock, &name, signing_alg)
                    .await?;
            println!("Realm '{name}' now signs with key {kid}.");
        }
        RealmCommand::List { output } => {
            let realms = admin.store.realms().await?;
            match output {
                Output::Json => print_json(&json!(
                    realms
                        .iter()
                        .map(|r| json!({
                            "name": r.name,
                            "signing_alg": r.signing_alg.as_str(),
                            "token_lifetime": r.token_lifetime,
                            "strict_assertions": r.strict_assertions,
                        }))
                        .collect::<Vec<_>>()
                )),
                Output::Text => {
                    println!("{:<24} {:<6} TOKEN LIFETIME", "NAME", "ALG");
                    for realm in realms {
                        let lifetime = realm
                            .token_lifetime
                            .map_or_else(|| "default".to_owned(), |s| format!("{s}s"));
                        println!("{:<24} {:<6} {lifetime}", realm.name, realm.signing_alg);
                    }
                }
            }
        }
    }
    Ok(())
}
