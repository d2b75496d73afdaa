//! `hubsync sim`: the HubSpot and Userflow simulators on their own ports.

use anyhow::Context;
use hubsync_sim::{hubspot, serve, userflow};

use crate::cli::{SeedArgs, SimArgs, SimBinds};
use crate::roles;

/// Both simulators, running.
pub struct Simulators {
    pub hubspot: serve::Running,
    pub userflow: serve::Running,
    /// The simulated HubSpot's first app, which `hubsync dev` runs as.
    pub hubspot_app: Option<hubspot::AppSpec>,
}

impl Simulators {
    /// Settings that point every role at these simulators, as their first app, with the api
    /// reachable at `public_url`.
    pub fn settings(&self, public_url: String) -> hubsync_sync::Settings {
        let hubspot_base = self.hubspot.base_url();
        let app = self.hubspot_app.as_ref();
        hubsync_sync::Settings {
            hubspot: hubsync_sync::HubspotApp {
                app_id: app.map(|a| a.app_id),
                client_id: app.map(|a| a.client_id.clone()),
                client_secret: app.map(|a| a.client_secret.clone()),
                developer_api_key: app.map(|a| a.developer_api_key.clone()),
                authorize_url: format!("{hubspot_base}/oauth/authorize"),
                api_base: hubspot_base,
                scopes: hubsync_sync::DEFAULT_SCOPES
                    .iter()
                    .map(|s| s.to_string())
                    .collect(),
            },
            userflow_api_base: self.userflow.base_url(),
            hubspot_limits: hubsync_sync::ratelimit::PortalLimits::OAUTH_APP,
            public_url: Some(public_url),
        }
    }
}

/// Builds the configurations from files and flags, starts both simulators and prints their
/// `listening` lines; shared with `hubsync dev`.
pub async fn start(
    binds: &SimBinds,
    seed: &SeedArgs,
    hubspot_file: Option<&std::path::Path>,
    userflow_file: Option<&std::path::Path>,
) -> anyhow::Result<Simulators> {
    let mut hs: hubspot::Config = read_json(hubspot_file)?;
    if let Some(n) = seed.seed {
        hs.seed.seed = n;
    }
    if let Some(n) = seed.contacts {
        hs.seed.contacts = n;
    }
    if let Some(n) = seed.companies {
        hs.seed.companies = n;
    }
    if let Some(n) = seed.deals {
        hs.seed.deals = n;
    }
    let mut uf: userflow::Config = read_json(userflow_file)?;
    if let Some(n) = seed.seed {
        uf.seed.seed = n;
    }
    if let Some(n) = seed.users {
        uf.seed.users = n;
    }
    if let Some(n) = seed.groups {
        uf.seed.groups = n;
    }
    let hubspot_app = hs.apps.first().cloned();
    let hubspot = serve::spawn(&binds.hubspot_bind, hubspot::Simulator::new(hs).router())
        .await
        .with_context(|| format!("cannot listen on {}", binds.hubspot_bind))?;
    println!("listening role=sim-hubspot addr={}", hubspot.addr);
    let userflow = serve::spawn(&binds.userflow_bind, userflow::Simulator::new(uf).router())
        .await
        .with_context(|| format!("cannot listen on {}", binds.userflow_bind))?;
    println!("listening role=sim-userflow addr={}", userflow.addr);
    Ok(Simulators {
        hubspot,
        userflow,
        hubspot_app,
    })
}

fn read_json<T: serde::de::DeserializeOwned + Default>(
    path: Option<&std::path::Path>,
) -> anyhow::Result<T> {
    let Some(path) = path else {
        return Ok(T::default());
    };
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text)
        .with_context(|| format!("invalid configuration in {}", path.display()))
}

pub async fn run(args: SimArgs) -> anyhow::Result<()> {
    let sims = start(
        &args.binds,
        &args.seed,
        args.hubspot_config.as_deref(),
        args.userflow_config.as_deref(),
    )
    .await?;
    tracing::info!(
        hubspot = %sims.hubspot.base_url(),
        userflow = %sims.userflow.base_url(),
        "simulators running; stop with Ctrl-C"
    );
    let mut shutdown = roles::shutdown_signal();
    let _ = shutdown.wait_for(|s| *s).await;
    Ok(())
}
