//! Helpers both backends share: the content hash, count conversions, sweep arithmetic.

use crate::{Error, ItemWrite, KindStats, Result, Scope};

/// The content hash stored with an item: XXH3-128 over its parent and JSON.
pub(crate) fn content_hash(item: &ItemWrite) -> [u8; 16] {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    hashed_content(item, |bytes| h.update(bytes));
    h.digest128().to_le_bytes()
}

/// The content hash of stores written before XXH3 (SHA-256, its first 16 bytes), 5× the
/// CPU of [`content_hash`]. Still recognized, so that an item such a store holds compares
/// unchanged instead of updated; the store then keeps its new hash.
fn legacy_hash(item: &ItemWrite) -> [u8; 16] {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    hashed_content(item, |bytes| h.update(bytes));
    let mut out = [0u8; 16];
    out.copy_from_slice(&h.finalize()[..16]);
    out
}

/// The bytes both hashes take, in order: the parent, length-prefixed, then the JSON.
fn hashed_content(item: &ItemWrite, mut feed: impl FnMut(&[u8])) {
    match &item.parent {
        Some((field, id)) => {
            feed(&[1u8]);
            feed(&(field.len() as u64).to_le_bytes());
            feed(field.as_bytes());
            feed(&(id.len() as u64).to_le_bytes());
            feed(id.as_bytes());
        }
        None => feed(&[0u8]),
    }
    feed(item.json.as_bytes());
}

/// How an item's content compares with the hash stored for its id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Compared {
    /// The same content.
    Same,
    /// The same content, stored with the legacy hash: the new hash is to be stored.
    SameLegacy,
    /// Other content.
    Differs,
}

/// Compares `stored` with `hash`, the [`content_hash`] of `item`.
pub(crate) fn compare(stored: &[u8], hash: &[u8; 16], item: &ItemWrite) -> Compared {
    if stored == hash {
        Compared::Same
    } else if stored == legacy_hash(item) {
        Compared::SameLegacy
    } else {
        Compared::Differs
    }
}

/// The stats of (provider, tenant, kind) in `out`, created empty if missing.
pub(crate) fn stats_slot(
    out: &mut std::collections::BTreeMap<(String, String, String), KindStats>,
    provider: String,
    tenant: String,
    kind: String,
) -> &mut KindStats {
    out.entry((provider.clone(), tenant.clone(), kind.clone()))
        .or_insert_with(|| KindStats {
            scope: Scope { provider, tenant },
            kind,
            live: 0,
            tombstoned: 0,
            last_run: None,
        })
}

/// A count as the databases store it.
pub(crate) fn to_db(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A stored count back.
pub(crate) fn from_db(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// Rejects a sweep fraction that is not a finite number ≥ 0.
pub(crate) fn check_fraction(store: &str, max_fraction: f64) -> Result<()> {
    if max_fraction.is_finite() && max_fraction >= 0.0 {
        Ok(())
    } else {
        Err(Error::Invalid {
            store: store.to_string(),
            reason: format!("max delete fraction must be a number >= 0, not {max_fraction}"),
        })
    }
}

/// Whether deleting `would_delete` of `live` items exceeds `max_fraction`.
pub(crate) fn exceeds(would_delete: u64, live: u64, max_fraction: f64) -> bool {
    would_delete as f64 > max_fraction * live as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(parent: Option<(&str, &str)>, json: &str) -> ItemWrite {
        ItemWrite {
            id: "1".into(),
            parent: parent.map(|(f, i)| (f.into(), i.into())),
            json: json.into(),
        }
    }

    #[test]
    fn hashes_tell_content_and_parent_apart() {
        let a = item(None, r#"{"id":1}"#);
        let hashes = [
            content_hash(&a),
            content_hash(&item(None, r#"{"id":2}"#)),
            content_hash(&item(Some(("board_id", "1")), r#"{"id":1}"#)),
            // The length prefixes keep the field/id split apart.
            content_hash(&item(Some(("board_id1", "")), r#"{"id":1}"#)),
        ];
        for (i, x) in hashes.iter().enumerate() {
            for y in &hashes[i + 1..] {
                assert_ne!(x, y);
            }
        }
        assert_eq!(compare(&hashes[0], &hashes[0], &a), Compared::Same);
        assert_eq!(compare(&hashes[1], &hashes[0], &a), Compared::Differs);
    }

    #[test]
    fn a_legacy_hash_of_the_same_content_is_recognized() {
        let a = item(Some(("board_id", "7")), r#"{"id":1}"#);
        let hash = content_hash(&a);
        assert_eq!(compare(&legacy_hash(&a), &hash, &a), Compared::SameLegacy);
        let b = item(Some(("board_id", "8")), r#"{"id":1}"#);
        assert_eq!(compare(&legacy_hash(&b), &hash, &a), Compared::Differs);
    }
}
