//! `ocean listen --store`: every change the receiver writes is applied to the catalog too,
//! so the catalog follows webhooks between syncs.

use std::io;
use std::sync::Arc;

use futures::FutureExt;
use futures::future::BoxFuture;
use ocean_core::{KindInfo, raw_field};
use ocean_listen::{ChangeLine, ChangeSink, NdjsonSink};
use ocean_store::{ItemWrite, Scope, Store};

/// Applies each change to the store (outside any run), then writes its NDJSON line.
pub struct StoreSink {
    store: Arc<dyn Store>,
    scope: Scope,
    kinds: &'static [KindInfo],
    /// Where each change's NDJSON line goes, if anywhere.
    lines: Option<NdjsonSink<io::Stdout>>,
}

impl StoreSink {
    /// A sink for the changes of `scope`, whose kinds are `kinds`.
    pub fn new(store: Arc<dyn Store>, scope: Scope, kinds: &'static [KindInfo]) -> Self {
        Self {
            store,
            scope,
            kinds,
            lines: Some(NdjsonSink::new(io::stdout())),
        }
    }

    /// A sink that only applies changes to the store (no NDJSON lines).
    pub fn quiet(store: Arc<dyn Store>, scope: Scope, kinds: &'static [KindInfo]) -> Self {
        Self {
            lines: None,
            ..Self::new(store, scope, kinds)
        }
    }

    async fn apply(&self, line: &ChangeLine) -> io::Result<()> {
        let kind = line.kind();
        let Some(info) = self.kinds.iter().find(|k| k.name == kind) else {
            return Err(io::Error::other(format!(
                "no kind `{kind}` in {}",
                self.scope.provider
            )));
        };
        let (items, deletes) = match line {
            ChangeLine::Upsert { parent, item, .. } => {
                // The catalog's key is the item's own id field: the event may have named
                // the item otherwise (a project by key, an issue by id).
                let id = raw_field(item, info.id_field)
                    .ok()
                    .flatten()
                    .unwrap_or_else(|| line.id().to_owned());
                let write = ItemWrite {
                    id,
                    parent: parent.as_ref().map(|p| (p.field.to_owned(), p.id.clone())),
                    json: item.get().to_owned(),
                };
                (vec![write], Vec::new())
            }
            ChangeLine::Delete { id, .. } => (Vec::new(), vec![id.clone()]),
        };
        self.store
            .apply(&self.scope, None, kind, &items, &deletes, None)
            .await
            .map(drop)
            .map_err(io::Error::other)
    }
}

impl ChangeSink for StoreSink {
    fn write(&self, line: ChangeLine) -> BoxFuture<'_, io::Result<()>> {
        async move {
            self.apply(&line).await?;
            match &self.lines {
                Some(lines) => lines.write(line).await,
                None => Ok(()),
            }
        }
        .boxed()
    }
}
