//! The contract between a provider crate and what drives it (a sync engine, a CLI, a
//! service): its kinds, a full stream per kind, changes since a bookmark, an id-only
//! census, one item fetched again, and its webhooks. Kinds are named by `&str`, so one
//! engine, CLI or service drives any provider through `dyn Provider`.

use std::sync::Arc;

use futures::future::BoxFuture;
use futures::stream::BoxStream;

use crate::{Client, Error, Record, Resource, Result, Secret, WebhookSource};

/// What a driver needs to know about one kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KindInfo {
    /// The kind's name, e.g. `"issue"`.
    pub name: &'static str,
    /// The item field holding its identity (`"key"`, `"accountId"`, `"Id"`).
    pub id_field: &'static str,
    /// The kind its items are fetched under, if any.
    pub parent: Option<&'static str>,
    /// Whether [`Provider::changes_since`] serves this kind.
    pub incremental: bool,
    /// Whether [`Provider::census`] serves this kind.
    pub census: bool,
}

impl KindInfo {
    /// The kind a [`Resource`] declares: its [`KIND`](Resource::KIND) and
    /// [`ID_FIELD`](Resource::ID_FIELD), without a parent, neither incremental nor censused
    /// (add those with [`under`](Self::under), [`incremental`](Self::incremental) and
    /// [`census`](Self::census)). A resource that declares no `id` does not compile here:
    /// the check runs when the call is compiled, never at run time.
    ///
    /// ```
    /// use ocean_core::{KindInfo, Resource};
    /// #[derive(serde::Deserialize, Resource)]
    /// #[resource(path = "/teams", id = "slug")]
    /// struct Team { slug: String }
    /// #[derive(serde::Deserialize, Resource)]
    /// #[resource(path = "/teams/{team}/tickets", id = "key")]
    /// struct Ticket { key: String }
    ///
    /// static KINDS: [KindInfo; 2] = [
    ///     KindInfo::of::<Team>(),
    ///     KindInfo::of::<Ticket>().under::<Team>().incremental(),
    /// ];
    /// assert_eq!((KINDS[1].name, KINDS[1].id_field, KINDS[1].parent), ("ticket", "key", Some("team")));
    /// assert!(KINDS[1].incremental && !KINDS[1].census && KINDS[0].parent.is_none());
    /// ```
    pub const fn of<R: Resource>() -> Self {
        let id_field = const {
            match R::ID_FIELD {
                Some(field) => field,
                None => panic!("KindInfo::of: the resource declares no `id` field"),
            }
        };
        Self {
            name: R::KIND,
            id_field,
            parent: None,
            incremental: false,
            census: false,
        }
    }

    /// This kind, fetched under the kind `P` declares.
    pub const fn under<P: Resource>(mut self) -> Self {
        self.parent = Some(P::KIND);
        self
    }

    /// This kind, served by [`Provider::changes_since`].
    pub const fn incremental(mut self) -> Self {
        self.incremental = true;
        self
    }

    /// This kind, served by [`Provider::census`].
    pub const fn census(mut self) -> Self {
        self.census = true;
        self
    }
}

/// One change reported by [`Provider::changes_since`].
#[derive(Debug)]
pub enum ItemChange {
    /// The item as it is now (created or changed since the bookmark).
    Upsert(Record),
    /// The item with this id was deleted.
    Delete(String),
}

/// A source of kinds: what a sync engine needs of a provider crate.
///
/// ```
/// fn describe(provider: &dyn ocean_core::Provider) -> String {
///     let kinds: Vec<_> = provider.kinds().iter().map(|k| k.name).collect();
///     format!("{} at {}: {}", provider.name(), provider.tenant(), kinds.join(", "))
/// }
/// ```
pub trait Provider: Send + Sync + 'static {
    /// The provider's name, e.g. `"jira"`.
    fn name(&self) -> &'static str;

    /// The tenant: the base URL items come from. Two tenants' data never mix.
    fn tenant(&self) -> String;

    /// The client every request goes through (its [`Stats`](crate::Stats) count them).
    fn client(&self) -> &Client;

    /// Every kind, parents before their children.
    fn kinds(&self) -> &'static [KindInfo];

    /// The kind named `name` (ASCII case ignored).
    fn kind(&self, name: &str) -> Option<&'static KindInfo> {
        self.kinds()
            .iter()
            .find(|k| k.name.eq_ignore_ascii_case(name.trim()))
    }

    /// Every item of `kind`. `resume` is a checkpoint [`Provider::checkpoint`] gave for
    /// an item of an interrupted full stream: the stream then starts at (or shortly
    /// before) that item instead of at the beginning.
    fn full(&self, kind: &str, resume: Option<&str>) -> BoxStream<'static, Result<Record>>;

    /// Whether a full stream of `kind` lists every item (no cap, no sampling), so that
    /// stored items it did not list can be swept as deleted.
    fn complete(&self, kind: &str) -> bool {
        let _ = kind;
        true
    }

    /// A checkpoint to resume a full stream of `kind` after `record`, when the kind's
    /// full stream can resume at all.
    fn checkpoint(&self, kind: &str, record: &Record) -> Option<String> {
        let _ = (kind, record);
        None
    }

    /// The items of `kind` changed (or deleted) since `since` (epoch milliseconds, the
    /// client's clock when the last successful run began); `None` when the kind has no
    /// change filter. The provider widens the window by whatever overlap its API needs.
    fn changes_since(
        &self,
        kind: &str,
        since: i64,
    ) -> Option<BoxStream<'static, Result<ItemChange>>> {
        let _ = (kind, since);
        None
    }

    /// The id of every live item of `kind`, cheaply (ids only); `None` when the API
    /// cannot list ids alone.
    fn census(&self, kind: &str) -> Option<BoxStream<'static, Result<String>>> {
        let _ = kind;
        None
    }

    /// One item of `kind` fetched again; `Ok(None)` when it is gone (or out of scope).
    fn fetch_one(&self, kind: &str, id: &str) -> BoxFuture<'static, Result<Option<Record>>>;

    /// The receiver of this tenant's webhook deliveries, checking each against `secret`
    /// (a signature or a shared header, as the provider's webhooks allow); `None` when the
    /// provider has no webhooks.
    fn webhook_source(&self, secret: Option<&Secret>) -> Option<Arc<dyn WebhookSource>> {
        let _ = secret;
        None
    }

    /// Registers, or finds and repairs, whatever makes the provider post this tenant's
    /// changes to `{app_host}/integration/webhook` with `secret`: one line per
    /// registration saying what was done (`"https://site: webhook created"`).
    fn ensure_webhooks<'a>(
        &'a self,
        app_host: &'a str,
        secret: Option<&'a Secret>,
    ) -> BoxFuture<'a, Result<Vec<String>>> {
        let _ = (app_host, secret);
        let message = format!("{} has no webhooks to register", self.name());
        Box::pin(async move { Err(Error::Config(message)) })
    }
}
