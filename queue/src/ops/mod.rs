//! One module per Lua script (`queue/lua/<verb>_<noun>.lua`), each the script's only Rust
//! caller. Every module declares `NUM_KEYS` and builds its `KEYS` as a `[&str; NUM_KEYS]`,
//! so the count cannot drift from the call; the header test below checks it against the
//! script's header. Scripts are `LazyLock<redis::Script>` statics: `invoke_async` sends
//! `EVALSHA` and reloads the script on `NOSCRIPT` (after a Redis restart).
//!
//! Shared Lua helpers live in `lua/includes/common.lua` and are prepended with
//! `concat!(include_str!(..), include_str!(..))` at compile time (no build script needed).

use redis::Value;

use crate::QueueError;

macro_rules! lua_script {
    ($file:literal) => {
        /// The script source (without the shared includes), for the header test.
        #[allow(dead_code)]
        pub(crate) const SOURCE: &str = include_str!(concat!("../../lua/", $file));
        pub(crate) static SCRIPT: std::sync::LazyLock<redis::Script> =
            std::sync::LazyLock::new(|| {
                redis::Script::new(concat!(
                    include_str!("../../lua/includes/common.lua"),
                    include_str!(concat!("../../lua/", $file))
                ))
            });
    };
}

pub(crate) mod ack_jobs;
pub(crate) mod discard_jobs;
pub(crate) mod enqueue_jobs;
pub(crate) mod lease_next;
pub(crate) mod promote_due;
pub(crate) mod reclaim_expired;
pub(crate) mod release_jobs;
pub(crate) mod renew_leases;
pub(crate) mod resume_tenant;
pub(crate) mod retry_dead;
pub(crate) mod retry_or_bury;
pub(crate) mod trim_retention;

/// Builds an invocation with exactly `N` keys followed by `ARGV[1] = P`.
pub(crate) fn invocation<const N: usize>(
    script: &'static redis::Script,
    keys: [&str; N],
    tag: &str,
) -> redis::ScriptInvocation<'static> {
    let mut inv = script.prepare_invoke();
    for k in keys {
        inv.key(k);
    }
    inv.arg(tag);
    inv
}

pub(crate) fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Int(i) => Some(*i),
        Value::BulkString(b) => std::str::from_utf8(b).ok()?.parse().ok(),
        Value::SimpleString(s) => s.parse().ok(),
        _ => None,
    }
}

pub(crate) fn string(v: &Value) -> Option<String> {
    match v {
        Value::BulkString(b) => Some(String::from_utf8_lossy(b).into_owned()),
        Value::SimpleString(s) => Some(s.clone()),
        Value::Int(i) => Some(i.to_string()),
        _ => None,
    }
}

pub(crate) fn array(script: &'static str, v: Value) -> Result<Vec<Value>, QueueError> {
    match v {
        Value::Array(a) => Ok(a),
        Value::Nil => Ok(Vec::new()),
        other => Err(protocol(
            script,
            format!("expected an array, got {other:?}"),
        )),
    }
}

pub(crate) fn strings(script: &'static str, v: Value) -> Result<Vec<String>, QueueError> {
    array(script, v)?
        .iter()
        .map(|x| string(x).ok_or_else(|| protocol(script, format!("not a string: {x:?}"))))
        .collect()
}

pub(crate) fn int_pair(script: &'static str, v: Value) -> Result<(i64, i64), QueueError> {
    let a = array(script, v)?;
    match (a.first().and_then(int), a.get(1).and_then(int)) {
        (Some(x), Some(y)) => Ok((x, y)),
        _ => Err(protocol(
            script,
            format!("expected two integers, got {a:?}"),
        )),
    }
}

pub(crate) fn protocol(script: &'static str, detail: String) -> QueueError {
    QueueError::Protocol { script, detail }
}

/// Milliseconds of a duration, saturating, as sent to scripts.
pub(crate) fn ms(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    /// (script file, source, NUM_KEYS of its wrapper)
    fn scripts() -> Vec<(&'static str, &'static str, usize)> {
        vec![
            (
                "ack_jobs",
                super::ack_jobs::SOURCE,
                super::ack_jobs::NUM_KEYS,
            ),
            (
                "discard_jobs",
                super::discard_jobs::SOURCE,
                super::discard_jobs::NUM_KEYS,
            ),
            (
                "enqueue_jobs",
                super::enqueue_jobs::SOURCE,
                super::enqueue_jobs::NUM_KEYS,
            ),
            (
                "lease_next",
                super::lease_next::SOURCE,
                super::lease_next::NUM_KEYS,
            ),
            (
                "promote_due",
                super::promote_due::SOURCE,
                super::promote_due::NUM_KEYS,
            ),
            (
                "reclaim_expired",
                super::reclaim_expired::SOURCE,
                super::reclaim_expired::NUM_KEYS,
            ),
            (
                "release_jobs",
                super::release_jobs::SOURCE,
                super::release_jobs::NUM_KEYS,
            ),
            (
                "renew_leases",
                super::renew_leases::SOURCE,
                super::renew_leases::NUM_KEYS,
            ),
            (
                "resume_tenant",
                super::resume_tenant::SOURCE,
                super::resume_tenant::NUM_KEYS,
            ),
            (
                "retry_dead",
                super::retry_dead::SOURCE,
                super::retry_dead::NUM_KEYS,
            ),
            (
                "retry_or_bury",
                super::retry_or_bury::SOURCE,
                super::retry_or_bury::NUM_KEYS,
            ),
            (
                "trim_retention",
                super::trim_retention::SOURCE,
                super::trim_retention::NUM_KEYS,
            ),
        ]
    }

    #[test]
    fn lua_headers_match_num_keys() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/lua");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .expect("lua dir")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".lua"))
            .map(|n| n.trim_end_matches(".lua").to_owned())
            .collect();
        on_disk.sort();
        let mut wrapped: Vec<String> = scripts().iter().map(|s| s.0.to_owned()).collect();
        wrapped.sort();
        assert_eq!(on_disk, wrapped, "every script has exactly one ops module");

        for (name, source, num_keys) in scripts() {
            let header_end = source
                .find("]]")
                .unwrap_or_else(|| panic!("{name}: no header"));
            let header = &source[..header_end];
            assert!(
                source.starts_with("--[["),
                "{name}: header must open the file"
            );
            assert!(header.contains("Returns:"), "{name}: header lacks Returns:");
            assert!(header.contains("Errors:"), "{name}: header lacks Errors:");
            assert!(
                header.contains("ARGV[1] P"),
                "{name}: ARGV[1] must be the prefix P"
            );
            let key_lines: Vec<usize> = header
                .lines()
                .filter_map(|l| l.trim().strip_prefix("KEYS["))
                .map(|rest| {
                    rest.split(']')
                        .next()
                        .and_then(|n| n.parse().ok())
                        .unwrap_or_else(|| panic!("{name}: bad KEYS line {rest}"))
                })
                .collect();
            let expected: Vec<usize> = (1..=num_keys).collect();
            assert_eq!(
                key_lines, expected,
                "{name}: KEYS lines vs NUM_KEYS {num_keys}"
            );
            // The body uses each declared key and no other.
            let body = &source[header_end..];
            for i in 1..=num_keys {
                assert!(
                    body.contains(&format!("KEYS[{i}]")),
                    "{name}: KEYS[{i}] unused"
                );
            }
            assert!(
                !body.contains(&format!("KEYS[{}]", num_keys + 1)),
                "{name}: body uses an undeclared key"
            );
        }
    }
}
