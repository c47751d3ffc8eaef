//! `ocean listen`: the webhook receiver on a socket, changes as NDJSON on stdout.

use std::sync::Arc;

use ocean_jira::{JiraWebhooks, SyncOptions};
use ocean_listen::{ListenOptions, NdjsonSink, WEBHOOK_PATH, WebhookSource};
use ocean_octopus::OctopusWebhooks;
use tokio::net::TcpListener;

use crate::args::{ListenArgs, ListenTarget};
use crate::clients::{self, OCTOPUS_SECRET_HEADER};
use crate::commands::Failure;

/// Serves until Ctrl-C or SIGTERM, then finishes the queued deliveries.
pub async fn run(target: ListenTarget) -> Result<(), Failure> {
    let (source, server) = source(target).await?;
    let options = ListenOptions::default()
        .queue_capacity(server.queue)
        .body_limit(server.max_body);
    let listener = TcpListener::bind(&server.bind)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", server.bind))?;
    let addr = listener.local_addr()?;
    // Printed, not logged: scripts and tests read the port from it at any verbosity.
    eprintln!("listening on http://{addr} (POST {WEBHOOK_PATH})");
    let sink = Arc::new(NdjsonSink::new(std::io::stdout()));
    ocean_listen::serve(listener, source, sink, options, shutdown()).await?;
    Ok(())
}

/// The provider's webhook source, with the secret if one was given.
async fn source(target: ListenTarget) -> Result<(Arc<dyn WebhookSource>, ListenArgs), Failure> {
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
            let mut source = JiraWebhooks::new(client).sync_options(options);
            if let Some(secret) = &server.secret {
                source = source.secret(secret.as_str());
            }
            (Arc::new(source), server)
        }
        ListenTarget::Octopus {
            server,
            credentials,
            tuning,
        } => {
            let client = clients::octopus(credentials, &tuning, None)?;
            let mut source = OctopusWebhooks::new(client);
            if let Some(secret) = &server.secret {
                source = source.header(OCTOPUS_SECRET_HEADER, secret.as_str());
            }
            (Arc::new(source), server)
        }
    })
}

/// Resolves on Ctrl-C or, on Unix, SIGTERM.
async fn shutdown() {
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
