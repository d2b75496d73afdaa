//! Binding and serving a simulator: used by `hubsync sim`, `hubsync dev` and tests.

use std::net::SocketAddr;

use axum::Router;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// A simulator listening on a local address, served by a background task.
pub struct Running {
    /// The bound address (useful when binding port 0).
    pub addr: SocketAddr,
    /// The serving task; aborting it stops the server.
    pub task: JoinHandle<std::io::Result<()>>,
}

impl Running {
    /// `http://<addr>`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Binds `bind` (e.g. `127.0.0.1:0`) and serves `router` in the background.
pub async fn spawn(bind: &str, router: Router) -> std::io::Result<Running> {
    let listener = TcpListener::bind(bind).await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move { axum::serve(listener, router).await });
    Ok(Running { addr, task })
}
