//! Resource kinds and the list requests that stream them.

use std::fmt::Display;
use std::marker::PhantomData;

use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use serde::de::DeserializeOwned;

use crate::pagination::{self, PageQuery};
use crate::{Client, Endpoint, Error, ParentRef, Record, Result};

/// A kind of resource an API lists: a struct plus the [`Endpoint`] it is listed from.
///
/// Implement it with `#[derive(Resource)]` (see the [crate docs](crate#deriveresource));
/// by hand it is one function:
///
/// ```
/// use ocean_core::{Endpoint, Pagination, Resource};
/// #[derive(serde::Deserialize)]
/// struct Space { #[serde(rename = "Id")] id: String }
/// impl Resource for Space {
///     const KIND: &'static str = "space";
///     fn endpoint() -> Endpoint {
///         Endpoint::new("space", "/spaces").items("Items").paginate(Pagination::skip_take())
///     }
/// }
/// ```
pub trait Resource: DeserializeOwned + Send + 'static {
    /// The kind's name, e.g. `"project"`.
    const KIND: &'static str;
    /// Where the kind is listed and how it pages.
    fn endpoint() -> Endpoint;
    /// The item field holding an item's identity, when the kind declares one
    /// (`#[resource(id = "key")]`, the same as [`Endpoint::id_field_name`]): a constant, so
    /// a provider's table of kinds reads it instead of restating it (see
    /// [`KindInfo::of`](crate::KindInfo::of)).
    const ID_FIELD: Option<&'static str> = None;
}

/// A list request being prepared: add runtime parameters, then stream it.
///
/// `T` is what items decode into: a typed struct, or [`RawItem`](crate::RawItem)
/// to forward each item's bytes untouched (see [`ListRequest::raw`]).
///
/// ```no_run
/// # async fn run(client: ocean_core::Client) -> ocean_core::Result<()> {
/// use futures::TryStreamExt;
/// use ocean_core::{Endpoint, ListRequest, Pagination, RawItem};
/// let issues = Endpoint::new("issue", "/rest/api/3/search/jql")
///     .method(reqwest::Method::POST)
///     .items("issues")
///     .paginate(Pagination::cursor());
/// let mut stream = ListRequest::<RawItem>::new(&client, issues)
///     .body("jql", "project = DEMO")
///     .body("fields", ["*all"])
///     .stream();
/// while let Some(issue) = stream.try_next().await? {
///     println!("{}", issue.get());
/// }
/// # Ok(()) }
/// ```
#[must_use = "a list request does nothing until streamed"]
pub struct ListRequest<T> {
    pub(crate) client: Client,
    pub(crate) endpoint: Endpoint,
    pub(crate) path_params: Vec<(String, String)>,
    pub(crate) query: PageQuery,
    pub(crate) max_pages: u64,
    pub(crate) prefetch: bool,
    pub(crate) config_error: Option<String>,
    _item: PhantomData<fn() -> T>,
}

impl<T> Clone for ListRequest<T> {
    fn clone(&self) -> Self {
        Self {
            client: self.client.clone(),
            endpoint: self.endpoint.clone(),
            path_params: self.path_params.clone(),
            query: self.query.clone(),
            max_pages: self.max_pages,
            prefetch: self.prefetch,
            config_error: self.config_error.clone(),
            _item: PhantomData,
        }
    }
}

/// The default [`ListRequest::max_pages`] guard.
pub const DEFAULT_MAX_PAGES: u64 = 100_000;

impl<T> ListRequest<T> {
    /// A request for every item of `endpoint`.
    pub fn new(client: &Client, endpoint: Endpoint) -> Self {
        let prefetch = client.prefetch_default();
        Self {
            client: client.clone(),
            endpoint,
            path_params: Vec::new(),
            query: PageQuery::default(),
            max_pages: DEFAULT_MAX_PAGES,
            prefetch,
            config_error: None,
            _item: PhantomData,
        }
    }

    /// Fills the `{name}` placeholder of the path (percent-encoded).
    pub fn path_param(mut self, name: &str, value: impl Display) -> Self {
        self.path_params.push((name.to_owned(), value.to_string()));
        self
    }

    /// Adds a query parameter sent with every page.
    pub fn query(mut self, name: impl Into<String>, value: impl Display) -> Self {
        self.query.query.push((name.into(), value.to_string()));
        self
    }

    /// Sets a field of the JSON body sent with every page (`POST` endpoints).
    pub fn body(mut self, name: impl Into<String>, value: impl serde::Serialize) -> Self {
        match serde_json::to_value(value) {
            Ok(value) => {
                self.query.body.insert(name.into(), value);
            }
            Err(e) => self.config_error = Some(format!("body field is not JSON: {e}")),
        }
        self
    }

    /// The page size to ask for.
    pub fn page_size(mut self, size: u32) -> Self {
        self.endpoint = self.endpoint.page_size(size);
        self
    }

    /// Stops after `max` items with a warning; `None` lifts the endpoint's cap.
    pub fn max_items(mut self, max: Option<u64>) -> Self {
        self.endpoint = match max {
            Some(max) => self.endpoint.max_items(max),
            None => Endpoint::clone(&self.endpoint).without_cap(),
        };
        self
    }

    /// Fails with a pagination error after this many pages (default [`DEFAULT_MAX_PAGES`]).
    pub fn max_pages(mut self, max: u64) -> Self {
        self.max_pages = max;
        self
    }

    /// Fetches the pages after the first concurrently when the first reveals the total
    /// (offset and skip/take only; the default comes from the client).
    pub fn prefetch(mut self, on: bool) -> Self {
        self.prefetch = on;
        self
    }

    /// The endpoint being listed.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// The same request, decoding items as `U` instead.
    pub fn cast<U>(self) -> ListRequest<U> {
        ListRequest {
            client: self.client,
            endpoint: self.endpoint,
            path_params: self.path_params,
            query: self.query,
            max_pages: self.max_pages,
            prefetch: self.prefetch,
            config_error: self.config_error,
            _item: PhantomData,
        }
    }

    /// The same request, yielding each item's JSON bytes untouched: the lossless fast path.
    pub fn raw(self) -> ListRequest<crate::RawItem> {
        self.cast()
    }
}

impl<T: Resource> ListRequest<T> {
    /// Every item as a [`Record`] of `T`'s kind, its JSON kept as sent (not decoded as
    /// `T`), fetched under `parent` when given: what a provider's full stream yields.
    ///
    /// ```no_run
    /// # async fn run(client: ocean_core::Client) -> ocean_core::Result<()> {
    /// use futures::TryStreamExt;
    /// use ocean_core::{ParentRef, Resource};
    /// #[derive(serde::Deserialize, Resource)]
    /// #[resource(path = "/spaces/{space}/projects", paginate = link_header)]
    /// struct Project { id: String }
    /// let parent = ParentRef::new("space_id", "Spaces-1");
    /// let mut records = Project::list(&client, "Spaces-1").records(Some(parent));
    /// while let Some(record) = records.try_next().await? {
    ///     assert_eq!((record.kind, record.parent.unwrap().id.as_str()), ("project", "Spaces-1"));
    /// }
    /// # Ok(()) }
    /// ```
    pub fn records(self, parent: Option<ParentRef>) -> BoxStream<'static, Result<Record>> {
        self.raw()
            .stream()
            .map_ok(move |item| Record {
                kind: T::KIND,
                parent: parent.clone(),
                item,
            })
            .boxed()
    }
}

impl<T: DeserializeOwned + Send + 'static> ListRequest<T> {
    /// A stream of pages, in order.
    pub fn pages(self) -> BoxStream<'static, Result<Vec<T>>> {
        pagination::pages(self).boxed()
    }

    /// A stream of items, in order.
    pub fn stream(self) -> BoxStream<'static, Result<T>> {
        pagination::pages(self)
            .map_ok(|page| futures::stream::iter(page.into_iter().map(Ok::<T, Error>)))
            .try_flatten()
            .boxed()
    }

    /// Every item, collected.
    pub async fn fetch_all(self) -> Result<Vec<T>> {
        self.pages()
            .try_fold(Vec::new(), |mut all, page| async move {
                all.extend(page);
                Ok(all)
            })
            .await
    }
}
