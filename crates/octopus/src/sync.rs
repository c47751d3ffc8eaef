//! Streaming a kind across every space: spaces first, then each space's items,
//! a bounded number of spaces at a time, each item tagged with its space.

use futures::stream::BoxStream;
use futures::{Stream, StreamExt, TryStreamExt, stream};
use ocean_core::{Error, FanOut, RawItem, Record, Resource, Result, raw_field};

use crate::kinds::{SPACE_PARAM, SpaceScoped};
use crate::models::{Deployment, Environment, Machine, Project, Release, Space};
use crate::{OctopusClient, OctopusKind};

/// The output field naming an item's space in a [`Record`].
pub const SPACE_FIELD: &str = "space_id";

impl OctopusClient {
    /// The lossless sync path: every item of `kind`, its JSON bytes untouched.
    ///
    /// Spaces come as `Record::new("space", raw)`; every other kind is listed in
    /// each space (at most [`space_concurrency`](Self::space_concurrency) spaces at
    /// once) and comes as `Record::child(kind, "space_id", space_id, raw)`.
    /// Releases and deployments stop at [`max_items_per_space`](Self::max_items_per_space)
    /// in each space. Items of one space keep the server's order; spaces interleave.
    ///
    /// ```no_run
    /// # async fn run(client: ocean_octopus::OctopusClient) -> ocean_core::Result<()> {
    /// use futures::TryStreamExt;
    /// use ocean_octopus::OctopusKind;
    /// let mut out = std::io::stdout().lock();
    /// let mut records = client.sync(OctopusKind::Deployment);
    /// while let Some(record) = records.try_next().await? {
    ///     record.write_ndjson(&mut out).expect("stdout");
    /// }
    /// # Ok(()) }
    /// ```
    pub fn sync(&self, kind: OctopusKind) -> BoxStream<'static, Result<Record>> {
        match kind {
            OctopusKind::Space => self
                .spaces()
                .raw()
                .stream()
                .map_ok(|raw| Record::new(Space::KIND, raw))
                .boxed(),
            OctopusKind::Project => self.sync_resource::<Project>(),
            OctopusKind::Release => self.sync_resource::<Release>(),
            OctopusKind::Deployment => self.sync_resource::<Deployment>(),
            OctopusKind::Machine => self.sync_resource::<Machine>(),
            OctopusKind::Environment => self.sync_resource::<Environment>(),
        }
    }

    /// The lossless sync path for any [`SpaceScoped`] kind, built-in or your own:
    /// `Record::child(T::KIND, "space_id", space_id, raw)` for every item of every space.
    pub fn sync_resource<T: SpaceScoped>(&self) -> BoxStream<'static, Result<Record>> {
        let this = self.clone();
        self.across_spaces::<T, _, _>(move |space_id| {
            this.in_space::<T>(&space_id)
                .raw()
                .stream()
                .map_ok(move |raw| Record::child(T::KIND, SPACE_FIELD, space_id.clone(), raw))
        })
    }

    /// Every item of a [`SpaceScoped`] kind in every space, typed, with its space id.
    ///
    /// ```no_run
    /// # async fn run(client: ocean_octopus::OctopusClient) -> ocean_core::Result<()> {
    /// use futures::TryStreamExt;
    /// use ocean_octopus::Project;
    /// let mut projects = client.all::<Project>();
    /// while let Some((space_id, project)) = projects.try_next().await? {
    ///     println!("{space_id} {} {}", project.id, project.name);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn all<T: SpaceScoped>(&self) -> BoxStream<'static, Result<(String, T)>> {
        let this = self.clone();
        self.across_spaces::<T, _, _>(move |space_id| {
            this.in_space::<T>(&space_id)
                .stream()
                .map_ok(move |item| (space_id.clone(), item))
        })
    }

    /// The projects of every space, with their space id.
    pub fn projects_all(&self) -> BoxStream<'static, Result<(String, Project)>> {
        self.all()
    }

    /// The releases of every space (capped per space), with their space id.
    pub fn releases_all(&self) -> BoxStream<'static, Result<(String, Release)>> {
        self.all()
    }

    /// The deployments of every space (capped per space), with their space id.
    pub fn deployments_all(&self) -> BoxStream<'static, Result<(String, Deployment)>> {
        self.all()
    }

    /// The deployment targets of every space, with their space id.
    pub fn machines_all(&self) -> BoxStream<'static, Result<(String, Machine)>> {
        self.all()
    }

    /// The environments of every space, with their space id.
    pub fn environments_all(&self) -> BoxStream<'static, Result<(String, Environment)>> {
        self.all()
    }

    /// The id of every space, in the server's order (by name).
    pub fn space_ids(&self) -> BoxStream<'static, Result<String>> {
        let url = self
            .core
            .url(Space::endpoint().path())
            .map(|u| u.to_string())
            .unwrap_or_default();
        self.spaces()
            .raw()
            .stream()
            .and_then(move |raw| std::future::ready(space_id(&url, &raw)))
            .boxed()
    }

    /// `children(space_id)` for every space, `space_concurrency` spaces at a time.
    pub(crate) fn across_spaces<T, C, S>(
        &self,
        children: impl FnMut(String) -> S + Send + 'static,
    ) -> BoxStream<'static, Result<C>>
    where
        T: Resource,
        C: Send + 'static,
        S: Stream<Item = Result<C>> + Send + 'static,
    {
        let endpoint = T::endpoint();
        if !endpoint.path_params().any(|p| p == SPACE_PARAM) {
            let message = format!(
                "kind `{}` is listed per space, so its path `{}` needs a `{{{SPACE_PARAM}}}` placeholder",
                T::KIND,
                endpoint.path()
            );
            return stream::once(async move { Err(Error::Config(message)) }).boxed();
        }
        FanOut::new(self.settings.space_concurrency).run(self.space_ids(), children)
    }
}

/// A space's `Id`, read without decoding the rest of it.
fn space_id(url: &str, raw: &RawItem) -> Result<String> {
    let decode = |message: String| Error::Decode {
        url: url.to_owned(),
        path: "Items[].Id".into(),
        message,
    };
    match raw_field(raw, "Id") {
        Ok(Some(id)) if !id.is_empty() => Ok(id),
        Ok(_) => Err(decode("a space without an `Id`".into())),
        Err(e) => Err(decode(e.to_string())),
    }
}
