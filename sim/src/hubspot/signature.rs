//! HubSpot request signatures (`docs/hubspot-api.md` §10): v1 and v3 on webhook deliveries,
//! v2 for completeness (workflow actions, CRM cards), plus the v3 verification rules (URI
//! decoding table, 5-minute window) so tests and tools can check what the simulator sends.
//!
//! Written from the API notes on purpose: the simulator must not share signing code with the
//! service it tests. Unit-tested against every published vector of §10.1.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Header carrying the v1 or v2 signature.
pub const HEADER_SIGNATURE: &str = "X-HubSpot-Signature";
/// Header naming the version of [`HEADER_SIGNATURE`] (`v1` or `v2`).
pub const HEADER_SIGNATURE_VERSION: &str = "X-HubSpot-Signature-Version";
/// Header carrying the v3 signature.
pub const HEADER_SIGNATURE_V3: &str = "X-HubSpot-Signature-v3";
/// Header carrying the v3 timestamp (epoch milliseconds, as a string).
pub const HEADER_REQUEST_TIMESTAMP: &str = "X-HubSpot-Request-Timestamp";

/// A signature version HubSpot uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SignatureVersion {
    /// `hex(SHA-256(secret + body))`.
    V1,
    /// `hex(SHA-256(secret + method + uri + body))`.
    V2,
    /// `base64(HMAC-SHA256(secret, method + uri + body + timestamp))`.
    V3,
}

/// v1: lower-case hex of `SHA-256(client_secret + raw_body)`.
pub fn v1(client_secret: &str, body: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(client_secret.as_bytes());
    h.update(body);
    hex::encode(h.finalize())
}

/// v2: lower-case hex of `SHA-256(client_secret + method + uri + raw_body)`; `uri` exactly as
/// called.
pub fn v2(client_secret: &str, method: &str, uri: &str, body: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(client_secret.as_bytes());
    h.update(method.as_bytes());
    h.update(uri.as_bytes());
    h.update(body);
    hex::encode(h.finalize())
}

/// v3: standard padded base64 of `HMAC-SHA256(key = client_secret, method + uri + raw_body +
/// timestamp)`. `uri` is used as given (apply [`decode_v3_uri`] first when verifying).
pub fn v3(client_secret: &str, method: &str, uri: &str, body: &[u8], timestamp: &str) -> String {
    // HMAC accepts keys of any length, so this constructor cannot fail; fall back to an empty
    // signature rather than panic.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(client_secret.as_bytes()) else {
        return String::new();
    };
    mac.update(method.as_bytes());
    mac.update(uri.as_bytes());
    mac.update(body);
    mac.update(timestamp.as_bytes());
    BASE64.encode(mac.finalize().into_bytes())
}

/// The escapes HubSpot decodes in the v3 URI (§10 step 2); every other escape stays encoded.
const V3_DECODED: [(&str, char); 12] = [
    ("3A", ':'),
    ("2F", '/'),
    ("3F", '?'),
    ("40", '@'),
    ("21", '!'),
    ("24", '$'),
    ("27", '\''),
    ("28", '('),
    ("29", ')'),
    ("2A", '*'),
    ("2C", ','),
    ("3B", ';'),
];

/// Applies §10's URI decoding rule: decodes only `%3A %2F %3F %40 %21 %24 %27 %28 %29 %2A %2C
/// %3B` (case-insensitively) and leaves every other escape (`%20`, `%2B`, `%3D`, `%26`, …) as is.
pub fn decode_v3_uri(uri: &str) -> String {
    let mut out = String::with_capacity(uri.len());
    let mut rest = uri;
    while let Some(pos) = rest.find('%') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        let decoded = after.get(..2).and_then(|code| {
            V3_DECODED
                .iter()
                .find(|(hex, _)| hex.eq_ignore_ascii_case(code))
                .map(|(_, c)| *c)
        });
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &after[2..];
            }
            None => {
                out.push('%');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Constant-time comparison of two signature strings.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Why a v3 signature was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum V3Rejection {
    /// The timestamp header is not a number of milliseconds.
    BadTimestamp,
    /// The timestamp is older than the window (HubSpot: 5 minutes).
    Stale,
    /// The signature does not match.
    Mismatch,
}

/// Verifies a v3 signature the way §10 tells receivers to: reject timestamps older than
/// `window_ms` (`None` disables the check, as needed for the published vector), decode the URI,
/// recompute and compare in constant time.
#[allow(clippy::too_many_arguments)]
pub fn verify_v3(
    client_secret: &str,
    method: &str,
    uri: &str,
    body: &[u8],
    timestamp: &str,
    signature: &str,
    now_ms: i64,
    window_ms: Option<i64>,
) -> Result<(), V3Rejection> {
    if let Some(window) = window_ms {
        let ts: i64 = timestamp
            .trim()
            .parse()
            .map_err(|_| V3Rejection::BadTimestamp)?;
        if now_ms.saturating_sub(ts) > window {
            return Err(V3Rejection::Stale);
        }
    }
    let expected = v3(client_secret, method, &decode_v3_uri(uri), body, timestamp);
    if constant_time_eq(&expected, signature) {
        Ok(())
    } else {
        Err(V3Rejection::Mismatch)
    }
}

/// The signature headers of one `POST` delivery of `body` to `url` at `now_ms`, for the given
/// versions. v1 and v2 share `X-HubSpot-Signature`; when both are asked for, v1 wins (HubSpot
/// sends v1 on CRM webhook deliveries). The v3 URI is the target URL after the §10 decoding
/// rule, which is the exact target URL unless it contains one of the decoded escapes.
pub fn delivery_headers(
    client_secret: &str,
    versions: &[SignatureVersion],
    url: &str,
    body: &[u8],
    now_ms: i64,
) -> Vec<(String, String)> {
    let mut headers = Vec::new();
    if versions.contains(&SignatureVersion::V1) {
        headers.push((HEADER_SIGNATURE.to_string(), v1(client_secret, body)));
        headers.push((HEADER_SIGNATURE_VERSION.to_string(), "v1".to_string()));
    } else if versions.contains(&SignatureVersion::V2) {
        headers.push((
            HEADER_SIGNATURE.to_string(),
            v2(client_secret, "POST", url, body),
        ));
        headers.push((HEADER_SIGNATURE_VERSION.to_string(), "v2".to_string()));
    }
    if versions.contains(&SignatureVersion::V3) {
        let ts = now_ms.to_string();
        headers.push((
            HEADER_SIGNATURE_V3.to_string(),
            v3(client_secret, "POST", &decode_v3_uri(url), body, &ts),
        ));
        headers.push((HEADER_REQUEST_TIMESTAMP.to_string(), ts));
    }
    headers
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy";
    const URI: &str = "https://www.example.com/webhook_uri";
    const CANONICAL: &str = r#"[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM","changeFlag":"NEW","appId":54321}]"#;
    const JSON_BODY: &str = r#"{"example_field":"example_value"}"#;
    const QUOTED_BODY: &str = "{'example_field':'example_value'}";

    #[test]
    fn v1_canonical_vector() {
        assert_eq!(
            v1(SECRET, CANONICAL.as_bytes()),
            "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de"
        );
    }

    #[test]
    fn v2_get_empty_vector() {
        assert_eq!(
            v2(SECRET, "GET", URI, b""),
            "eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e"
        );
    }

    #[test]
    fn v2_post_json_vector() {
        assert_eq!(
            v2(SECRET, "POST", URI, JSON_BODY.as_bytes()),
            "9569219f8ba981ffa6f6f16aa0f48637d35d728c7e4d93d0d52efaa512af7900"
        );
    }

    #[test]
    fn v1_single_quoted_vector() {
        assert_eq!(
            v1(SECRET, QUOTED_BODY.as_bytes()),
            "69fc6631a867edd4f9e9e627fc5c1148e3fbdd8b21837b6d2b8901c1fa57f750"
        );
    }

    #[test]
    fn v2_post_single_quoted_vector() {
        assert_eq!(
            v2(SECRET, "POST", URI, QUOTED_BODY.as_bytes()),
            "4fe4e3a7d3cf09db53be39d0a58130e2aaba074ec123a9e355b876a689a1c383"
        );
    }

    #[test]
    fn v3_vector() {
        let expected = "K36dawei4A+QBNolUOqo7s91KQDWQ5MXZ/QufNYuk/Y=";
        assert_eq!(
            v3(SECRET, "POST", URI, QUOTED_BODY.as_bytes(), "1693657560000"),
            expected
        );
        assert_eq!(
            verify_v3(
                SECRET,
                "POST",
                URI,
                QUOTED_BODY.as_bytes(),
                "1693657560000",
                expected,
                i64::MAX,
                None
            ),
            Ok(())
        );
        // With the window on, the 2023 vector is stale.
        assert_eq!(
            verify_v3(
                SECRET,
                "POST",
                URI,
                QUOTED_BODY.as_bytes(),
                "1693657560000",
                expected,
                1_693_657_560_000 + 300_001,
                Some(300_000)
            ),
            Err(V3Rejection::Stale)
        );
    }

    #[test]
    fn v3_uri_decoding_keeps_other_escapes() {
        assert_eq!(
            decode_v3_uri("https://h/p%3a%2Fq?x=%40a%20b%2Bc%3Dd%26e%2c%3B%25"),
            "https://h/p:/q?x=@a%20b%2Bc%3Dd%26e,;%25"
        );
        assert_eq!(decode_v3_uri("%"), "%");
        assert_eq!(decode_v3_uri("a%2"), "a%2");
        assert_eq!(decode_v3_uri("%21%24%27%28%29%2A%3F"), "!$'()*?");
    }

    #[test]
    fn verify_v3_detects_tampering_and_bad_timestamps() {
        let now = 1_700_000_000_000_i64;
        let ts = now.to_string();
        let sig = v3(SECRET, "POST", URI, b"[]", &ts);
        assert_eq!(
            verify_v3(SECRET, "POST", URI, b"[]", &ts, &sig, now, Some(300_000)),
            Ok(())
        );
        assert_eq!(
            verify_v3(SECRET, "POST", URI, b"[1]", &ts, &sig, now, Some(300_000)),
            Err(V3Rejection::Mismatch)
        );
        assert_eq!(
            verify_v3(SECRET, "POST", URI, b"[]", "soon", &sig, now, Some(300_000)),
            Err(V3Rejection::BadTimestamp)
        );
    }

    #[test]
    fn delivery_headers_follow_the_requested_versions() {
        let h = delivery_headers(
            SECRET,
            &[SignatureVersion::V1, SignatureVersion::V3],
            URI,
            CANONICAL.as_bytes(),
            1,
        );
        let get = |n: &str| h.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
        assert_eq!(
            get(HEADER_SIGNATURE).as_deref(),
            Some("232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de")
        );
        assert_eq!(get(HEADER_SIGNATURE_VERSION).as_deref(), Some("v1"));
        assert_eq!(get(HEADER_REQUEST_TIMESTAMP).as_deref(), Some("1"));
        assert_eq!(
            get(HEADER_SIGNATURE_V3),
            Some(v3(SECRET, "POST", URI, CANONICAL.as_bytes(), "1"))
        );
        let only_v2 = delivery_headers(SECRET, &[SignatureVersion::V2], URI, b"{}", 1);
        assert_eq!(only_v2.len(), 2);
        assert!(
            only_v2
                .iter()
                .any(|(k, v)| k == HEADER_SIGNATURE_VERSION && v == "v2")
        );
    }
}
