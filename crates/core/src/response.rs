//! A fully read response and its decoding.

use bytes::Bytes;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, HeaderMap};
use serde::de::DeserializeOwned;

use crate::{Error, Result};

/// A response whose body has been read in full (inside the retry loop, so a
/// body cut off mid-read is retried like any other transport fault).
#[derive(Debug, Clone)]
pub struct Response {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) url: String,
    pub(crate) body: Bytes,
}

impl Response {
    /// The status code.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The response headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The request URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The body bytes.
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// Decodes the body as JSON; errors name the URL and the JSON path.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        self.check_json()?;
        decode_json(&self.url, &self.body)
    }

    /// Fails unless the body is (declared or sniffed as) JSON.
    pub(crate) fn check_json(&self) -> Result<()> {
        let declared = self.headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok());
        match declared {
            Some(ct) if !ct.contains("json") && !starts_like_json(&self.body) => {
                Err(Error::Decode {
                    url: self.url.clone(),
                    path: ".".into(),
                    message: format!(
                        "expected JSON but the server sent `{ct}`: {}",
                        snippet(&self.body, 120)
                    ),
                })
            }
            _ => Ok(()),
        }
    }
}

fn starts_like_json(body: &[u8]) -> bool {
    matches!(
        body.iter().find(|b| !b.is_ascii_whitespace()),
        Some(b'{' | b'[')
    )
}

/// Decodes JSON with serde_path_to_error so failures say where.
pub(crate) fn decode_json<T: DeserializeOwned>(url: &str, body: &[u8]) -> Result<T> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| decode_error(url, e))?;
    de.end().map_err(|e| Error::Decode {
        url: url.into(),
        path: ".".into(),
        message: e.to_string(),
    })?;
    Ok(value)
}

pub(crate) fn decode_error(url: &str, e: serde_path_to_error::Error<serde_json::Error>) -> Error {
    Error::Decode {
        url: url.into(),
        path: e.path().to_string(),
        message: e.into_inner().to_string(),
    }
}

/// The first `max` bytes of a body as text, cut on a character boundary.
pub(crate) fn snippet(body: &[u8], max: usize) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(max)]);
    let mut text = text.trim_end_matches('\u{FFFD}').trim().to_owned();
    if body.len() > max {
        text.push('…');
    }
    text
}
