//! Deterministic demo data.
//!
//! **Email scheme** (shared with the HubSpot simulator so both sides can overlap): person
//! `n` (1-based) of seed `s` is
//! `first = FIRST_NAMES[(s + n) % 16]`, `last = LAST_NAMES[(s + 7·n) % 16]`,
//! `domain = DEMO_DOMAINS[(n - 1) % 5]`, email `"{first}.{last}{n}@{domain}"` in lower case
//! (see [`demo_email`]; arithmetic is done modulo 16 so any `u64` seed works). User `n` has id
//! `u_{n:04}` and joins group `(n - 1) % groups`; group `k` (0-based) has id `g_{k+1:03}`,
//! name `COMPANY_NAMES[k % 5]` and domain `DEMO_DOMAINS[k % 5]` (a `" {k/5+1}"` suffix on the
//! name from the sixth group on). Other attributes (`signed_up_at`, `plan`, `logins`,
//! `locale`, group `plan`/`seats`, membership `role`) come from a `ChaCha8Rng` seeded with
//! `s`. Seeding writes through the store like the API but sends no notifications.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::Simulator;
use super::errors::ApiResult;
use super::store::{GroupInput, MembershipInput, UserInput};

/// First names of demo people (16).
pub const FIRST_NAMES: [&str; 16] = [
    "ada",
    "alan",
    "grace",
    "linus",
    "margaret",
    "dennis",
    "barbara",
    "ken",
    "frances",
    "edsger",
    "radia",
    "donald",
    "hedy",
    "john",
    "katherine",
    "niklaus",
];

/// Last names of demo people (16).
pub const LAST_NAMES: [&str; 16] = [
    "lovelace", "turing", "hopper", "torvalds", "hamilton", "ritchie", "liskov", "thompson",
    "allen", "dijkstra", "perlman", "knuth", "lamarr", "backus", "johnson", "wirth",
];

/// Email domains / company domains (5).
pub const DEMO_DOMAINS: [&str; 5] = [
    "acme.example",
    "globex.example",
    "initech.example",
    "umbrella.example",
    "hooli.example",
];

/// Company names matching [`DEMO_DOMAINS`].
pub const COMPANY_NAMES: [&str; 5] = ["Acme", "Globex", "Initech", "Umbrella", "Hooli"];

/// What to generate.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct SeedSpec {
    /// Seed of names and attributes. Default 42.
    pub seed: u64,
    /// Number of users. Default 20.
    pub users: usize,
    /// Number of groups. Default 5.
    pub groups: usize,
}

impl Default for SeedSpec {
    fn default() -> Self {
        Self {
            seed: 42,
            users: 20,
            groups: 5,
        }
    }
}

/// `(first, last)` of demo person `n` (1-based) for `seed`, lower case.
pub fn demo_person(seed: u64, n: usize) -> (&'static str, &'static str) {
    let s = (seed % 16) as usize;
    let n16 = n % 16;
    (FIRST_NAMES[(s + n16) % 16], LAST_NAMES[(s + 7 * n16) % 16])
}

/// Email of demo person `n` (1-based) for `seed`: `first.last{n}@domain`.
pub fn demo_email(seed: u64, n: usize) -> String {
    let (first, last) = demo_person(seed, n);
    let domain = DEMO_DOMAINS[n.saturating_sub(1) % DEMO_DOMAINS.len()];
    format!("{first}.{last}{n}@{domain}")
}

/// Id of demo user `n` (1-based).
pub fn demo_user_id(n: usize) -> String {
    format!("u_{n:04}")
}

/// Id of demo group `k` (0-based).
pub fn demo_group_id(k: usize) -> String {
    format!("g_{:03}", k + 1)
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

fn obj(v: Value) -> Option<Map<String, Value>> {
    v.as_object().cloned()
}

/// Seeds `env` with `spec` (users and groups are upserted, so seeding twice merges).
pub fn apply(sim: &Simulator, env: &str, spec: &SeedSpec) {
    if let Err(e) = try_apply(sim, env, spec) {
        tracing::warn!(env, error = %e.message, "userflow seed failed");
    }
}

fn try_apply(sim: &Simulator, env: &str, spec: &SeedSpec) -> ApiResult<()> {
    let knobs = sim.knobs();
    let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
    let plans = ["free", "starter", "pro", "enterprise"];
    let locales = ["en-US", "en-GB", "de-DE", "fr-FR"];
    sim.inner.store.with_env(env, |d| {
        for k in 0..spec.groups {
            let mut name = COMPANY_NAMES[k % 5].to_string();
            if k >= 5 {
                name = format!("{name} {}", k / 5 + 1);
            }
            let attrs = json!({
                "name": name,
                "domain": DEMO_DOMAINS[k % 5],
                "plan": plans[rng.random_range(0..plans.len())],
                "seats": rng.random_range(1..=50),
            });
            d.upsert_group(
                GroupInput {
                    id: demo_group_id(k),
                    attributes: obj(attrs),
                },
                &knobs,
            )?;
        }
        for n in 1..=spec.users {
            let (first, last) = demo_person(spec.seed, n);
            let day = rng.random_range(0..365);
            let signed_up = chrono::NaiveDate::from_ymd_opt(2024, 1, 1)
                .and_then(|d| d.checked_add_days(chrono::Days::new(day)))
                .map(|d| format!("{d}T09:00:00.000+00:00"))
                .unwrap_or_default();
            let attrs = json!({
                "name": format!("{} {}", capitalize(first), capitalize(last)),
                "email": demo_email(spec.seed, n),
                "signed_up_at": signed_up,
                "plan": plans[rng.random_range(0..plans.len())],
                "logins": rng.random_range(0..200),
                "locale": locales[rng.random_range(0..locales.len())],
            });
            let role = if rng.random_bool(0.2) {
                "admin"
            } else {
                "member"
            };
            let memberships = (spec.groups > 0).then(|| {
                vec![MembershipInput {
                    attributes: obj(json!({"role": role})),
                    group: GroupInput {
                        id: demo_group_id((n - 1) % spec.groups),
                        ..GroupInput::default()
                    },
                }]
            });
            d.upsert_user(
                UserInput {
                    id: demo_user_id(n),
                    attributes: obj(attrs),
                    memberships,
                    ..UserInput::default()
                },
                &knobs,
            )?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_scheme() {
        assert_eq!(demo_email(42, 1), "donald.turing1@acme.example");
        assert_eq!(demo_email(42, 2), "hedy.allen2@globex.example");
        assert_eq!(demo_email(0, 6), "barbara.perlman6@acme.example");
        assert_eq!(demo_email(u64::MAX, 16), "niklaus.wirth16@acme.example");
    }
}
