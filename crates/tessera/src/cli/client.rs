use std::io::Read;

use clap::{Args, Subcommand};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use super::{
    Admin, CliError, Output,
    client_key::{self, KeyCommand},
    print_json,
};
use crate::{
    admin::{self, NewClient, SecretSource},
    oauth::GrantType,
};

#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Create a confidential client; prints its generated secret once
    Create {
        #[command(flatten)]
        target: Target,
        /// A scope the client may request; a trailing `*` allows a prefix (`tenant/*`). Repeatable
        #[arg(long = "scope", value_name = "SCOPE")]
        scopes: Vec<String>,
        /// A scope every token of the client carries. Repeatable
        #[arg(long = "default-scope", value_name = "SCOPE")]
        default_scopes: Vec<String>,
        /// The tokens' `aud`. Repeatable [default: account]
        #[arg(long = "audience", value_name = "AUD")]
        audience: Vec<String>,
        /// Access token lifetime in seconds [default: the realm's]
        #[arg(long, value_name = "SECS")]
        token_lifetime: Option<u32>,
        /// A grant the client may use: client_credentials or jwt-bearer. Repeatable [default: both]
        #[arg(long = "grant-type", value_name = "GRANT")]
        grant_types: Vec<GrantType>,
        /// Give the client no secret: it authenticates with its keys only
        #[arg(long, conflicts_with = "secret_stdin")]
        no_secret: bool,
        #[command(flatten)]
        secret: SecretArgs,
    },
    /// List a realm's clients
    List {
        #[arg(long, value_name = "REALM")]
        realm: String,
        #[arg(long, value_enum, default_value_t)]
        output: Output,
    },
    /// Refuse tokens to a client until it is enabled again
    Disable(Target),
    /// Allow a disabled client again
    Enable(Target),
    /// Delete a client
    Delete(Target),
    /// Revoke every token issued to a client so far (introspection answers inactive)
    RevokeTokens(Target),
    /// Replace a client's secret; the old one stops working at once
    RotateSecret {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        secret: SecretArgs,
    },
    /// Manage the keys a client signs assertions with (jwt-bearer, private_key_jwt)
    #[command(subcommand)]
    Key(KeyCommand),
}

#[derive(Debug, Args)]
pub struct Target {
    #[arg(long, value_name = "REALM")]
    pub realm: String,
    pub client_id: String,
}

#[derive(Debug, Args)]
pub struct SecretArgs {
    /// Read the secret from standard input instead of generating one (at least 16 characters)
    #[arg(long)]
    secret_stdin: bool,
    #[arg(long, value_enum, default_value_t)]
    output: Output,
}

impl SecretArgs {
    fn source(&self) -> Result<SecretSource, CliError> {
        if !self.secret_stdin {
            return Ok(SecretSource::Generate);
        }
        let mut input = String::new();
        std::io::stdin()
            .read_to_string(&mut input)
            .map_err(|e| CliError::Message(format!("cannot read the secret from stdin: {e}")))?;
        let secret = input.trim_end_matches(['\r', '\n']).to_owned();
        Ok(SecretSource::Supplied(SecretString::from(secret)))
    }
}

pub async fn run(command: ClientCommand, admin: &Admin) -> Result<(), CliError> {
    let store = admin.store.as_ref();
    match command {
        ClientCommand::Create {
            target,
            scopes,
            default_scopes,
            audience,
            token_lifetime,
            grant_types,
            no_secret,
            secret,
        } => {
            let realm = admin::find_realm(store, &target.realm).await?;
            let new = NewClient {
                client_id: target.client_id.clone(),
                scopes,
                default_scopes,
                audience,
                token_lifetime,
                grant_types,
            };
            let (source, how) = if no_secret {
                (SecretSource::None, ", without a secret")
            } else if secret.secret_stdin {
                (secret.source()?, ", with the secret read from stdin")
            } else {
                (secret.source()?, "")
            };
            let shown =
                admin::create_client(store, &admin.hasher, &admin.clock, &realm, new, source)
                    .await?;
            let action = format!(
                "Created client '{}' in realm '{}'{how}",
                target.client_id, realm.name
            );
            print_secret(&action, &target.client_id, shown.as_ref(), secret.output);
        }
        ClientCommand::List { realm, output } => {
            let realm = admin::find_realm(store, &realm).await?;
            let clients = store.clients(&realm.id).await?;
            match output {
                Output::Json => print_json(&json!(
                    clients
                        .iter()
                        .map(|c| json!({
                            "client_id": c.client_id,
                            "enabled": c.enabled,
                            "scopes": c.scopes,
                            "default_scopes": c.default_scopes,
                            "audience": c.audience,
                            "grant_types": c.grant_types.iter().map(|g| g.short_name()).collect::<Vec<_>>(),
                            "has_secret": c.secret_hash.is_some(),
                            "token_lifetime": c.token_lifetime,
                        }))
                        .collect::<Vec<_>>()
                )),
                Output::Text => {
                    println!(
                        "{:<32} {:<8} {:<24} SCOPES",
                        "CLIENT ID", "ENABLED", "DEFAULT SCOPES"
                    );
                    for c in clients {
                        println!(
                            "{:<32} {:<8} {:<24} {}",
                            c.client_id,
                            if c.enabled { "yes" } else { "no" },
                            c.default_scopes.join(" "),
                            c.scopes.join(" ")
                        );
                    }
                }
            }
        }
        ClientCommand::Disable(target) => set_enabled(admin, &target, false).await?,
        ClientCommand::Enable(target) => set_enabled(admin, &target, true).await?,
        ClientCommand::Delete(target) => {
            let realm = admin::find_realm(store, &target.realm).await?;
            store.delete_client(&realm.id, &target.client_id).await?;
            println!(
                "Deleted client '{}' from realm '{}'.",
                target.client_id, realm.name
            );
        }
        ClientCommand::Key(command) => client_key::run(command, admin).await?,
        ClientCommand::RevokeTokens(target) => {
            let realm = admin::find_realm(store, &target.realm).await?;
            admin::revoke_client_tokens(store, &admin.clock, &realm, &target.client_id).await?;
            println!(
                "Revoked every token issued so far to client '{}' in realm '{}'.",
                target.client_id, realm.name
            );
        }
        ClientCommand::RotateSecret { target, secret } => {
            let realm = admin::find_realm(store, &target.realm).await?;
            let shown = admin::rotate_secret(
                store,
                &admin.hasher,
                &realm,
                &target.client_id,
                secret.source()?,
            )
            .await?;
            let how = if secret.secret_stdin {
                ", read from stdin"
            } else {
                ""
            };
            let action = format!(
                "New secret for client '{}' in realm '{}'{how}",
                target.client_id, realm.name
            );
            print_secret(&action, &target.client_id, shown.as_ref(), secret.output);
        }
    }
    Ok(())
}

async fn set_enabled(admin: &Admin, target: &Target, enabled: bool) -> Result<(), CliError> {
    let realm = admin::find_realm(admin.store.as_ref(), &target.realm).await?;
    admin
        .store
        .set_client_enabled(&realm.id, &target.client_id, enabled)
        .await?;
    let done = if enabled { "Enabled" } else { "Disabled" };
    println!(
        "{done} client '{}' in realm '{}'.",
        target.client_id, realm.name
    );
    Ok(())
}

/// Prints the outcome of an operation that set a secret; a generated secret is shown here once.
fn print_secret(action: &str, client_id: &str, generated: Option<&SecretString>, output: Output) {
    match (output, generated) {
        (Output::Json, Some(secret)) => print_json(&json!({
            "client_id": client_id,
            "client_secret": secret.expose_secret(),
        })),
        (Output::Json, None) => print_json(&json!({ "client_id": client_id })),
        (Output::Text, Some(secret)) => {
            println!("{action}.");
            println!("client_secret: {}", secret.expose_secret());
            println!("Store it now: it is shown only once.");
        }
        (Output::Text, None) => println!("{action}."),
    }
}
