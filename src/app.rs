//! Start-up and shutdown of the daemon: builds the services, the scheduler and the HTTP state and
//! router, runs them, and stops them in order. Takes a bound listener and a cancellation token so
//! tests run the real thing on port 0.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::clock::Clock;
use crate::config::Config;
use crate::server::state::AppState;
use crate::services::Services;

/// Runs the daemon until `cancel` fires, then shuts down within `server.shutdown_timeout_secs`.
pub(crate) async fn run(
    config: Config,
    listener: TcpListener,
    cancel: CancellationToken,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<()> {
    let grace = Duration::from_secs(config.server.shutdown_timeout_secs);
    let services = Services::open(config.clone()).await?;
    let store = services.store.clone();
    // Starting the daemon is the person's go-ahead for the accounts connected before it: they
    // start writing now. One connected while it runs stays a preview until started (the web
    // page's Start button, or `oneonone sync --once`).
    for id in store.start_writing(None, clock.now()).await? {
        info!(account = id, "started writing agendas");
        eprintln!("Started writing agendas for account {id}.");
    }
    crate::telemetry::metrics();
    let scheduler = services.scheduler(clock.clone());
    let pages = crate::web::build_state(&services, clock.clone(), scheduler.wake.clone()).await?;
    let state = AppState::new(&services, &scheduler, clock, pages.admin_digest());
    let addr = listener
        .local_addr()
        .context("listener has no local address")?;
    info!(%addr, daemon = %scheduler.daemon_id, "listening");
    let sched = tokio::spawn(scheduler.run(cancel.clone(), grace));
    let server_cancel = cancel.clone();
    let app = crate::server::router(state, pages);
    // The peer address keys the sign-in rate limit.
    let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    let server = axum::serve(listener, app)
        .with_graceful_shutdown(async move { server_cancel.cancelled().await });
    let served = server.await;
    cancel.cancel();
    if tokio::time::timeout(grace + Duration::from_secs(1), sched)
        .await
        .is_err()
    {
        warn!("the scheduler did not stop in time; exiting anyway");
    }
    store.close().await;
    info!("stopped");
    served.context("HTTP server failed")
}

/// Cancels `token` on SIGTERM or SIGINT.
pub(crate) fn cancel_on_signals(token: CancellationToken) {
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        let term = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let term = std::future::pending::<()>();
        tokio::select! {
            _ = ctrl_c => info!("SIGINT: shutting down"),
            () = term => info!("SIGTERM: shutting down"),
        }
        token.cancel();
    });
}
