//! [`dump`]: every key of a queue as sorted text, for snapshot-style assertions and for
//! looking at a queue by eye. Not for production paths (it SCANs the queue's keys).

use std::{collections::BTreeMap, fmt::Write};

use crate::{QueueAdmin, Result};

/// Renders all keys of the queue, sorted, one block per key:
///
/// ```text
/// {p:q}:job:abc (hash)
///   attempts = 1
///   state = waiting
/// {p:q}:ring (list) [t1, t2]
/// {p:q}:delayed (zset)
///   abc 1700000000000
/// ```
///
/// With `redact`, volatile values (timestamps, lease tokens, worker ids, time-scored sets,
/// the latency minute) are replaced by `<t>`/`<token>`/`<worker>` so two runs compare equal.
pub async fn dump(admin: &QueueAdmin, redact: bool) -> Result<String> {
    let mut conn = admin.conn();
    let keys = admin.keys();
    let mut names: Vec<String> = Vec::new();
    let mut cursor: u64 = 0;
    loop {
        let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(keys.pattern())
            .arg("COUNT")
            .arg(1000)
            .query_async(&mut conn)
            .await?;
        names.extend(batch);
        cursor = next;
        if cursor == 0 {
            break;
        }
    }
    names.sort();
    names.dedup();
    let tag = keys.tag().to_owned();
    let timed_sets = ["delayed", "active", "dead", "done", "workers"];
    let mut out = String::new();
    for name in names {
        let kind: String = redis::cmd("TYPE").arg(&name).query_async(&mut conn).await?;
        let suffix = name
            .strip_prefix(&tag)
            .unwrap_or(&name)
            .trim_start_matches(':');
        let shown = if redact && suffix.starts_with("lat:") {
            format!("{tag}:lat:<minute>")
        } else {
            name.clone()
        };
        match kind.as_str() {
            "string" => {
                let v: String = redis::cmd("GET").arg(&name).query_async(&mut conn).await?;
                let _ = writeln!(out, "{shown} = {v}");
            }
            "hash" => {
                let m: BTreeMap<String, String> = redis::cmd("HGETALL")
                    .arg(&name)
                    .query_async(&mut conn)
                    .await?;
                let _ = writeln!(out, "{shown} (hash)");
                for (f, v) in m {
                    let v = if redact && (f.ends_with("_ms") || f == "lease" || f == "owner") {
                        "<t>".to_owned()
                    } else {
                        v
                    };
                    let _ = writeln!(out, "  {f} = {v}");
                }
            }
            "list" => {
                let len: usize = redis::cmd("LLEN").arg(&name).query_async(&mut conn).await?;
                let items: Vec<String> = redis::cmd("LRANGE")
                    .arg(&name)
                    .arg(0)
                    .arg(999)
                    .query_async(&mut conn)
                    .await?;
                let more = if len > items.len() {
                    format!(" …+{}", len - items.len())
                } else {
                    String::new()
                };
                let _ = writeln!(out, "{shown} (list) [{}]{more}", items.join(", "));
            }
            "zset" => {
                let items: Vec<(String, f64)> = redis::cmd("ZRANGE")
                    .arg(&name)
                    .arg(0)
                    .arg(999)
                    .arg("WITHSCORES")
                    .query_async(&mut conn)
                    .await?;
                let timed = timed_sets.contains(&suffix);
                let mut lines: Vec<String> = items
                    .into_iter()
                    .map(|(m, s)| {
                        if redact && suffix == "workers" {
                            "  <worker> <t>".to_owned()
                        } else if redact && timed {
                            format!("  {m} <t>")
                        } else {
                            format!("  {m} {s}")
                        }
                    })
                    .collect();
                lines.sort();
                let _ = writeln!(out, "{shown} (zset)");
                for l in lines {
                    let _ = writeln!(out, "{l}");
                }
            }
            other => {
                let _ = writeln!(out, "{shown} ({other})");
            }
        }
    }
    Ok(out)
}
