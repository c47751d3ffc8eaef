//! Streaming a child kind for every parent item, with a bound on parents in flight.

use std::sync::Arc;

use futures::stream::BoxStream;
use futures::{Stream, StreamExt, stream};

use crate::{Error, Result};

/// Decides which child errors skip their parent instead of failing the sync
/// (e.g. Jira's `400 The board does not support sprints`).
pub type SkipRule = Arc<dyn Fn(&Error) -> bool + Send + Sync>;

/// How a fan-out runs.
///
/// ```
/// use ocean_core::FanOut;
/// let fan = FanOut::new(5).skip_when(|e| e.status().is_some_and(|s| s.as_u16() == 404));
/// # let _ = fan;
/// ```
#[derive(Clone)]
pub struct FanOut {
    concurrency: usize,
    skip: Option<SkipRule>,
}

impl FanOut {
    /// At most `concurrency` parents' children are streamed at once.
    pub fn new(concurrency: usize) -> Self {
        Self {
            concurrency: concurrency.max(1),
            skip: None,
        }
    }

    /// Children failing with an error this rule accepts are skipped with a warning.
    pub fn skip_when(mut self, rule: impl Fn(&Error) -> bool + Send + Sync + 'static) -> Self {
        self.skip = Some(Arc::new(rule));
        self
    }

    /// Streams `children(parent)` for every parent.
    ///
    /// Parent errors pass through. Child streams run `concurrency` at a time,
    /// their items interleaved; memory stays O(concurrency × page). Tag each
    /// child with its parent inside `children`.
    ///
    /// ```no_run
    /// # use futures::{Stream, StreamExt};
    /// # use ocean_core::{FanOut, Result};
    /// # fn boards() -> impl Stream<Item = Result<u64>> + Send + 'static { futures::stream::empty() }
    /// # fn sprints(board: u64) -> impl Stream<Item = Result<String>> + Send + 'static { futures::stream::empty() }
    /// let tagged = FanOut::new(5).run(boards(), |board| sprints(board).map(move |s| s.map(|s| (board, s))));
    /// # let _ = tagged;
    /// ```
    pub fn run<P, C, S, F>(
        self,
        parents: impl Stream<Item = Result<P>> + Send + 'static,
        mut children: F,
    ) -> BoxStream<'static, Result<C>>
    where
        P: Send + 'static,
        C: Send + 'static,
        S: Stream<Item = Result<C>> + Send + 'static,
        F: FnMut(P) -> S + Send + 'static,
    {
        let skip = self.skip;
        parents
            .map(move |parent| match parent {
                Ok(parent) => match skip.clone() {
                    Some(rule) => end_quietly(children(parent).boxed(), move |e| {
                        let skip = rule(e);
                        if skip {
                            tracing::warn!(error = %e, "skipping this parent's children");
                        }
                        skip
                    }),
                    None => children(parent).boxed(),
                },
                Err(e) => stream::once(async { Err(e) }).boxed(),
            })
            .flatten_unordered(self.concurrency)
            .boxed()
    }
}

/// Ends `items` without an error at the first error `rule` accepts (a list that may
/// legitimately be refused, such as a board without sprints); other errors pass through.
///
/// A small hand-written adapter rather than `scan` + `filter_map`: every synced item goes
/// through it, and those cost two extra futures per item.
///
/// ```
/// use futures::{StreamExt, TryStreamExt, stream};
/// use ocean_core::{Error, end_quietly};
/// # futures::executor::block_on(async {
/// let items = stream::iter([Ok(1), Err(Error::Config("gone".into())), Ok(2)]).boxed();
/// let seen: Vec<i32> = end_quietly(items, |e| matches!(e, Error::Config(_)))
///     .try_collect()
///     .await
///     .unwrap();
/// assert_eq!(seen, [1]);
/// # });
/// ```
pub fn end_quietly<T: Send + 'static>(
    items: BoxStream<'static, Result<T>>,
    rule: impl Fn(&Error) -> bool + Send + Unpin + 'static,
) -> BoxStream<'static, Result<T>> {
    EndQuietly {
        items: Some(items),
        rule,
    }
    .boxed()
}

/// [`end_quietly`]'s stream.
struct EndQuietly<T, F> {
    /// `None` once ended.
    items: Option<BoxStream<'static, Result<T>>>,
    rule: F,
}

impl<T, F: Fn(&Error) -> bool + Unpin> Stream for EndQuietly<T, F> {
    type Item = Result<T>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<T>>> {
        let this = &mut *self;
        let Some(items) = this.items.as_mut() else {
            return std::task::Poll::Ready(None);
        };
        match std::task::ready!(items.poll_next_unpin(cx)) {
            Some(Err(e)) if (this.rule)(&e) => {
                this.items = None;
                std::task::Poll::Ready(None)
            }
            None => {
                this.items = None;
                std::task::Poll::Ready(None)
            }
            item => std::task::Poll::Ready(item),
        }
    }
}
