//! The example configuration files shown in `docs/simulators.md` (`--hubspot-config FILE`,
//! `--userflow-config FILE`): they appear in the document verbatim, parse into the simulators'
//! `Config`s, and start simulators with the data they ask for.

#![allow(clippy::unwrap_used)]

use hubsync_sim::serve::spawn;
use hubsync_sim::{hubspot, userflow};
use serde_json::Value;

const DOC: &str = include_str!("../../docs/simulators.md");
const HUBSPOT: &str = include_str!("../../docs/simulators/hubspot-config.json");
const USERFLOW: &str = include_str!("../../docs/simulators/userflow-config.json");

#[test]
fn the_document_shows_both_examples_verbatim() {
    for (name, text) in [("hubspot", HUBSPOT), ("userflow", USERFLOW)] {
        assert!(
            DOC.contains(text.trim_end()),
            "docs/simulators.md must show docs/simulators/{name}-config.json verbatim"
        );
    }
}

#[test]
fn the_hubspot_example_parses() {
    let c: hubspot::Config = serde_json::from_str(HUBSPOT).unwrap();
    let portals: Vec<(u64, &str)> = c
        .portals
        .iter()
        .map(|p| (p.portal_id, p.tier.as_str()))
        .collect();
    assert_eq!(portals, [(62515, "professional"), (70001, "free")]);
    assert_eq!(c.portals[1].hub_domain, "", "left out: empty");
    assert_eq!(c.apps[0].developer_api_key, "sim-dev-key");
    assert_eq!(
        (c.seed.seed, c.seed.contacts, c.seed.companies, c.seed.deals),
        (42, 200, 20, 50)
    );
    assert!(c.seed.custom_objects);
    assert_eq!(c.crm.search_index_lag_ms, 0);
    assert_eq!(c.crm.list_page_default, 10, "left out: default kept");
    assert_eq!(c.rate_limits.burst_max, Some(1000));
    assert!(c.rate_limits.retry_after_on_429);
    assert_eq!(c.oauth.access_token_ttl_s, 300);
    assert!(c.oauth.refresh_token_rotates);
    assert_eq!(c.webhooks.webhook_batch_window_ms, 0);
    assert_eq!(c.webhooks.delivery.time_scale, 0.001);
    assert_eq!(
        c.webhooks.delivery.max_retries, 10,
        "HubSpot sender default"
    );
    assert_eq!(c.faults.latency_ms, 20);
}

#[test]
fn the_userflow_example_parses() {
    let c: userflow::Config = serde_json::from_str(USERFLOW).unwrap();
    assert_eq!(c.environments.len(), 2);
    assert_eq!((c.seed.users, c.seed.groups), (200, 20));
    assert_eq!(c.delivery.max_retries, 3, "Userflow sender default");
}

async fn control_get(base: &str, path: &str) -> Value {
    reqwest::get(format!("{base}{path}"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn both_examples_start_with_their_demo_data() {
    // Faults hit API routes only; the control routes read here are never faulted.
    let hs: hubspot::Config = serde_json::from_str(HUBSPOT).unwrap();
    let hs = spawn("127.0.0.1:0", hubspot::Simulator::new(hs).router())
        .await
        .unwrap();
    for portal in [62515, 70001] {
        let contacts = control_get(
            &hs.base_url(),
            &format!("/_sim/hubspot/portals/{portal}/objects/contacts"),
        )
        .await;
        assert_eq!(contacts["total"], 200);
    }

    let uf: userflow::Config = serde_json::from_str(USERFLOW).unwrap();
    let uf = spawn("127.0.0.1:0", userflow::Simulator::new(uf).router())
        .await
        .unwrap();
    let envs = control_get(&uf.base_url(), "/_sim/userflow/envs").await;
    assert_eq!(envs[0]["users"], 200);
    assert_eq!(envs[0]["groups"], 20);
    assert_eq!(envs[1]["users"], 0, "only the first environment is seeded");
}
