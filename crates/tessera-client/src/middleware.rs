//! A reqwest middleware that authenticates outgoing requests with the source's token.

use http::Extensions;
use reqwest::{Request, Response, StatusCode, header};
use reqwest_middleware::{Middleware, Next};

use crate::TokenSource;

/// Adds `Authorization: Bearer …` to every request. On a 401 from the resource server it drops
/// that token, gets a new one and retries once (requests with a streaming body are not retried;
/// new tokens are forced at most every 10 s).
#[derive(Clone)]
pub struct BearerAuth {
    tokens: TokenSource,
}

impl BearerAuth {
    pub fn new(tokens: TokenSource) -> Self {
        BearerAuth { tokens }
    }
}

#[async_trait::async_trait]
impl Middleware for BearerAuth {
    async fn handle(
        &self,
        mut request: Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<Response> {
        let retry = request.try_clone();
        let token = self
            .tokens
            .token()
            .await
            .map_err(reqwest_middleware::Error::middleware)?;
        set_bearer(&mut request, token.secret())?;
        let response = next.clone().run(request, extensions).await?;
        let Some(mut retry) = retry.filter(|_| response.status() == StatusCode::UNAUTHORIZED)
        else {
            return Ok(response);
        };
        // Only if this forces a new token (not more often than every 10 s): a resource server
        // that refuses every token must not turn each request into a token request.
        if !self.tokens.invalidate(&token) {
            return Ok(response);
        }
        let token = self
            .tokens
            .token()
            .await
            .map_err(reqwest_middleware::Error::middleware)?;
        set_bearer(&mut retry, token.secret())?;
        next.run(retry, extensions).await
    }
}

fn set_bearer(request: &mut Request, token: &str) -> reqwest_middleware::Result<()> {
    let mut value = header::HeaderValue::from_str(&format!("Bearer {token}"))
        .map_err(reqwest_middleware::Error::middleware)?;
    value.set_sensitive(true);
    request.headers_mut().insert(header::AUTHORIZATION, value);
    Ok(())
}
