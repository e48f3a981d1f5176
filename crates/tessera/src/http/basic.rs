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

/// Parses `Authorization: Basic …` into client id and secret.
pub fn parse(header: &HeaderValue) -> Result<(String, SecretString), BasicError> {
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
    let id = decode_component(&decoded[..colon]).ok_or(BasicError::Malformed)?;
    let secret = decode_component(&decoded[colon + 1..]).ok_or(BasicError::Malformed)?;
    if id.is_empty() {
        return Err(BasicError::Malformed);
    }
    Ok((id, SecretString::from(secret)))
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
        let (id, secret) = parse(&basic("my%2Dclient:a%3Ab+c")).unwrap();
        assert_eq!(id, "my-client");
        assert_eq!(secret.expose_secret(), "a:b c");
        let (id, secret) = parse(&basic("svc:x:y")).unwrap();
        assert_eq!((id.as_str(), secret.expose_secret()), ("svc", "x:y"));
    }

    #[test]
    fn scheme_is_case_insensitive_and_padding_optional() {
        let header = HeaderValue::from_static("bAsIc c3ZjOnNlY3JldA");
        assert_eq!(parse(&header).unwrap().0, "svc");
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
