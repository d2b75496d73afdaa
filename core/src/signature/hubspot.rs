//! HubSpot webhook signatures: v1 (`hex(SHA-256(secret + body))`), v2 (`hex(SHA-256(secret +
//! method + uri + body))`) and v3 (`base64(HMAC-SHA256(secret, method + uri + body +
//! timestamp))`, with a 5-minute window and HubSpot's URI decoding table).

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use super::{SignatureError, constant_time_eq};

/// HubSpot's replay window for v3 signatures.
pub const V3_WINDOW_S: u64 = 300;

/// `X-HubSpot-Signature` for v1: lower-case hex SHA-256 of secret followed by the body.
pub fn sign_v1(client_secret: &str, body: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(client_secret.as_bytes());
    h.update(body);
    hex::encode(h.finalize())
}

/// `X-HubSpot-Signature` for v2: lower-case hex SHA-256 of secret, method, URI and body.
pub fn sign_v2(client_secret: &str, method: &str, uri: &str, body: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(client_secret.as_bytes());
    h.update(method.as_bytes());
    h.update(uri.as_bytes());
    h.update(body);
    hex::encode(h.finalize())
}

/// `X-HubSpot-Signature-v3`: base64 HMAC-SHA256 over method, decoded URI, body and the
/// timestamp header exactly as sent.
pub fn sign_v3(
    client_secret: &str,
    method: &str,
    uri: &str,
    body: &[u8],
    timestamp: &str,
) -> String {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail here.
    let mut mac = match Hmac::<Sha256>::new_from_slice(client_secret.as_bytes()) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(method.as_bytes());
    mac.update(decode_uri(uri).as_bytes());
    mac.update(body);
    mac.update(timestamp.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Applies HubSpot's v3 URI rule: decode only `%3A %2F %3F %40 %21 %24 %27 %28 %29 %2A %2C %3B`
/// (case-insensitively) and leave every other escape as it is.
pub fn decode_uri(uri: &str) -> String {
    let bytes = uri.as_bytes();
    let mut out = String::with_capacity(uri.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && bytes[i + 1].is_ascii_hexdigit()
            && bytes[i + 2].is_ascii_hexdigit()
        {
            let code = [
                bytes[i + 1].to_ascii_uppercase(),
                bytes[i + 2].to_ascii_uppercase(),
            ];
            let decoded = match &code {
                b"3A" => Some(':'),
                b"2F" => Some('/'),
                b"3F" => Some('?'),
                b"40" => Some('@'),
                b"21" => Some('!'),
                b"24" => Some('$'),
                b"27" => Some('\''),
                b"28" => Some('('),
                b"29" => Some(')'),
                b"2A" => Some('*'),
                b"2C" => Some(','),
                b"3B" => Some(';'),
                _ => None,
            };
            if let Some(c) = decoded {
                out.push(c);
                i += 3;
                continue;
            }
        }
        // Copy one UTF-8 character.
        let ch_len = uri[i..].chars().next().map(char::len_utf8).unwrap_or(1);
        out.push_str(&uri[i..i + ch_len]);
        i += ch_len;
    }
    out
}

/// What a v3-signed request carried.
#[derive(Debug, Clone, Copy)]
pub struct V3Request<'a> {
    /// HTTP method, upper case.
    pub method: &'a str,
    /// The full public URI HubSpot called (`https://host/path?query`), as HubSpot saw it.
    pub uri: &'a str,
    /// Raw body bytes.
    pub body: &'a [u8],
    /// `X-HubSpot-Request-Timestamp` header, if present.
    pub timestamp: Option<&'a str>,
    /// `X-HubSpot-Signature-v3` header, if present.
    pub signature: Option<&'a str>,
}

/// Verifies a v3 signature; `now_ms` is the current time in epoch milliseconds and
/// `window_s` the accepted age (HubSpot: [`V3_WINDOW_S`]; `None` skips the age check, which
/// only the published test vectors need).
pub fn verify_v3(
    client_secret: &str,
    req: V3Request<'_>,
    now_ms: i64,
    window_s: Option<u64>,
) -> Result<(), SignatureError> {
    let signature = req
        .signature
        .ok_or(SignatureError::MissingHeader("X-HubSpot-Signature-v3"))?;
    let timestamp = req
        .timestamp
        .ok_or(SignatureError::MissingHeader("X-HubSpot-Request-Timestamp"))?;
    let ts_ms: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| SignatureError::MalformedHeader("X-HubSpot-Request-Timestamp"))?;
    // A timestamp from the future beyond the window is as suspicious as an old one.
    if let Some(window_s) = window_s
        && (now_ms - ts_ms).unsigned_abs() > window_s * 1000
    {
        return Err(SignatureError::Stale { window_s });
    }
    let expected = sign_v3(client_secret, req.method, req.uri, req.body, timestamp);
    if constant_time_eq(expected.as_bytes(), signature.trim().as_bytes()) {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// Verifies a v1 signature (no timestamp, so no replay protection: prefer v3).
pub fn verify_v1(
    client_secret: &str,
    body: &[u8],
    signature: Option<&str>,
) -> Result<(), SignatureError> {
    let signature = signature.ok_or(SignatureError::MissingHeader("X-HubSpot-Signature"))?;
    let expected = sign_v1(client_secret, body);
    if constant_time_eq(
        expected.as_bytes(),
        signature.trim().to_ascii_lowercase().as_bytes(),
    ) {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy";
    const URI: &str = "https://www.example.com/webhook_uri";
    const CANONICAL: &str = r#"[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM","changeFlag":"NEW","appId":54321}]"#;

    #[test]
    fn published_v1_vectors() {
        assert_eq!(
            sign_v1(SECRET, CANONICAL.as_bytes()),
            "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de"
        );
        assert_eq!(
            sign_v1(SECRET, b"{'example_field':'example_value'}"),
            "69fc6631a867edd4f9e9e627fc5c1148e3fbdd8b21837b6d2b8901c1fa57f750"
        );
        assert!(
            verify_v1(
                SECRET,
                CANONICAL.as_bytes(),
                Some("232DB2615F3D666FE21A8EC971AC7B5402D33B9A925784DF3CA654D05F4817DE")
            )
            .is_ok()
        );
    }

    #[test]
    fn published_v2_vectors() {
        assert_eq!(
            sign_v2(SECRET, "GET", URI, b""),
            "eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e"
        );
        assert_eq!(
            sign_v2(SECRET, "POST", URI, br#"{"example_field":"example_value"}"#),
            "9569219f8ba981ffa6f6f16aa0f48637d35d728c7e4d93d0d52efaa512af7900"
        );
        assert_eq!(
            sign_v2(SECRET, "POST", URI, b"{'example_field':'example_value'}"),
            "4fe4e3a7d3cf09db53be39d0a58130e2aaba074ec123a9e355b876a689a1c383"
        );
    }

    #[test]
    fn published_v3_vector_verifies_without_window() {
        let req = V3Request {
            method: "POST",
            uri: URI,
            body: b"{'example_field':'example_value'}",
            timestamp: Some("1693657560000"),
            signature: Some("K36dawei4A+QBNolUOqo7s91KQDWQ5MXZ/QufNYuk/Y="),
        };
        assert_eq!(verify_v3(SECRET, req, 0, None), Ok(()));
        // The same request is stale today.
        assert_eq!(
            verify_v3(SECRET, req, 1_693_657_560_000 + 301_000, Some(V3_WINDOW_S)),
            Err(SignatureError::Stale { window_s: 300 })
        );
        assert_eq!(
            verify_v3(SECRET, req, 1_693_657_560_000 + 299_000, Some(V3_WINDOW_S)),
            Ok(())
        );
    }

    #[test]
    fn v3_rejects_tampering_and_missing_headers() {
        let body = b"{'example_field':'example_value'}";
        let good = V3Request {
            method: "POST",
            uri: URI,
            body,
            timestamp: Some("1693657560000"),
            signature: Some("K36dawei4A+QBNolUOqo7s91KQDWQ5MXZ/QufNYuk/Y="),
        };
        let tampered = V3Request {
            body: b"{'example_field':'example_valuf'}",
            ..good
        };
        assert_eq!(
            verify_v3(SECRET, tampered, 0, None),
            Err(SignatureError::Mismatch)
        );
        let other_ts = V3Request {
            timestamp: Some("1693657560001"),
            ..good
        };
        assert_eq!(
            verify_v3(SECRET, other_ts, 0, None),
            Err(SignatureError::Mismatch)
        );
        let no_sig = V3Request {
            signature: None,
            ..good
        };
        assert_eq!(
            verify_v3(SECRET, no_sig, 0, None),
            Err(SignatureError::MissingHeader("X-HubSpot-Signature-v3"))
        );
        let bad_ts = V3Request {
            timestamp: Some("yesterday"),
            ..good
        };
        assert_eq!(
            verify_v3(SECRET, bad_ts, 0, None),
            Err(SignatureError::MalformedHeader(
                "X-HubSpot-Request-Timestamp"
            ))
        );
    }

    #[test]
    fn uri_decoding_follows_hubspots_table() {
        assert_eq!(
            decode_uri(
                "https://h.example/p%3Aa%2Fb%3Fc%40d%21e%24f%27g%28h%29i%2Aj%2Ck%3Bl?q=%20%2B%3D%26"
            ),
            "https://h.example/p:a/b?c@d!e$f'g(h)i*j,k;l?q=%20%2B%3D%26"
        );
        assert_eq!(
            decode_uri("https://h.example/x%3a%2f"),
            "https://h.example/x:/"
        );
        assert_eq!(
            decode_uri("https://h.example/ünï%2"),
            "https://h.example/ünï%2"
        );
        assert_eq!(
            decode_uri("https://h.example/%é%3a"),
            "https://h.example/%é:"
        );
        // A signature made over the decoded form verifies against the encoded URI.
        let sig = sign_v3(SECRET, "POST", "https://h.example/a:b", b"{}", "1");
        assert_eq!(
            sig,
            sign_v3(SECRET, "POST", "https://h.example/a%3Ab", b"{}", "1")
        );
    }
}
