//! Bad input of every kind gets a clear 4xx in the OAuth error shape: never a 500 or a hang.

use serde_json::Value;

use crate::support::TestServer;

async fn assert_error(response: reqwest::Response, status: u16, error: &str) -> Value {
    assert_eq!(response.status(), status);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], error, "{body}");
    assert!(body["error_description"].is_string());
    body
}

const FORM: &str = "application/x-www-form-urlencoded";

#[tokio::test]
async fn grant_type_missing_or_unsupported() {
    let server = TestServer::start();
    let secret = server.realm_with_client("prod", &[]).await;
    let response = server
        .token_basic("prod", "svc", &secret, &[("scope", "x")])
        .await;
    let body = assert_error(response, 400, "invalid_request").await;
    assert_eq!(
        body["error_description"],
        "Missing form parameter: grant_type"
    );
    let response = server
        .token_basic("prod", "svc", &secret, &[("grant_type", "password")])
        .await;
    assert_error(response, 400, "unsupported_grant_type").await;
    // The grant type is checked before the client, as Keycloak does.
    let response = server
        .token_basic("prod", "svc", "wrong", &[("grant_type", "password")])
        .await;
    assert_error(response, 400, "unsupported_grant_type").await;
}

#[tokio::test]
async fn malformed_bodies_are_invalid_request() {
    let server = TestServer::start();
    let secret = server.realm_with_client("prod", &[]).await;
    let credentials = format!("client_id=svc&client_secret={secret}");
    let cases: Vec<(String, &str)> = vec![
        (
            format!("grant_type=client_credentials&grant_type=client_credentials&{credentials}"),
            "duplicated parameter",
        ),
        (
            format!("grant_type=client_credentials&scope=a&scope=b&{credentials}"),
            "duplicated parameter",
        ),
        (
            format!("grant_type=client_credentials&scope=%FF&{credentials}"),
            "Request body is not valid UTF-8 form encoding",
        ),
    ];
    for (body, description) in cases {
        let response = server.token_raw("prod", FORM, body).await;
        let body = assert_error(response, 400, "invalid_request").await;
        assert_eq!(body["error_description"], description);
    }
    // Thousands of parameters are refused at once (the check is linear, not quadratic).
    let flood: Vec<String> = (0..5_000).map(|n| format!("p{n}")).collect();
    let body = assert_error(
        server.token_raw("prod", FORM, flood.join("&")).await,
        400,
        "invalid_request",
    )
    .await;
    assert_eq!(body["error_description"], "Too many parameters");

    let mut raw = format!("grant_type=client_credentials&{credentials}&x=").into_bytes();
    raw.extend_from_slice(&[0xff, 0xfe]);
    assert_error(
        server.token_raw("prod", FORM, raw).await,
        400,
        "invalid_request",
    )
    .await;
}

#[tokio::test]
async fn json_bodies_are_unsupported_media_type() {
    let server = TestServer::start();
    let secret = server.realm_with_client("prod", &[]).await;
    let body = format!(
        r#"{{"grant_type":"client_credentials","client_id":"svc","client_secret":"{secret}"}}"#
    );
    let response = server.token_raw("prod", "application/json", body).await;
    assert_error(response, 415, "invalid_request").await;
    // The charset parameter is fine.
    let body = format!("grant_type=client_credentials&client_id=svc&client_secret={secret}");
    let response = server
        .token_raw(
            "prod",
            "application/x-www-form-urlencoded; charset=UTF-8",
            body,
        )
        .await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn huge_bodies_are_refused_with_413() {
    let server = TestServer::start();
    server.realm_with_client("prod", &[]).await;
    let body = format!(
        "grant_type=client_credentials&pad={}",
        "a".repeat(1024 * 1024)
    );
    assert_error(
        server.token_raw("prod", FORM, body).await,
        413,
        "invalid_request",
    )
    .await;
}

#[tokio::test]
async fn unknown_realm_is_404_and_wrong_method_405() {
    let server = TestServer::start();
    server.realm_with_client("prod", &[]).await;
    let response = server
        .token_raw("nope", FORM, "grant_type=client_credentials")
        .await;
    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error_description"], "Realm does not exist");

    for method in [
        reqwest::Method::GET,
        reqwest::Method::PUT,
        reqwest::Method::DELETE,
    ] {
        let response = server
            .http
            .request(method, server.token_url("prod"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 405);
        assert_eq!(response.headers()["allow"], "POST");
        let body: Value = response.json().await.unwrap();
        assert!(body["error"].is_string());
    }
    let response = server
        .http
        .get(format!("{}/no/such/path", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn a_barrage_of_garbage_never_gets_a_server_error() {
    let server = TestServer::start();
    server.realm_with_client("prod", &[]).await;
    let bodies: [&[u8]; 8] = [
        b"",
        b"&&&===",
        b"=",
        b"%",
        b"grant_type=%zz",
        b"\x00\x01\x02",
        b"grant_type=client_credentials&client_id=%00&client_secret=%00",
        b"grant_type=client_credentials&client_id=svc&client_secret=",
    ];
    let content_types = [FORM, "text/plain", "multipart/form-data; boundary=x", ";;;"];
    let authorizations = ["Basic !!!", "Basic Og==", "Digest x", "Basic c3ZjOg=="];
    for body in bodies {
        for content_type in content_types {
            for authorization in authorizations {
                let response = server
                    .http
                    .post(server.token_url("prod"))
                    .header("content-type", content_type)
                    .header("authorization", authorization)
                    .body(body.to_vec())
                    .send()
                    .await
                    .unwrap();
                let status = response.status().as_u16();
                assert!(
                    (400..500).contains(&status),
                    "{status} for {body:?} as {content_type}"
                );
                let json: Value = response.json().await.unwrap();
                assert!(json["error"].is_string());
            }
        }
    }
}
