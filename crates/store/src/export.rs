//! The export stream both backends share: keyset pagination, group by group.

use async_trait::async_trait;
use futures::stream::BoxStream;

use crate::{CatalogItem, ExportFilter, Result};

/// How many items one export page holds.
pub(crate) const EXPORT_BATCH: usize = 1000;

/// Two strings: a (provider, kind) group or an (id, tenant) position within one.
pub(crate) type Pair = (String, String);

/// What an export reads from a backend: the (provider, kind) groups of the item key
/// order, and pages of live items within one group.
#[async_trait]
pub(crate) trait ExportSource: Send + Sync + 'static {
    /// The first (provider, kind) strictly after `after` (from the start when `None`).
    async fn next_group(&self, after: Option<(String, String)>)
    -> Result<Option<(String, String)>>;

    /// Up to [`EXPORT_BATCH`] live items of a group ordered by (id, tenant), strictly
    /// after `after`.
    async fn page(
        &self,
        provider: &str,
        kind: &str,
        after: Option<Pair>,
    ) -> Result<Vec<CatalogItem>>;
}

/// Streams the live items `filter` selects from `src`, ordered by provider, kind, id and
/// tenant: group by group, page by page (keyset pagination, so each page is an index
/// seek), holding at most one page.
pub(crate) fn export_stream(
    src: std::sync::Arc<dyn ExportSource>,
    filter: ExportFilter,
) -> BoxStream<'static, Result<CatalogItem>> {
    use futures::StreamExt;
    struct Pager {
        src: std::sync::Arc<dyn ExportSource>,
        filter: ExportFilter,
        /// The group being read and the last (id, tenant) yielded from it.
        group: Option<(Pair, Option<Pair>)>,
        /// The last group finished (or skipped).
        last: Option<Pair>,
        done: bool,
    }
    impl Pager {
        async fn next_page(&mut self) -> Result<Option<Vec<CatalogItem>>> {
            loop {
                if self.done {
                    return Ok(None);
                }
                let Some(((provider, kind), after)) = self.group.take() else {
                    let from = match (self.last.take(), &self.filter.provider) {
                        (None, Some(p)) => Some((p.clone(), String::new())),
                        (last, _) => last,
                    };
                    match self.src.next_group(from).await? {
                        None => self.done = true,
                        Some((p, _)) if self.filter.provider.as_ref().is_some_and(|f| *f != p) => {
                            self.done = true
                        }
                        Some(g)
                            if !self.filter.kinds.is_empty()
                                && !self.filter.kinds.contains(&g.1) =>
                        {
                            self.last = Some(g)
                        }
                        Some(g) => self.group = Some((g, None)),
                    }
                    continue;
                };
                let items = self.src.page(&provider, &kind, after).await?;
                if items.len() < EXPORT_BATCH {
                    self.last = Some((provider, kind));
                } else if let Some(l) = items.last() {
                    let after = Some((l.id.clone(), l.tenant.clone()));
                    self.group = Some(((provider, kind), after));
                }
                if !items.is_empty() {
                    return Ok(Some(items));
                }
            }
        }
    }
    let pager = Pager {
        src,
        filter,
        group: None,
        last: None,
        done: false,
    };
    futures::stream::unfold(pager, |mut p| async move {
        match p.next_page().await {
            Ok(Some(items)) => Some((items.into_iter().map(Ok).collect::<Vec<_>>(), p)),
            Ok(None) => None,
            Err(e) => {
                p.done = true;
                Some((vec![Err(e)], p))
            }
        }
    })
    .flat_map(futures::stream::iter)
    .boxed()
}
