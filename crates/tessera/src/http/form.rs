//! `application/x-www-form-urlencoded` bodies, read strictly: invalid UTF-8 and repeated
//! parameters are errors (RFC 6749 3.2), empty values count as absent (python-keycloak sends
//! `username=&password=`).

use std::collections::HashSet;

use percent_encoding::percent_decode;

/// More parameters than any token request has; beyond it a form is refused.
pub const MAX_PARAMETERS: usize = 64;

#[derive(Debug, PartialEq, Eq)]
pub enum FormError {
    Duplicate,
    Encoding,
    TooManyParameters,
}

/// Parsed parameters with non-empty values. Not `Debug`: values may be secrets.
pub struct Form {
    params: Vec<(String, String)>,
}

impl Form {
    pub fn parse(body: &[u8]) -> Result<Form, FormError> {
        let mut params: Vec<(String, String)> = Vec::new();
        let mut names: HashSet<String> = HashSet::new();
        for pair in body.split(|&b| b == b'&').filter(|pair| !pair.is_empty()) {
            if names.len() == MAX_PARAMETERS {
                return Err(FormError::TooManyParameters);
            }
            let (name, value) = match pair.iter().position(|&b| b == b'=') {
                Some(eq) => (&pair[..eq], &pair[eq + 1..]),
                None => (pair, &b""[..]),
            };
            let name = decode_component(name).ok_or(FormError::Encoding)?;
            let value = decode_component(value).ok_or(FormError::Encoding)?;
            if !names.insert(name.clone()) {
                return Err(FormError::Duplicate);
            }
            if !value.is_empty() {
                params.push((name, value));
            }
        }
        Ok(Form { params })
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Form-URL-decodes one name or value (`+` is a space); `None` if the result is not UTF-8.
pub fn decode_component(raw: &[u8]) -> Option<String> {
    let spaced: Vec<u8> = raw
        .iter()
        .map(|&b| if b == b'+' { b' ' } else { b })
        .collect();
    percent_decode(&spaced)
        .decode_utf8()
        .ok()
        .map(|s| s.into_owned())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn decodes_plus_and_percent_and_drops_empty_values() {
        let form = Form::parse(b"a=x+y%2Bz&b=&c&&d=%E2%9C%93").unwrap();
        assert_eq!(form.get("a"), Some("x y+z"));
        assert_eq!(form.get("b"), None);
        assert_eq!(form.get("c"), None);
        assert_eq!(form.get("d"), Some("\u{2713}"));
    }

    #[test]
    fn rejects_duplicates_and_invalid_utf8() {
        assert_eq!(Form::parse(b"a=1&a=2").err(), Some(FormError::Duplicate));
        assert_eq!(Form::parse(b"a=%FF").err(), Some(FormError::Encoding));
        assert_eq!(Form::parse(b"a=\xff").err(), Some(FormError::Encoding));
    }

    #[test]
    fn refuses_floods_of_parameters() {
        let many: Vec<String> = (0..=MAX_PARAMETERS).map(|n| format!("p{n}=x")).collect();
        let body = many.join("&");
        assert_eq!(
            Form::parse(body.as_bytes()).err(),
            Some(FormError::TooManyParameters)
        );
        assert!(Form::parse(many[..MAX_PARAMETERS].join("&").as_bytes()).is_ok());
    }
}
