use axum::{
    Json,
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};

use super::{FormBody, basic_challenge, client_auth, no_store, oauth_error};
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
        Err(error) => oauth_error(
            &error,
            basic_challenge(&form, authorization, &realm.realm.name),
        ),
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
            if let Some(jti) = revoked {
                // In effect here at once; on other instances with their next reload.
                app.cache.mark_revoked(&realm.realm.name, &jti).await;
            }
            StatusCode::OK.into_response()
        }
        Err(error) => oauth_error(
            &error,
            basic_challenge(&form, authorization, &realm.realm.name),
        ),
    };
    no_store(response)
}
