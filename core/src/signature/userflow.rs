//! Userflow webhook signatures: `Userflow-Signature: t=<unix s>,v1=<hex HMAC-SHA256(secret,
//! "<t>.<body>")>`; several `v1=` values are accepted (secret rotation).

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::{SignatureError, constant_time_eq};

/// Accepted age of `t`, as in Userflow's reference verifier.
pub const TOLERANCE_S: u64 = 300;

/// The hex `v1` value for a body signed at `t` (unix seconds).
pub fn sign(secret: &str, t: i64, body: &[u8]) -> String {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail here.
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// The whole header value for a body signed at `t`.
pub fn header(secret: &str, t: i64, body: &[u8]) -> String {
    format!("t={t},v1={}", sign(secret, t, body))
}

/// Verifies a `Userflow-Signature` header against the raw body at `now_s` (unix seconds).
/// `tolerance_s` of `None` skips the age check.
pub fn verify(
    secret: &str,
    header: Option<&str>,
    body: &[u8],
    now_s: i64,
    tolerance_s: Option<u64>,
) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::MissingHeader("Userflow-Signature"))?;
    let mut t = None;
    let mut candidates = Vec::new();
    for part in header.split(',') {
        let Some((k, v)) = part.trim().split_once('=') else {
            return Err(SignatureError::MalformedHeader("Userflow-Signature"));
        };
        match k {
            "t" => t = v.parse::<i64>().ok(),
            "v1" => candidates.push(v),
            _ => {}
        }
    }
    let t = t.ok_or(SignatureError::MalformedHeader("Userflow-Signature"))?;
    if candidates.is_empty() {
        return Err(SignatureError::MalformedHeader("Userflow-Signature"));
    }
    if let Some(tol) = tolerance_s
        && (now_s - t).unsigned_abs() > tol
    {
        return Err(SignatureError::Stale { window_s: tol });
    }
    let expected = sign(secret, t, body);
    let mut ok = false;
    for c in candidates {
        // Check every candidate so timing does not reveal which one matched.
        ok |= constant_time_eq(expected.as_bytes(), c.to_ascii_lowercase().as_bytes());
    }
    if ok {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] = br#"{"id":"wn_1","object":"webhook_notification","topic":"user.updated"}"#;
    const V1: &str = "8d8bef62185d8ed6a7ce09562c222810e80cb4a1666297a50b9637fe48f1ce3e";

    #[test]
    fn derived_example_from_the_notes() {
        assert_eq!(sign("example-secret", 1_700_000_000, BODY), V1);
        let h = format!("t=1700000000,v1={V1}");
        assert_eq!(
            verify(
                "example-secret",
                Some(&h),
                BODY,
                1_700_000_100,
                Some(TOLERANCE_S)
            ),
            Ok(())
        );
    }

    #[test]
    fn rejects_stale_tampered_and_malformed() {
        let h = format!("t=1700000000,v1={V1}");
        assert_eq!(
            verify(
                "example-secret",
                Some(&h),
                BODY,
                1_700_000_301,
                Some(TOLERANCE_S)
            ),
            Err(SignatureError::Stale { window_s: 300 })
        );
        assert_eq!(
            verify(
                "other-secret",
                Some(&h),
                BODY,
                1_700_000_000,
                Some(TOLERANCE_S)
            ),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify("example-secret", Some("v1=abc"), BODY, 0, None),
            Err(SignatureError::MalformedHeader("Userflow-Signature"))
        );
        assert_eq!(
            verify("example-secret", None, BODY, 0, None),
            Err(SignatureError::MissingHeader("Userflow-Signature"))
        );
    }

    #[test]
    fn any_of_several_v1_values_may_match() {
        let h = format!("t=1700000000,v1=deadbeef,v1={V1}");
        assert_eq!(
            verify(
                "example-secret",
                Some(&h),
                BODY,
                1_700_000_000,
                Some(TOLERANCE_S)
            ),
            Ok(())
        );
    }
}
