//! `ocean listen`: the webhook receiver on a socket, changes as NDJSON on stdout.

use std::sync::Arc;

use ocean_core::{Provider, Secret};
use ocean_jira::{JiraProvider, SyncOptions};
use ocean_listen::{ChangeSink, ListenOptions, NdjsonSink, WEBHOOK_PATH};
use ocean_octopus::OctopusProvider;
use tokio::net::TcpListener;

use crate::args::{ListenArgs, ListenTarget};
use crate::clients;
use crate::commands::Failure;
use crate::listen_store::StoreSink;

/// Serves until Ctrl-C or SIGTERM, then finishes the queued deliveries.
pub async fn run(target: ListenTarget) -> Result<(), Failure> {
    let (provider, server) = provider(target).await?;
    let secret = server.secret.clone().map(Secret::new);
    let source = provider
        .webhook_source(secret.as_ref())
        .ok_or_else(|| format!("{} has no webhooks to listen to", provider.name()))?;
    let options = ListenOptions::default()
        .queue_capacity(server.queue)
        .body_limit(server.max_body);
    let listener = TcpListener::bind(&server.bind)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", server.bind))?;
    let addr = listener.local_addr()?;
    // Printed, not logged: scripts and tests read the port from it at any verbosity.
    eprintln!("listening on http://{addr} (POST {WEBHOOK_PATH})");
    let sink: Arc<dyn ChangeSink> = match &server.store {
        Some(spec) => {
            let store: Arc<dyn ocean_store::Store> = ocean_store::open(spec).await?.into();
            let scope = ocean_store::Scope {
                provider: provider.name().to_owned(),
                tenant: provider.tenant(),
            };
            Arc::new(StoreSink::new(store, scope, provider.kinds()))
        }
        None => Arc::new(NdjsonSink::new(std::io::stdout())),
    };
    ocean_listen::serve(listener, source, sink, options, shutdown()).await?;
    Ok(())
}

/// The provider whose webhooks are received, and the listener's settings.
async fn provider(target: ListenTarget) -> Result<(Box<dyn Provider>, ListenArgs), Failure> {
    Ok(match target {
        ListenTarget::Jira {
            server,
            credentials,
            jql,
            tuning,
        } => {
            let client = clients::jira(credentials, &tuning).await?;
            let options = SyncOptions {
                jql,
                ..SyncOptions::default()
            };
            (Box::new(JiraProvider::new(client, options)), server)
        }
        ListenTarget::Octopus {
            server,
            credentials,
            tuning,
        } => {
            let client = clients::octopus(credentials, &tuning, None)?;
            (Box::new(OctopusProvider::new(client)), server)
        }
    })
}

/// Resolves on Ctrl-C or, on Unix, SIGTERM.
pub(crate) async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    eprintln!("shutting down: finishing the queued deliveries");
}
