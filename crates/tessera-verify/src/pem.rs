//! PEM armour (RFC 7468) around DER: how private keys are handed out and public keys read in.

use base64::{Engine, engine::general_purpose::STANDARD};

/// `-----BEGIN {label}-----`, base64 in 64-character lines, `-----END {label}-----`.
pub fn encode(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let mut pem = format!("-----BEGIN {label}-----\n");
    for line in body.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(line));
        pem.push('\n');
    }
    pem.push_str(&format!("-----END {label}-----\n"));
    pem
}

/// The label and DER of the first PEM block in `text`.
pub fn decode(text: &str) -> Option<(String, Vec<u8>)> {
    let start = text.find("-----BEGIN ")?;
    let rest = &text[start + "-----BEGIN ".len()..];
    let (label, rest) = rest.split_once("-----")?;
    let end_marker = format!("-----END {label}-----");
    let (body, _) = rest.split_once(end_marker.as_str())?;
    let base64: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    Some((label.to_owned(), STANDARD.decode(base64).ok()?))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn round_trips_and_wraps_lines() {
        let der: Vec<u8> = (0..=255).collect();
        let pem = encode("PUBLIC KEY", &der);
        assert!(pem.lines().all(|line| line.len() <= 64));
        assert_eq!(decode(&pem).unwrap(), ("PUBLIC KEY".to_owned(), der));
        assert!(decode("no pem here").is_none());
    }
}
