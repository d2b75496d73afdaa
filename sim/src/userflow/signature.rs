//! Webhook signatures (§9): `Userflow-Signature: t=<unix seconds>,v1=<hex>` where
//! `v1 = lowercase_hex(HMAC-SHA256(key = secret, message = "<t>.<raw body>"))`.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::delivery::Signer;

/// Header name.
pub const HEADER: &str = "Userflow-Signature";

/// `lowercase_hex(HMAC-SHA256(secret, "<t>.<body>"))`.
pub fn v1(secret: &str, t: i64, body: &[u8]) -> String {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail here.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// The header value `t=<t>,v1=<hex>`.
pub fn header_value(secret: &str, t: i64, body: &[u8]) -> String {
    format!("t={t},v1={}", v1(secret, t, body))
}

/// Verifies a header the way §9 describes: any `v1` may match; `t` must be at most
/// `tolerance_s` old (and not more than that in the future). Constant-time comparison.
pub fn verify(header: &str, secret: &str, body: &[u8], now_s: i64, tolerance_s: i64) -> bool {
    let mut t = None;
    let mut sigs = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = v.parse::<i64>().ok(),
            Some(("v1", v)) => sigs.push(v.to_string()),
            _ => {}
        }
    }
    let Some(t) = t else { return false };
    if (now_s - t).abs() > tolerance_s {
        return false;
    }
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    sigs.iter()
        .any(|s| hex::decode(s).is_ok_and(|bytes| mac.clone().verify_slice(&bytes).is_ok()))
}

/// Signs each attempt with the subscription's secret.
pub struct UserflowSigner {
    /// Subscription secret.
    pub secret: String,
    /// Whether to add the header at all.
    pub enabled: bool,
    /// Seconds added to `t`.
    pub skew_s: i64,
}

impl Signer for UserflowSigner {
    fn headers(&self, _url: &str, body: &[u8], now_ms: i64) -> Vec<(String, String)> {
        if !self.enabled {
            return Vec::new();
        }
        let t = now_ms.div_euclid(1000) + self.skew_s;
        vec![(HEADER.to_string(), header_value(&self.secret, t, body))]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] = br#"{"id":"wn_1","object":"webhook_notification","topic":"user.updated"}"#;

    #[test]
    fn matches_the_derived_example_of_section_9() {
        assert_eq!(
            header_value("example-secret", 1_700_000_000, BODY),
            "t=1700000000,v1=8d8bef62185d8ed6a7ce09562c222810e80cb4a1666297a50b9637fe48f1ce3e"
        );
    }

    #[test]
    fn verify_checks_signature_and_window() {
        let h = header_value("s", 1000, BODY);
        assert!(verify(&h, "s", BODY, 1100, 300));
        assert!(!verify(&h, "other", BODY, 1100, 300));
        assert!(!verify(&h, "s", b"{}", 1100, 300));
        assert!(!verify(&h, "s", BODY, 1301, 300));
        let two = format!("t=1000,v1=00ff,{}", h.split(',').nth(1).unwrap_or_default());
        assert!(verify(&two, "s", BODY, 1000, 300));
    }

    #[test]
    fn signer_uses_seconds_and_skew() {
        let s = UserflowSigner {
            secret: "k".into(),
            enabled: true,
            skew_s: -400,
        };
        let h = s.headers("http://x", BODY, 1_700_000_000_999);
        assert_eq!(h[0].0, HEADER);
        assert!(h[0].1.starts_with("t=1699999600,v1="));
        let off = UserflowSigner {
            enabled: false,
            ..s
        };
        assert!(off.headers("http://x", BODY, 0).is_empty());
    }
}
