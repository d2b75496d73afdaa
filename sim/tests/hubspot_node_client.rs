//! Runs HubSpot's official Node client (`@hubspot/api-client`, pinned in `tests/node`) against
//! the HubSpot simulator: CRUD, batch, search, properties, associations, custom objects,
//! timeline and webhook signatures (`Signature.isValid` v1 and v3). Installs the client with
//! `npm ci` on first run. Without Node.js the test is skipped, except under CI where it fails.

use std::path::Path;
use std::process::Command;

use hubsync_sim::hubspot::{Config, Simulator};
use hubsync_sim::serve::spawn;

fn node_available() -> bool {
    Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn npm_ci(dir: &Path) {
    let marker = dir.join("node_modules/@hubspot/api-client/package.json");
    if marker.exists() {
        return;
    }
    let out = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--prefer-offline"])
        .current_dir(dir)
        .output()
        .expect("run npm ci");
    assert!(
        out.status.success(),
        "npm ci failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn official_node_client_runs_green_against_the_simulator() {
    if !node_available() {
        assert!(
            std::env::var_os("CI").is_none(),
            "Node.js is required for this test under CI"
        );
        eprintln!("skipped: Node.js is not installed");
        return;
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/node");
    npm_ci(&dir);

    let mut config = Config::default();
    config.crm.search_index_lag_ms = 0;
    let app = config.apps[0].clone();
    let token = config.portals[0].private_app_token.clone();
    let sim = Simulator::new(config);
    let server = spawn("127.0.0.1:0", sim.router())
        .await
        .expect("bind simulator");

    let minted: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/_sim/hubspot/oauth/tokens", server.base_url()))
        .json(&serde_json::json!({"app_id": app.app_id}))
        .send()
        .await
        .expect("mint token")
        .json()
        .await
        .expect("token JSON");
    let oauth_token = minted["access_token"]
        .as_str()
        .expect("access_token")
        .to_string();

    let out = tokio::process::Command::new("node")
        .arg("fidelity.mjs")
        .current_dir(&dir)
        .env("SIM_BASE", server.base_url())
        .env("SIM_TOKEN", token)
        .env("SIM_OAUTH_TOKEN", oauth_token)
        .env("SIM_DEV_KEY", &app.developer_api_key)
        .env("SIM_APP_ID", app.app_id.to_string())
        .env("SIM_CLIENT_SECRET", &app.client_secret)
        .output()
        .await
        .expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "node failed:\n{stdout}\n{stderr}");
    let line = stdout.lines().last().expect("a result line");
    let report: serde_json::Value = serde_json::from_str(line).expect("JSON result line");
    let results = report["results"].as_array().expect("results");
    assert!(results.len() >= 12, "too few checks ran: {report}");
    let failures: Vec<String> = results
        .iter()
        .filter(|r| r["ok"] != true)
        .map(|r| format!("- {}: {}", r["name"], r["error"]))
        .collect();
    assert!(
        failures.is_empty(),
        "the official client disagrees with the simulator:\n{}",
        failures.join("\n")
    );
}
