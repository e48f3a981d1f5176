//! HTTP Basic client credentials (RFC 6749 2.3.1): base64 of `urlencode(id):urlencode(secret)`.
//! Both halves are form-URL-decoded, as Keycloak does; ids and secrets Tessera generates are
//! letters and digits only, so clients that skip the encoding work too.

use axum::http::HeaderValue;
use base64::{
    Engine,
    engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig},
};
use secrecy::SecretString;

use super::form::decode_component;

/// Standard alphabet, padding optional.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum BasicError {
    #[error("Authorization header is not of the Basic scheme")]
    NotBasic,
    #[error("Authorization header is not valid Basic credentials")]
    Malformed,
}

/// Client id and secret from `Authorization: Basic …` (`Debug` redacts the secrets).
#[derive(Debug)]
pub struct BasicCredentials {
    pub client_id: String,
    /// The secret, form-URL-decoded as RFC 6749 2.3.1 says.
    pub secret: SecretString,
    /// The secret as sent, when decoding changed it: many clients (and `curl -u`) do not
    /// encode, so an imported secret with `+` or `%` is also tried as is.
    pub raw_secret: Option<SecretString>,
}

/// Parses `Authorization: Basic …` the RFC 6749 way (both halves form-URL-decoded).
pub fn parse(header: &HeaderValue) -> Result<BasicCredentials, BasicError> {
    let (decoded, colon) = decode(header)?;
    let (id, secret) = (&decoded[..colon], &decoded[colon + 1..]);
    let client_id = decode_component(id).ok_or(BasicError::Malformed)?;
    let decoded = decode_component(secret).ok_or(BasicError::Malformed)?;
    if client_id.is_empty() {
        return Err(BasicError::Malformed);
    }
    let raw = std::str::from_utf8(secret).map_err(|_| BasicError::Malformed)?;
    Ok(BasicCredentials {
        raw_secret: (raw != decoded).then(|| SecretString::from(raw)),
        client_id,
        secret: SecretString::from(decoded),
    })
}

/// Parses `Authorization: Basic …` the Frontier way: no URL-decoding, exactly one colon.
pub fn parse_raw(header: &HeaderValue) -> Result<(String, SecretString), BasicError> {
    let (decoded, colon) = decode(header)?;
    let (id, secret) = (&decoded[..colon], &decoded[colon + 1..]);
    if secret.contains(&b':') {
        return Err(BasicError::Malformed);
    }
    let id = String::from_utf8(id.to_vec()).map_err(|_| BasicError::Malformed)?;
    let secret = String::from_utf8(secret.to_vec()).map_err(|_| BasicError::Malformed)?;
    if id.is_empty() {
        return Err(BasicError::Malformed);
    }
    Ok((id, SecretString::from(secret)))
}

/// The base64-decoded credentials and the position of their first colon.
fn decode(header: &HeaderValue) -> Result<(Vec<u8>, usize), BasicError> {
    let value = header.to_str().map_err(|_| BasicError::Malformed)?;
    let (scheme, encoded) = value.trim().split_once(' ').ok_or(BasicError::NotBasic)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(BasicError::NotBasic);
    }
    let decoded = BASE64
        .decode(encoded.trim())
        .map_err(|_| BasicError::Malformed)?;
    let colon = decoded
        .iter()
        .position(|&b| b == b':')
        .ok_or(BasicError::Malformed)?;
    Ok((decoded, colon))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use secrecy::ExposeSecret;

    use super::*;

    fn basic(raw: &str) -> HeaderValue {
        HeaderValue::from_str(&format!("Basic {}", BASE64.encode(raw))).unwrap()
    }

    #[test]
    fn url_decodes_both_halves_and_splits_on_the_first_colon() {
        let credentials = parse(&basic("my%2Dclient:a%3Ab+c")).unwrap();
        assert_eq!(credentials.client_id, "my-client");
        assert_eq!(credentials.secret.expose_secret(), "a:b c");
        assert_eq!(credentials.raw_secret.unwrap().expose_secret(), "a%3Ab+c");
        let credentials = parse(&basic("svc:x:y")).unwrap();
        assert_eq!(credentials.client_id, "svc");
        assert_eq!(credentials.secret.expose_secret(), "x:y");
        assert!(credentials.raw_secret.is_none());
    }

    #[test]
    fn the_frontier_reading_takes_values_as_they_are() {
        let (id, secret) = parse_raw(&basic("svc:a+b/c%2D")).unwrap();
        assert_eq!((id.as_str(), secret.expose_secret()), ("svc", "a+b/c%2D"));
        assert_eq!(
            parse_raw(&basic("svc:x:y")).unwrap_err(),
            BasicError::Malformed
        );
    }

    #[test]
    fn scheme_is_case_insensitive_and_padding_optional() {
        let header = HeaderValue::from_static("bAsIc c3ZjOnNlY3JldA");
        assert_eq!(parse(&header).unwrap().client_id, "svc");
    }

    #[test]
    fn malformed_values_are_errors() {
        let bearer = HeaderValue::from_static("Bearer abc");
        assert_eq!(parse(&bearer).unwrap_err(), BasicError::NotBasic);
        let not_base64 = HeaderValue::from_static("Basic ***");
        assert_eq!(parse(&not_base64).unwrap_err(), BasicError::Malformed);
        assert_eq!(
            parse(&basic("no-colon")).unwrap_err(),
            BasicError::Malformed
        );
        assert_eq!(parse(&basic(":secret")).unwrap_err(), BasicError::Malformed);
    }
}
