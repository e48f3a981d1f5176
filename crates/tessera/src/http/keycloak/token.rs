use std::net::SocketAddr;

use axum::{
    Json,
    extract::{ConnectInfo, State},
    http::{HeaderMap, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;

use super::{FormBody, basic_challenge, client_auth, no_store, oauth_error};
use crate::{
    http::{AppState, RealmContext},
    oauth::{Dialect, TokenRequest},
};

/// `POST /realms/{realm}/protocol/openid-connect/token`
pub async fn token(
    State(app): State<AppState>,
    RealmContext(realm): RealmContext,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    FormBody(form): FormBody,
) -> Response {
    let authorization = headers.get(header::AUTHORIZATION);
    let request = TokenRequest {
        grant_type: form.get("grant_type"),
        client_auth: client_auth(&form, authorization),
        assertion: form.get("assertion"),
        scope: form.get("scope"),
        client_address: peer.ip(),
        dialect: Dialect::Keycloak,
    };
    let response = match app.tokens.issue(&realm, request).await {
        Ok(token) => Json(TokenResponse {
            access_token: &token.access_token,
            expires_in: token.expires_in,
            refresh_expires_in: 0,
            token_type: "Bearer",
            not_before_policy: 0,
            scope: &token.scope,
        })
        .into_response(),
        Err(error) => {
            // Debug formatting escapes what the request put into the description.
            tracing::info!(error = error.code.as_str(), description = ?error.description, "token refused");
            oauth_error(
                &error,
                basic_challenge(&form, authorization, &realm.realm.name),
            )
        }
    };
    no_store(response)
}

/// RFC 6749 5.1 success body, with Keycloak's extra fields in Keycloak's order.
#[derive(Serialize)]
struct TokenResponse<'a> {
    access_token: &'a str,
    expires_in: u32,
    refresh_expires_in: u32,
    token_type: &'static str,
    #[serde(rename = "not-before-policy")]
    not_before_policy: u32,
    scope: &'a str,
}
