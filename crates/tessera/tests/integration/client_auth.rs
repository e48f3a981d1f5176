//! Client authentication as real clients send it: HTTP Basic (form-encoded or raw), body
//! credentials, both, neither, and wrong ones.

use base64::{Engine, engine::general_purpose::STANDARD};
use serde_json::Value;

use crate::support::TestServer;

async fn post(server: &TestServer, authorization: Option<&str>, body: &str) -> reqwest::Response {
    let mut request = server
        .http
        .post(server.token_url("prod"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_owned());
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    request.send().await.unwrap()
}

fn basic(raw: &str) -> String {
    format!("Basic {}", STANDARD.encode(raw))
}

/// Asserts a 401 `invalid_client`, with or without the Basic challenge.
async fn assert_invalid_client(response: reqwest::Response, challenge: bool) {
    assert_eq!(response.status(), 401);
    let www_authenticate = response.headers().get("www-authenticate").cloned();
    if challenge {
        assert_eq!(www_authenticate.unwrap(), "Basic realm=\"prod\"");
    } else {
        assert!(www_authenticate.is_none(), "no challenge without Basic");
    }
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");
    assert!(body["error_description"].is_string());
}

#[tokio::test]
async fn client_secret_post_works() {
    let server = TestServer::start();
    let secret = server.realm_with_client("prod", &[]).await;
    let response = post(
        &server,
        None,
        &format!("grant_type=client_credentials&client_id=svc&client_secret={secret}"),
    )
    .await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn python_keycloak_token_request_works() {
    // Exactly what python-keycloak's KeycloakOpenID.token(grant_type="client_credentials") sends.
    let server = TestServer::start();
    let secret = server
        .realm_with_client("prod", &["--default-scope", "read"])
        .await;
    let response = post(
        &server,
        None,
        &format!(
            "username=&password=&client_id=svc&grant_type=client_credentials&code=&redirect_uri=&scope=openid&client_secret={secret}"
        ),
    )
    .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["scope"], "openid read");
    assert!(body.get("id_token").is_none());
}

#[tokio::test]
async fn basic_credentials_are_form_url_decoded() {
    let server = TestServer::start();
    server.create_realm("prod", &[]).await;
    // openid-client escapes - _ . ! ~ * ' ( ) as well; the imported secret has reserved characters.
    let secret = "p@ss+w:rd/with~stuff!!";
    server
        .cli_with_stdin(
            &[
                "client",
                "create",
                "--realm",
                "prod",
                "my-svc.v2_x",
                "--secret-stdin",
            ],
            &format!("{secret}\n"),
        )
        .success();
    let encoded = "my%2Dsvc%2Ev2%5Fx:p%40ss%2Bw%3Ard%2Fwith%7Estuff%21%21";
    let response = crate::support::eventually(|| async {
        let response = post(
            &server,
            Some(&basic(encoded)),
            "grant_type=client_credentials",
        )
        .await;
        (response.status() == 200).then_some(response)
    })
    .await;
    assert!(
        response.is_some(),
        "form-encoded Basic credentials accepted"
    );
    // The same secret in the body, form-encoded as every client does.
    let response = post(
        &server,
        None,
        "grant_type=client_credentials&client_id=my-svc.v2_x&client_secret=p%40ss%2Bw%3Ard%2Fwith~stuff!!",
    )
    .await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn raw_basic_of_generated_credentials_works() {
    // The seed snippets' `base64(id:secret)` without encoding: generated secrets are alphanumeric.
    let server = TestServer::start();
    let secret = server.realm_with_client("prod", &[]).await;
    let response = post(
        &server,
        Some(&basic(&format!("svc:{secret}"))),
        "grant_type=client_credentials",
    )
    .await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn body_credentials_win_over_basic() {
    let server = TestServer::start();
    let secret = server.realm_with_client("prod", &[]).await;
    let wrong_header = basic("svc:wrong");
    let body = format!("grant_type=client_credentials&client_id=svc&client_secret={secret}");
    assert_eq!(
        post(&server, Some(&wrong_header), &body).await.status(),
        200
    );
    // A malformed header does not matter when the body names the client.
    assert_eq!(post(&server, Some("Basic %%%"), &body).await.status(), 200);
    // The body's client_id with the header's secret.
    let header = basic(&format!("svc:{secret}"));
    let response = post(
        &server,
        Some(&header),
        "grant_type=client_credentials&client_id=svc",
    )
    .await;
    assert_eq!(response.status(), 200);
    // A wrong secret in the body wins over a right one in the header; the body was the method
    // used, so there is no Basic challenge.
    let response = post(
        &server,
        Some(&header),
        "grant_type=client_credentials&client_id=svc&client_secret=wrong",
    )
    .await;
    assert_invalid_client(response, false).await;
}

#[tokio::test]
async fn no_credentials_at_all_is_invalid_client() {
    let server = TestServer::start();
    server.realm_with_client("prod", &[]).await;
    assert_invalid_client(
        post(&server, None, "grant_type=client_credentials").await,
        false,
    )
    .await;
    // A client id without a secret.
    let response = post(&server, None, "grant_type=client_credentials&client_id=svc").await;
    assert_invalid_client(response, false).await;
}

#[tokio::test]
async fn unknown_client_and_wrong_secret_get_the_same_answer() {
    let server = TestServer::start();
    let secret = server.realm_with_client("prod", &[]).await;
    let unknown = post(
        &server,
        Some(&basic(&format!("nobody:{secret}"))),
        "grant_type=client_credentials",
    )
    .await;
    let wrong = post(
        &server,
        Some(&basic("svc:wrong-secret")),
        "grant_type=client_credentials",
    )
    .await;
    let (unknown_status, wrong_status) = (unknown.status(), wrong.status());
    let unknown_body: Value = unknown.json().await.unwrap();
    let wrong_body: Value = wrong.json().await.unwrap();
    assert_eq!(unknown_status, wrong_status);
    assert_eq!(unknown_body, wrong_body);

    assert_invalid_client(
        post(
            &server,
            Some(&basic("svc:wrong")),
            "grant_type=client_credentials",
        )
        .await,
        true,
    )
    .await;
    // With body credentials there is no challenge.
    let response = post(
        &server,
        None,
        "grant_type=client_credentials&client_id=svc&client_secret=wrong",
    )
    .await;
    assert_invalid_client(response, false).await;
}

#[tokio::test]
async fn malformed_authorization_headers_are_invalid_client_with_a_challenge() {
    let server = TestServer::start();
    server.realm_with_client("prod", &[]).await;
    let no_colon = basic("svc");
    let not_utf8 = format!("Basic {}", STANDARD.encode([0xff, 0xfe, b':', b'x']));
    for header in [
        "Basic ***not-base64***",
        no_colon.as_str(),
        not_utf8.as_str(),
        "Bearer abc.def.ghi",
        "Basic",
    ] {
        let response = post(&server, Some(header), "grant_type=client_credentials").await;
        assert_invalid_client(response, true).await;
    }
}

#[tokio::test]
async fn an_imported_secret_with_plus_works_in_unencoded_basic_too() {
    // curl -u, Authlib and requests-oauthlib put the secret in Basic as is; RFC 6749 clients
    // encode it. Both readings are accepted.
    let server = TestServer::start();
    server.create_realm("prod", &[]).await;
    let secret = "frontier+style/secret==";
    server
        .cli_with_stdin(
            &[
                "client",
                "create",
                "--realm",
                "prod",
                "svc",
                "--secret-stdin",
            ],
            secret,
        )
        .success();
    server.wait_for_client("prod", "svc", secret).await;
    let raw = post(
        &server,
        Some(&basic(&format!("svc:{secret}"))),
        "grant_type=client_credentials",
    )
    .await;
    assert_eq!(raw.status(), 200);
    let encoded = post(
        &server,
        Some(&basic("svc:frontier%2Bstyle%2Fsecret%3D%3D")),
        "grant_type=client_credentials",
    )
    .await;
    assert_eq!(encoded.status(), 200);
    let wrong = post(
        &server,
        Some(&basic("svc:frontier style/secret==")),
        "grant_type=client_credentials",
    )
    .await;
    assert_eq!(wrong.status(), 401);
}
