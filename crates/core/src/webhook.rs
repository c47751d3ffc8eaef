//! Provider-agnostic webhook pieces: what changed, and checking who sent it.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::ParentRef;

/// What a webhook event asks the receiver to do with an entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// The entity was created or changed: fetch it again and store it.
    Upsert,
    /// The entity is gone: remove it.
    Delete,
}

/// One entity a webhook event touched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The resource kind, e.g. `"issue"`.
    pub kind: &'static str,
    /// Upsert or delete.
    pub action: Action,
    /// The identifier to re-fetch or delete (Jira issue key, Octopus document id…).
    pub id: String,
    /// The scope the entity lives in, when the API needs it to re-fetch (an Octopus space).
    pub parent: Option<ParentRef>,
}

/// Compares two byte strings in constant time.
///
/// ```
/// assert!(ocean_core::webhook::constant_time_eq(b"token", b"token"));
/// assert!(!ocean_core::webhook::constant_time_eq(b"token", b"tokem"));
/// ```
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// The lowercase hex HMAC-SHA256 of `body` under `secret`.
pub fn hmac_sha256_hex(secret: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC accepts keys of any length");
    mac.update(body);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Checks a `sha256=<hex>` signature header (Jira's and GitHub's `X-Hub-Signature`)
/// against `body`, in constant time.
///
/// ```
/// use ocean_core::webhook::{hmac_sha256_hex, verify_sha256_signature};
/// let body = br#"{"webhookEvent":"jira:issue_updated"}"#;
/// let header = format!("sha256={}", hmac_sha256_hex(b"s3cret", body));
/// assert!(verify_sha256_signature(b"s3cret", body, &header));
/// assert!(!verify_sha256_signature(b"wrong", body, &header));
/// assert!(!verify_sha256_signature(b"s3cret", body, "sha256=00"));
/// ```
pub fn verify_sha256_signature(secret: &[u8], body: &[u8], header: &str) -> bool {
    let Some(given) = header.trim().strip_prefix("sha256=") else {
        return false;
    };
    constant_time_eq(
        hmac_sha256_hex(secret, body).as_bytes(),
        given.to_ascii_lowercase().as_bytes(),
    )
}
