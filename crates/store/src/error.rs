//! Store errors: what failed and on which store (never its password).

/// A store result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong with a store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Another process is writing this scope.
    #[error("store {store} is busy: another sync of {provider} at {tenant} holds its lock")]
    Busy {
        /// The store (printable).
        store: String,
        /// The provider.
        provider: String,
        /// The tenant.
        tenant: String,
    },
}
