//! Storage for pre-rendered items.
//!
//! A [`Table`] holds one kind (say Jira versions) as rows of pre-rendered JSON, split into groups
//! by parent (the project that owns the versions, the space that owns the deployments; kinds
//! without a parent use one group named `""`). Pages are cut from a group by position, so a
//! request never re-serializes an item.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use bytes::{Bytes, BytesMut};

/// The Fx hash (rustc's): much cheaper than SipHash for short id keys. The keys are our own
/// ids, so flooding resistance is not needed.
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let word = u64::from_le_bytes(c.try_into().expect("8 bytes"));
            self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

pub(crate) type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// Packs many rendered items into large shared buffers: one allocation per few megabytes
/// instead of one per item, and each item is still an independent [`Bytes`].
pub(crate) struct Arena {
    chunk: BytesMut,
}

impl Arena {
    const CHUNK: usize = 8 << 20;

    pub(crate) fn new() -> Self {
        Arena {
            chunk: BytesMut::new(),
        }
    }

    /// Copies `item` into the arena.
    pub(crate) fn store(&mut self, item: &[u8]) -> Bytes {
        if self.chunk.capacity() - self.chunk.len() < item.len() {
            self.chunk = BytesMut::with_capacity(Self::CHUNK.max(item.len()));
        }
        self.chunk.extend_from_slice(item);
        self.chunk.split().freeze()
    }
}

/// Attribute values the routes filter on (an issue's project key, a sprint's state...).
pub(crate) type Attrs = Vec<(&'static str, Box<str>)>;

/// Renders a generated item from its id, on demand (see [`Body::Lazy`]).
pub(crate) trait Render: Send + Sync {
    /// The item's JSON; the same bytes every time for the same id.
    fn render(&self, id: &str) -> Bytes;
}

/// An item's JSON: kept, or rendered again whenever it is served.
#[derive(Clone)]
pub(crate) enum Body {
    /// The bytes as served.
    Ready(Bytes),
    /// A generated item not kept in memory; a change stores it as [`Body::Ready`].
    Lazy(Arc<dyn Render>),
}

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Body::Ready(b) => write!(f, "Ready({} bytes)", b.len()),
            Body::Lazy(_) => f.write_str("Lazy"),
        }
    }
}

/// One item as served.
#[derive(Clone, Debug)]
pub(crate) struct Row {
    pub(crate) id: Arc<str>,
    body: Body,
    pub(crate) attrs: Attrs,
}

impl Row {
    pub(crate) fn new(id: impl Into<Arc<str>>, json: impl Into<Bytes>, attrs: Attrs) -> Self {
        Row {
            id: id.into(),
            body: Body::Ready(json.into()),
            attrs,
        }
    }

    /// A row whose JSON `render` produces when served.
    pub(crate) fn lazy(id: impl Into<Arc<str>>, render: Arc<dyn Render>, attrs: Attrs) -> Self {
        Row {
            id: id.into(),
            body: Body::Lazy(render),
            attrs,
        }
    }

    /// The item's JSON as served (a reference-counted copy, or a fresh rendering).
    pub(crate) fn json(&self) -> Bytes {
        match &self.body {
            Body::Ready(b) => b.clone(),
            Body::Lazy(r) => r.render(&self.id),
        }
    }

    pub(crate) fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| &**v)
    }
}

/// The JSON of `rows`, in order (reference-counted copies, or fresh renderings).
pub(crate) fn bodies(rows: &[&Row]) -> Vec<Bytes> {
    rows.iter().map(|r| r.json()).collect()
}

/// Borrowed views of `bodies`, as the page renderers take them.
pub(crate) fn slices(bodies: &[Bytes]) -> Vec<&[u8]> {
    bodies.iter().map(|b| &b[..]).collect()
}

#[derive(Debug, Default)]
struct Group {
    name: Box<str>,
    /// Oldest first. Newest-first tables serve this in reverse, so creating an item is a push.
    rows: Vec<Row>,
}

/// One kind of item, grouped by parent.
#[derive(Debug, Default)]
pub(crate) struct Table {
    groups: Vec<Group>,
    group_index: FxMap<Box<str>, usize>,
    /// Item id → (group, position in storage order).
    owner: FxMap<Arc<str>, (u32, u32)>,
    /// Alternative names (an issue key, a project key) → item id.
    alias: FxMap<Box<str>, Arc<str>>,
    newest_first: bool,
}

impl Table {
    /// A table served in storage order.
    pub(crate) fn new() -> Self {
        Table::default()
    }

    /// A table served newest (last pushed) first.
    pub(crate) fn newest_first() -> Self {
        Table {
            newest_first: true,
            ..Table::default()
        }
    }

    /// Pre-sizes the indexes for `items` more items in `groups` more groups, with as many
    /// aliases as `aliases`; saves rehashing while generating large datasets.
    pub(crate) fn reserve(&mut self, items: usize, groups: usize, aliases: usize) {
        self.owner.reserve(items);
        self.group_index.reserve(groups);
        self.groups.reserve(groups);
        self.alias.reserve(aliases);
    }

    /// Makes sure `name` exists, so an empty parent answers an empty page rather than 404.
    pub(crate) fn ensure_group(&mut self, name: &str) -> usize {
        if let Some(&g) = self.group_index.get(name) {
            return g;
        }
        self.groups.push(Group {
            name: name.into(),
            rows: Vec::new(),
        });
        self.group_index.insert(name.into(), self.groups.len() - 1);
        self.groups.len() - 1
    }

    /// Appends `row` to `group` (as the newest item in a newest-first table).
    pub(crate) fn push(&mut self, group: &str, row: Row) {
        let g = self.ensure_group(group);
        let rows = &mut self.groups[g].rows;
        self.owner
            .insert(row.id.clone(), (g as u32, rows.len() as u32));
        rows.push(row);
    }

    pub(crate) fn add_alias(&mut self, alias: &str, id: &Arc<str>) {
        self.alias.insert(alias.into(), id.clone());
    }

    /// Resolves an id or an alias to the item id.
    pub(crate) fn resolve(&self, id_or_alias: &str) -> Option<Arc<str>> {
        if let Some((k, _)) = self.owner.get_key_value(id_or_alias) {
            return Some(k.clone());
        }
        self.alias.get(id_or_alias).cloned()
    }

    /// Where the item with this id or alias is: (group, row). One lookup for an id, the
    /// common case (every item of every served page); an alias takes a second.
    fn position(&self, id_or_alias: &str) -> Option<(u32, u32)> {
        match self.owner.get(id_or_alias) {
            Some(&at) => Some(at),
            None => self.owner.get(self.alias.get(id_or_alias)?).copied(),
        }
    }

    /// The row with this id or alias.
    pub(crate) fn get(&self, id_or_alias: &str) -> Option<&Row> {
        let (g, r) = self.position(id_or_alias)?;
        Some(&self.groups[g as usize].rows[r as usize])
    }

    /// The group (parent) that holds this id or alias.
    pub(crate) fn group_of(&self, id_or_alias: &str) -> Option<&str> {
        let (g, _) = self.position(id_or_alias)?;
        Some(&self.groups[g as usize].name)
    }

    /// Replaces an item's JSON (and attributes), keeping its position.
    pub(crate) fn replace(&mut self, id: &str, json: Bytes, attrs: Option<Attrs>) -> bool {
        let Some(&(g, r)) = self.owner.get(id) else {
            return false;
        };
        let row = &mut self.groups[g as usize].rows[r as usize];
        row.body = Body::Ready(json);
        if let Some(attrs) = attrs {
            row.attrs = attrs;
        }
        true
    }

    /// Removes an item; later items of its group move up one place.
    pub(crate) fn remove(&mut self, id_or_alias: &str) -> Option<Row> {
        let id = self.resolve(id_or_alias)?;
        let (g, r) = self.owner.remove(&*id)?;
        let rows = &mut self.groups[g as usize].rows;
        let row = rows.remove(r as usize);
        for (i, later) in rows.iter().enumerate().skip(r as usize) {
            self.owner.insert(later.id.clone(), (g, i as u32));
        }
        self.alias.retain(|_, v| **v != *id);
        Some(row)
    }

    /// Removes every item for which `drop` is true. Returns the removed rows.
    pub(crate) fn remove_where(&mut self, mut drop: impl FnMut(&str, &Row) -> bool) -> Vec<Row> {
        let mut removed = Vec::new();
        for group in &mut self.groups {
            let name = group.name.clone();
            let (gone, kept): (Vec<Row>, Vec<Row>) = std::mem::take(&mut group.rows)
                .into_iter()
                .partition(|row| drop(&name, row));
            group.rows = kept;
            removed.extend(gone);
        }
        if !removed.is_empty() {
            self.reindex();
        }
        removed
    }

    /// Removes a whole group and its items, in time proportional to the group. The emptied
    /// group stays behind unindexed (so other groups keep their positions); a later group of
    /// the same name is a new one.
    pub(crate) fn remove_group(&mut self, name: &str) -> Vec<Row> {
        let Some(g) = self.group_index.remove(name) else {
            return Vec::new();
        };
        let rows = std::mem::take(&mut self.groups[g].rows);
        for row in &rows {
            self.owner.remove(&*row.id);
        }
        if !rows.is_empty() && !self.alias.is_empty() {
            let owner = &self.owner;
            self.alias.retain(|_, id| owner.contains_key(&**id));
        }
        rows
    }

    fn reindex(&mut self) {
        self.owner.clear();
        for (g, group) in self.groups.iter().enumerate() {
            for (r, row) in group.rows.iter().enumerate() {
                self.owner.insert(row.id.clone(), (g as u32, r as u32));
            }
        }
        let owner = &self.owner;
        self.alias.retain(|_, id| owner.contains_key(&**id));
    }

    /// Number of items in a group (0 when the group does not exist).
    pub(crate) fn group_len(&self, name: &str) -> usize {
        self.group_index
            .get(name)
            .map_or(0, |&g| self.groups[g].rows.len())
    }

    /// Total number of items.
    pub(crate) fn len(&self) -> usize {
        self.owner.len()
    }

    /// Items of a group in served order, from `start`, at most `count`.
    pub(crate) fn page(&self, group: &str, start: usize, count: usize) -> Vec<&Row> {
        let Some(&g) = self.group_index.get(group) else {
            return Vec::new();
        };
        let rows = &self.groups[g].rows;
        let end = start.saturating_add(count).min(rows.len());
        if start >= end {
            return Vec::new();
        }
        if self.newest_first {
            (start..end).map(|i| &rows[rows.len() - 1 - i]).collect()
        } else {
            rows[start..end].iter().collect()
        }
    }

    /// Every item of a group in served order.
    pub(crate) fn served(&self, group: &str) -> Vec<&Row> {
        self.page(group, 0, usize::MAX)
    }

    /// Every item of the table: groups in creation order, each in served order.
    pub(crate) fn all(&self) -> Vec<&Row> {
        let mut out = Vec::with_capacity(self.len());
        for g in &self.groups {
            if self.newest_first {
                out.extend(g.rows.iter().rev());
            } else {
                out.extend(g.rows.iter());
            }
        }
        out
    }

    /// Sorts one group's storage order by a key (used at generation, before serving).
    pub(crate) fn sort_group_by_key<K: Ord>(&mut self, group: &str, key: impl FnMut(&Row) -> K) {
        if let Some(&g) = self.group_index.get(group) {
            self.groups[g].rows.sort_by_key(key);
            self.reindex();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str) -> Row {
        Row::new(id, format!("\"{id}\""), vec![("k", id.into())])
    }

    fn ids(rows: Vec<&Row>) -> Vec<String> {
        rows.iter().map(|r| r.id.to_string()).collect()
    }

    #[test]
    fn pages_groups_and_removal() {
        let mut t = Table::new();
        for id in ["a", "b", "c"] {
            t.push("g1", row(id));
        }
        t.push("g2", row("d"));
        t.add_alias("A", &Arc::from("a"));
        assert_eq!(ids(t.page("g1", 1, 5)), ["b", "c"]);
        assert_eq!(t.get("A").unwrap().attr("k"), Some("a"));
        assert_eq!(t.group_of("d"), Some("g2"));
        t.remove("b").unwrap();
        assert_eq!(ids(t.served("g1")), ["a", "c"]);
        assert_eq!(t.get("c").unwrap().id.as_ref(), "c");
        t.remove("A").unwrap();
        assert!(t.get("A").is_none());
        assert_eq!(t.remove_group("g1").len(), 1);
        assert_eq!(ids(t.all()), ["d"]);
        assert_eq!(t.get("d").unwrap().id.as_ref(), "d");
        assert!(t.get("c").is_none());
        t.push("g1", row("e"));
        assert_eq!(ids(t.all()), ["d", "e"]);
        assert_eq!(ids(t.served("g1")), ["e"]);
        assert_eq!(t.group_of("e"), Some("g1"));
        assert_eq!(t.len(), 2);
    }

    #[test]
    fn arena_items_are_independent() {
        let mut a = Arena::new();
        let x = a.store(b"abc");
        let y = a.store(b"de");
        assert_eq!((&x[..], &y[..]), (&b"abc"[..], &b"de"[..]));
        let big = vec![7u8; Arena::CHUNK + 1];
        assert_eq!(a.store(&big).len(), big.len());
    }

    struct Echo;

    impl Render for Echo {
        fn render(&self, id: &str) -> Bytes {
            Bytes::from(format!("\"{id}!\""))
        }
    }

    #[test]
    fn lazy_rows_render_until_replaced() {
        let mut t = Table::new();
        t.push("", Row::lazy("7", Arc::new(Echo), Vec::new()));
        assert_eq!(&t.get("7").unwrap().json()[..], b"\"7!\"");
        t.replace("7", Bytes::from_static(b"1"), None);
        assert_eq!(&t.get("7").unwrap().json()[..], b"1");
    }

    #[test]
    fn newest_first_serves_in_reverse() {
        let mut t = Table::newest_first();
        for id in ["1", "2", "3"] {
            t.push("s", row(id));
        }
        assert_eq!(ids(t.page("s", 0, 2)), ["3", "2"]);
        assert_eq!(ids(t.page("s", 2, 2)), ["1"]);
        assert!(t.page("s", 3, 2).is_empty());
        let gone = t.remove_where(|_, r| r.id.as_ref() == "2");
        assert_eq!(gone.len(), 1);
        assert_eq!(ids(t.served("s")), ["3", "1"]);
    }
}
