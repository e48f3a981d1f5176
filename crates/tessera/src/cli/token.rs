use std::io::Read;

use clap::Subcommand;
use tessera_verify::Verifier;

use super::CliError;

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Get a token from an issuer, for shell scripts (prints the token, or its claims)
    Get(super::token_get::GetArgs),
    /// Verify a token as a resource server would: print its claims, or why it is invalid
    Verify {
        /// The issuer URL (its discovery document names the keys); tokens must name it in iss
        #[arg(long, value_name = "URL", required_unless_present = "jwks")]
        issuer: Option<String>,
        /// A JWKS URL to take the keys from instead of discovery
        #[arg(long, value_name = "URL")]
        jwks: Option<String>,
        /// An accepted audience. Repeatable [default: any]
        #[arg(long = "audience", value_name = "AUD")]
        audiences: Vec<String>,
        /// The token, or `-` to read it from standard input
        token: String,
    },
}

pub async fn run(command: TokenCommand) -> Result<(), CliError> {
    match command {
        TokenCommand::Get(args) => return super::token_get::run(args).await,
        TokenCommand::Verify {
            issuer,
            jwks,
            audiences,
            token,
        } => {
            let token = if token == "-" {
                let mut input = String::new();
                std::io::stdin()
                    .read_to_string(&mut input)
                    .map_err(|e| CliError::Message(format!("cannot read the token: {e}")))?;
                input.trim().to_owned()
            } else {
                token
            };
            let mut builder = Verifier::builder();
            if let Some(issuer) = issuer {
                builder = builder.issuer(issuer);
            }
            if let Some(jwks) = jwks {
                builder = builder.jwks_url(jwks);
            }
            if audiences.is_empty() {
                builder = builder.allow_any_audience();
            }
            for audience in audiences {
                builder = builder.audience(audience);
            }
            let verifier = builder
                .build()
                .await
                .map_err(|e| CliError::Message(e.to_string()))?;
            let claims = verifier
                .verify(&token)
                .await
                .map_err(|e| CliError::Message(format!("invalid token: {e}")))?;
            let pretty = serde_json::to_string_pretty(claims.as_map())
                .map_err(|e| CliError::Message(e.to_string()))?;
            println!("{pretty}");
        }
    }
    Ok(())
}
