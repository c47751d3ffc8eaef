//! The PostgreSQL store (being built: opening one fails with a clear error for now).

use crate::{Error, Result, Store};

/// A PostgreSQL catalog.
pub(crate) struct PgStore;

impl PgStore {
    /// Connects to `url` (printed as `display`) and migrates it.
    pub(crate) async fn open(_url: &str, display: String) -> Result<Box<dyn Store>> {
        Err(Error::Open {
            store: display,
            source: "PostgreSQL support is not built yet".into(),
        })
    }
}
