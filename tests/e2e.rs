//! End to end: the real roles as separate processes (api, workers, scheduler) against Redis,
//! Postgres and both simulators, one test per behaviour the product promises.
#![allow(clippy::unwrap_used)]

mod harness;

use std::time::Duration;

use harness::cluster::{Cluster, ClusterOptions};
use reqwest::Method;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_joins_the_cluster() {
    let c = Cluster::start(ClusterOptions::default()).await;
    let roles = c
        .eventually("api, worker and scheduler present", Duration::from_secs(30), || async {
            let (s, body) = c.op(Method::GET, "/cluster", None).await;
            assert_eq!(s, 200, "{body}");
            let text = body.to_string();
            (text.contains("\"api\"") && text.contains("\"worker\"") && text.contains("\"scheduler\""))
                .then_some(body)
        })
        .await;
    assert!(roles.to_string().contains("worker"));
}
