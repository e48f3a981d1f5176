use axum::{
    Json,
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};

use super::{FormBody, client_auth, no_store, oauth_error};
use crate::http::{AppState, RealmContext};

/// `POST /realms/{realm}/protocol/openid-connect/token/introspect` (RFC 7662)
pub async fn introspect(
    State(app): State<AppState>,
    RealmContext(realm): RealmContext,
    headers: HeaderMap,
    FormBody(form): FormBody,
) -> Response {
    let authorization = headers.get(header::AUTHORIZATION);
    let auth = client_auth(&form, authorization);
    let response = match app.tokens.introspect(&realm, auth, form.get("token")).await {
        Ok(answer) => Json(answer).into_response(),
        Err(error) => oauth_error(&error, authorization.map(|_| realm.realm.name.as_str())),
    };
    no_store(response)
}

/// `POST /realms/{realm}/protocol/openid-connect/revoke` (RFC 7009)
pub async fn revoke(
    State(app): State<AppState>,
    RealmContext(realm): RealmContext,
    headers: HeaderMap,
    FormBody(form): FormBody,
) -> Response {
    let authorization = headers.get(header::AUTHORIZATION);
    let auth = client_auth(&form, authorization);
    let response = match app.tokens.revoke(&realm, auth, form.get("token")).await {
        Ok(revoked) => {
            if revoked {
                // This instance answers for the revocation at once; others within a second.
                if let Err(error) = app.cache.refresh().await {
                    tracing::warn!(%error, "cannot reload after a revocation");
                }
            }
            StatusCode::OK.into_response()
        }
        Err(error) => oauth_error(&error, authorization.map(|_| realm.realm.name.as_str())),
    };
    no_store(response)
}
