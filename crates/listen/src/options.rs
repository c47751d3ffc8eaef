//! How the receiver bounds what it accepts.

use std::time::Duration;

/// Bounds of a receiver.
///
/// ```
/// use std::time::Duration;
/// use ocean_listen::ListenOptions;
/// let options = ListenOptions::default()
///     .queue_capacity(64)
///     .body_limit(256 * 1024)
///     .retry_after(Duration::from_secs(2));
/// assert_eq!(options.queue_capacity, 64);
/// assert_eq!(ListenOptions::default().body_limit, 1024 * 1024);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListenOptions {
    /// Deliveries waiting for the worker at most (default 1024). A delivery that finds the
    /// queue full is answered `503` with `Retry-After`, so the provider sends it again
    /// later rather than the receiver buffering without bound.
    pub queue_capacity: usize,
    /// The largest body accepted, in bytes (default 1 MiB); larger ones are answered `413`.
    pub body_limit: usize,
    /// The `Retry-After` of a `503` (default 5 s, sent in whole seconds, at least 1).
    pub retry_after: Duration,
}

impl Default for ListenOptions {
    fn default() -> Self {
        Self {
            queue_capacity: 1024,
            body_limit: 1024 * 1024,
            retry_after: Duration::from_secs(5),
        }
    }
}

impl ListenOptions {
    /// Sets [`queue_capacity`](Self::queue_capacity) (at least 1).
    #[must_use]
    pub fn queue_capacity(mut self, deliveries: usize) -> Self {
        self.queue_capacity = deliveries.max(1);
        self
    }

    /// Sets [`body_limit`](Self::body_limit).
    #[must_use]
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// Sets [`retry_after`](Self::retry_after).
    #[must_use]
    pub fn retry_after(mut self, wait: Duration) -> Self {
        self.retry_after = wait;
        self
    }

    /// The `Retry-After` header value: whole seconds, rounded up, at least 1.
    pub(crate) fn retry_after_secs(&self) -> u64 {
        let secs = self.retry_after.as_secs() + u64::from(self.retry_after.subsec_nanos() > 0);
        secs.max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_whole_seconds_rounded_up() {
        let at = |ms| ListenOptions::default().retry_after(Duration::from_millis(ms));
        assert_eq!(at(0).retry_after_secs(), 1);
        assert_eq!(at(1500).retry_after_secs(), 2);
        assert_eq!(at(3000).retry_after_secs(), 3);
        assert_eq!(ListenOptions::default().queue_capacity(0).queue_capacity, 1);
    }
}
