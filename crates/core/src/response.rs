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
    /// The client that received it, to scrub its secrets from decode errors.
    pub(crate) client: Option<crate::Client>,
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
        decode_json(&self.url, &self.body).map_err(|e| self.scrubbed(e))
    }

    /// `error` with the client's secrets scrubbed from a decode message (a server may
    /// echo a credential inside a body that then fails to decode), then capped: scrubbing
    /// first, so a cut never leaves half a secret behind.
    pub(crate) fn scrubbed(&self, error: Error) -> Error {
        match error {
            Error::Decode { url, path, message } => {
                let message = match &self.client {
                    Some(client) => client.scrub(&message),
                    None => message,
                };
                Error::Decode {
                    url,
                    path: capped(&path),
                    message: capped(&message),
                }
            }
            other => other,
        }
    }

    /// Fails unless the body is (declared or sniffed as) JSON.
    pub(crate) fn check_json(&self) -> Result<()> {
        let declared = self.headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok());
        match declared {
            Some(ct) if !ct.contains("json") && !starts_like_json(&self.body) => Err(self
                .scrubbed(Error::Decode {
                    url: self.url.clone(),
                    path: ".".into(),
                    message: format!(
                        "expected JSON but the server sent `{ct}`: {}",
                        snippet(&self.body, 120)
                    ),
                })),
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

/// Decodes JSON; failures say where (the body is then decoded again with
/// serde_path_to_error: tracking the path of every value would double the cost of
/// every successful decode).
pub(crate) fn decode_json<T: DeserializeOwned>(url: &str, body: &[u8]) -> Result<T> {
    let mut de = serde_json::Deserializer::from_slice(body);
    match T::deserialize(&mut de).and_then(|value| de.end().map(|()| value)) {
        Ok(value) => Ok(value),
        Err(untracked) => Err(json_error::<T>(url, body, untracked)),
    }
}

#[cold]
#[inline(never)]
fn json_error<T: DeserializeOwned>(url: &str, body: &[u8], untracked: serde_json::Error) -> Error {
    let mut de = serde_json::Deserializer::from_slice(body);
    match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Err(e) => decode_error(url, e),
        Ok(_) => Error::Decode {
            url: url.into(),
            path: ".".into(),
            message: de.end().err().unwrap_or(untracked).to_string(),
        },
    }
}

pub(crate) fn decode_error(url: &str, e: serde_path_to_error::Error<serde_json::Error>) -> Error {
    Error::Decode {
        url: url.into(),
        path: e.path().to_string(),
        message: e.into_inner().to_string(),
    }
}

/// Bytes of a decode message kept: serde quotes the offending value, which can be a
/// whole multi-kilobyte string or object of the body. Applied by [`Response::scrubbed`],
/// after scrubbing.
pub(crate) const MESSAGE_BYTES: usize = 300;

/// `text` cut to [`MESSAGE_BYTES`] on a character boundary, marked with `…` when cut.
pub(crate) fn capped(text: &str) -> String {
    if text.len() <= MESSAGE_BYTES {
        return text.to_owned();
    }
    let mut end = MESSAGE_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_messages_are_capped_on_a_character_boundary() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Item {
            n: u32,
        }
        let long = "é".repeat(3000);
        let body = format!(r#"{{"n":"{long}"}}"#);
        let response = Response {
            status: StatusCode::OK,
            headers: HeaderMap::new(),
            url: "http://h/x".into(),
            body: body.into(),
            client: None,
        };
        let err = response.json::<Item>().unwrap_err();
        let Error::Decode { message, path, .. } = &err else {
            panic!("{err:?}")
        };
        assert_eq!(path, "n");
        assert!(
            message.len() <= MESSAGE_BYTES + '…'.len_utf8(),
            "{}",
            message.len()
        );
        assert!(
            message.ends_with('…') && message.starts_with("invalid type"),
            "{message}"
        );
        assert_eq!(capped("short"), "short");
    }
}
