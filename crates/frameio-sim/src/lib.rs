//! A Frame.io V4 and Adobe IMS simulator for tests, benchmarks and demos.
//!
//! It serves, on one port:
//! - the Frame.io API under `/v4/...`, routed and validated by the vendored OpenAPI
//!   description ([`spec`]), with Frame.io's envelopes, error bodies, cursor pagination,
//!   `x-ratelimit-*` headers and per-(user, operation) limits ([`limits`]);
//! - the IMS client-credentials token endpoint under `/ims/token/v3` ([`auth`]);
//! - upload part URLs under `/_sim/upload/...` ([`uploads`]);
//! - control endpoints under `/_sim/...`: statistics ([`stats`]), faults ([`faults`]),
//!   token expiry and revocation, state dump and reset.
//!
//! [`spawn`] runs it in the background for tests; [`serve`] and [`run_cli`] run it in the
//! foreground for the `frameio-sim` binary and the `fleet sim` command.

#![warn(missing_docs)]

mod api;
pub mod auth;
mod cli;
pub mod config;
mod error;
pub mod faults;
pub mod limits;
mod server;
pub mod spec;
pub mod stats;
pub mod store;
pub mod uploads;

use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use api::OPERATIONS;
pub use cli::{run_cli, SimArgs};
pub use config::{RateLimitMode, Seed, SeedError, SeedIds, SimConfig, ALPHA, BETA};
pub use error::{ApiError, SimError};
pub use faults::{FaultConfig, FaultUpdate, TokenScope};
pub use stats::{FaultStats, ImsStats, RateStats, Stats};

use server::Shared;

/// Binds `listen` (use 127.0.0.1:0 for a free port) and serves in a background task.
pub async fn spawn(config: SimConfig, listen: SocketAddr) -> Result<SimHandle, SimError> {
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|source| SimError::Bind {
            addr: listen,
            source,
        })?;
    let addr = reachable(listener.local_addr().map_err(SimError::LocalAddr)?);
    let shared = Shared::new(config, addr)?;
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(server::run(shared.clone(), listener, shutdown.clone()));
    Ok(SimHandle {
        addr,
        shared,
        shutdown,
        task: Some(task),
    })
}

/// Serves until `shutdown` resolves (used by the binary / `fleet sim`).
pub async fn serve(
    config: SimConfig,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), SimError> {
    let addr = reachable(listener.local_addr().map_err(SimError::LocalAddr)?);
    let shared = Shared::new(config, addr)?;
    let token = CancellationToken::new();
    let trigger = token.clone();
    // The watcher is aborted once the server stops, so it does not outlive it.
    let watcher = tokio::spawn(async move {
        shutdown.await;
        trigger.cancel();
    });
    server::run(shared, listener, token).await;
    watcher.abort();
    Ok(())
}

/// An address clients can connect to: a wildcard bind is reached through loopback.
fn reachable(addr: SocketAddr) -> SocketAddr {
    if addr.ip().is_unspecified() {
        SocketAddr::new(Ipv4Addr::LOCALHOST.into(), addr.port())
    } else {
        addr
    }
}

/// A simulator running in a background task. Dropping it stops the server too, without
/// waiting; [`SimHandle::shutdown`] waits for open connections to finish.
pub struct SimHandle {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: CancellationToken,
    task: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for SimHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimHandle")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl SimHandle {
    /// The base URL, e.g. `http://127.0.0.1:8470` (without `/v4`); IMS is at
    /// `{base_url}/ims/token/v3`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address the simulator listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A snapshot of the control counters.
    pub fn stats(&self) -> Stats {
        self.shared.stats()
    }

    /// Forgets the counters and the observed rate maxima.
    pub fn reset_stats(&self) {
        self.shared.reset_stats();
    }

    /// The faults in force.
    pub fn faults(&self) -> FaultConfig {
        server::lock(&self.shared.faults).clone()
    }

    /// Changes the faults (and expires or revokes tokens when the update says so); returns
    /// the faults now in force.
    pub fn update_faults(&self, update: &FaultUpdate) -> FaultConfig {
        self.shared.update_faults(update)
    }

    /// Makes issued tokens expire now: all, or one client's. Returns how many.
    pub fn expire_tokens(&self, client_id: Option<&str>) -> usize {
        self.shared.expire_tokens(&TokenScope {
            client_id: client_id.map(str::to_owned),
        })
    }

    /// Revokes issued tokens: all, or one client's. Returns how many.
    pub fn revoke_tokens(&self, client_id: Option<&str>) -> usize {
        self.shared.revoke_tokens(&TokenScope {
            client_id: client_id.map(str::to_owned),
        })
    }

    /// The seed the simulator started from.
    pub fn seed(&self) -> &Seed {
        &self.shared.config.seed
    }

    /// Stops accepting connections, lets open ones finish, and waits for the server task.
    pub async fn shutdown(mut self) {
        self.shutdown.cancel();
        if let Some(task) = self.task.take() {
            if let Err(error) = task.await {
                tracing::warn!(%error, "simulator task failed");
            }
        }
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}
