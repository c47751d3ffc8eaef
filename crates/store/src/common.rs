//! Helpers both backends share: the content hash, count conversions, sweep arithmetic.

use crate::{Error, ItemWrite, KindStats, Result, Scope};

/// The content hash stored with an item: SHA-256 over its parent and JSON, first 16 bytes.
pub(crate) fn content_hash(item: &ItemWrite) -> [u8; 16] {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    match &item.parent {
        Some((field, id)) => {
            h.update([1u8]);
            h.update((field.len() as u64).to_le_bytes());
            h.update(field.as_bytes());
            h.update((id.len() as u64).to_le_bytes());
            h.update(id.as_bytes());
        }
        None => h.update([0u8]),
    }
    h.update(item.json.as_bytes());
    let full = h.finalize();
    let mut out = [0u8; 16];
    out.copy_from_slice(&full[..16]);
    out
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
