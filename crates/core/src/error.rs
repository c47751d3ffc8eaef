//! One error type for every failure, each variant saying what, where, and whether to retry.

use std::fmt;
use std::time::Duration;

use reqwest::{Method, StatusCode};

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong between a caller and an API.
///
/// Errors never contain a credential: URLs carry none, and response bodies
/// are scrubbed of the client's secrets before they are kept.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server answered with a non-success status.
    #[error("{0}")]
    Status(Box<StatusError>),
    /// The body could not be decoded into the expected shape.
    #[error("could not decode the response of {url} at `{path}`: {message}")]
    Decode {
        /// The request URL.
        url: String,
        /// Where in the JSON document decoding failed (`values[3].id`; `.` is the root).
        path: String,
        /// What was wrong there.
        message: String,
    },
    /// The connection failed, was reset, or the body was cut off.
    #[error("{method} {url} failed: {kind}")]
    Transport {
        /// The request method.
        method: Method,
        /// The request URL.
        url: String,
        /// Which stage failed.
        kind: TransportKind,
        /// The underlying error.
        #[source]
        source: reqwest::Error,
    },
    /// No answer arrived within the request timeout.
    #[error("{method} {url} timed out after {after:?}")]
    Timeout {
        /// The request method.
        method: Method,
        /// The request URL.
        url: String,
        /// The configured timeout.
        after: Duration,
    },
    /// The server asked us to wait longer than the configured maximum wait.
    #[error(
        "{method} {url} is rate limited: the server asks to wait {retry_after:?}, more than the maximum wait of {max_wait:?}"
    )]
    RateLimited {
        /// The request method.
        method: Method,
        /// The request URL.
        url: String,
        /// How long the server asked us to wait.
        retry_after: Duration,
        /// The client's maximum wait.
        max_wait: Duration,
    },
    /// A pagination guard stopped a stream that would otherwise loop or lose items.
    #[error("pagination of {url} stopped: {guard}")]
    Pagination {
        /// The request URL (without page parameters).
        url: String,
        /// Which guard fired.
        guard: PaginationGuard,
    },
    /// The API answered with success but reported a failure in its body
    /// (e.g. Jira's per-item `errors` in a webhook registration result).
    #[error("{url} reported a failure: {message}")]
    Api {
        /// The request URL.
        url: String,
        /// What the API said.
        message: String,
    },
    /// A token provider could not produce a token.
    #[error("could not obtain a token: {0}")]
    Token(#[source] crate::TokenError),
    /// The client or a request was configured wrongly.
    #[error("configuration error: {0}")]
    Config(String),
}

impl Error {
    /// True when sending the same request again may succeed: what
    /// [`RetryPolicy::decide`](crate::RetryPolicy::decide) of the default policy says of a
    /// request safe to replay (waits and limits aside).
    pub fn is_retryable(&self) -> bool {
        crate::RetryPolicy::default().retries(self, true)
    }

    /// The HTTP status, when the server answered with one.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Self::Status(e) => Some(e.status),
            _ => None,
        }
    }

    /// The status error, when the server answered with a non-success status.
    pub fn as_status(&self) -> Option<&StatusError> {
        match self {
            Self::Status(e) => Some(e),
            _ => None,
        }
    }
}

/// A non-success HTTP answer, with what the server said about it.
#[derive(Debug, Clone)]
pub struct StatusError {
    /// The request method.
    pub method: Method,
    /// The request URL.
    pub url: String,
    /// The status code.
    pub status: StatusCode,
    /// The first ~500 bytes of the body, scrubbed of secrets.
    pub body_snippet: String,
    /// Messages parsed from a Jira `ErrorCollection` or an Octopus error body.
    pub messages: Vec<String>,
    /// For `401`/`403`: which credential was used, so the user knows what to check.
    pub credential: Option<String>,
    /// The wait the headers ask before the request is sent again (`Retry-After`, else a
    /// rate-limit reset). On a `403` only when they say a rate limit is why (a
    /// `Retry-After`, or a spent budget: GitHub's limits answer `403`), which makes that
    /// `403` a throttle, retried like a `429`.
    pub retry_after: Option<Duration>,
    /// How many times the request was sent.
    pub attempts: u32,
}

impl StatusError {
    /// True when any server message contains `needle` (case-insensitive).
    pub fn mentions(&self, needle: &str) -> bool {
        let needle = needle.to_ascii_lowercase();
        self.messages
            .iter()
            .any(|m| m.to_ascii_lowercase().contains(&needle))
            || self.body_snippet.to_ascii_lowercase().contains(&needle)
    }
}

impl fmt::Display for StatusError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} answered {}", self.method, self.url, self.status)?;
        if self.messages.is_empty() {
            if !self.body_snippet.is_empty() {
                write!(f, ": {}", self.body_snippet)?;
            }
        } else {
            write!(f, ": {}", self.messages.join("; "))?;
        }
        if self.attempts > 1 {
            write!(f, " (after {} attempts)", self.attempts)?;
        }
        match (self.status, &self.credential) {
            (StatusCode::UNAUTHORIZED, Some(c)) => {
                write!(f, "; check {c}: it was rejected as invalid or expired")
            }
            (StatusCode::FORBIDDEN, Some(c)) => {
                write!(f, "; {c} lacks the permission this request needs")
            }
            _ => Ok(()),
        }
    }
}

/// Which stage of a request failed at the transport level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportKind {
    /// The connection could not be made: the request was never sent.
    Connect,
    /// The request was sent but the answer was lost or cut off.
    Response,
}

impl fmt::Display for TransportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Connect => "could not connect",
            Self::Response => "the connection failed while reading the answer",
        })
    }
}

/// The pagination guard that fired.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PaginationGuard {
    /// The server returned a cursor (or next link) it had already returned.
    RepeatedCursor {
        /// The page number (from 0) that repeated it.
        page: u64,
    },
    /// The stream read more pages than the configured maximum.
    TooManyPages {
        /// The maximum.
        max_pages: u64,
    },
    /// A page came back empty although the server said more items remain.
    EmptyPageBeforeEnd {
        /// The offset of the empty page.
        offset: u64,
        /// The total the server announced.
        total: Option<u64>,
    },
    /// The server said more pages exist but gave no way to reach them.
    MissingCursor {
        /// The page number (from 0).
        page: u64,
    },
    /// Every item of a page was already on the previous page: the server is not
    /// advancing (it ignores the offset, or hands out fresh cursors for the same items).
    /// Fires before the page is yielded, so nothing is written twice.
    RepeatedPage {
        /// The page number (from 0) that repeated the one before it.
        page: u64,
    },
    /// A page starting at or past the total still had items and claimed more follow.
    OffsetPastTotal {
        /// Where the page started.
        offset: u64,
        /// The total it announced.
        total: u64,
    },
    /// The page that reached the total claimed more pages follow (`isLast: false`, a next
    /// link or cursor). Its items and all before it were yielded; the stream ends here
    /// rather than read past the total, where a server that contradicts itself may serve
    /// the first pages again. Items the total left out (if it was the lie) are not read.
    TotalReachedButNotLast {
        /// The total the server announced.
        total: u64,
    },
    /// A next link (a `Link` header or a next URL in the body) points outside the client's
    /// base URL: following it would send the credentials elsewhere.
    ForeignNextLink {
        /// The scheme, host and port the link points at.
        origin: String,
    },
    /// More requests than `ceil(total / smallest page) + slack`, although every page
    /// brought new items: the server is not moving through the total it announced.
    RequestBudget {
        /// The largest total announced.
        total: u64,
        /// Requests made.
        requests: u64,
        /// The budget they exceeded.
        budget: u64,
    },
}

impl fmt::Display for PaginationGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::RepeatedCursor { page } => {
                write!(
                    f,
                    "page {page} returned a cursor seen before (the server would loop)"
                )
            }
            Self::TooManyPages { max_pages } => {
                write!(
                    f,
                    "more than {max_pages} pages (raise max_pages if this is expected)"
                )
            }
            Self::EmptyPageBeforeEnd {
                offset,
                total: Some(total),
            } => write!(
                f,
                "empty page at offset {offset} while the server announced {total} items and not the last page"
            ),
            Self::EmptyPageBeforeEnd {
                offset,
                total: None,
            } => {
                write!(
                    f,
                    "empty page at offset {offset} while the server said it was not the last page"
                )
            }
            Self::MissingCursor { page } => {
                write!(
                    f,
                    "page {page} is not the last but carries no cursor for the next one"
                )
            }
            Self::ForeignNextLink { origin } => write!(
                f,
                "the next page's link points at {origin}, outside the client's base URL (not followed)"
            ),
            Self::RepeatedPage { page } => write!(
                f,
                "page {page} holds only items of the page before it (the server is not advancing)"
            ),
            Self::OffsetPastTotal { offset, total } => write!(
                f,
                "a page at offset {offset} has items and claims more follow, past the announced total of {total}"
            ),
            Self::TotalReachedButNotLast { total } => write!(
                f,
                "the announced total of {total} items was reached but the server says it is not the last page"
            ),
            Self::RequestBudget {
                total,
                requests,
                budget,
            } => write!(
                f,
                "{requests} requests for a total of {total} items, more than the budget of {budget} (the server is not advancing)"
            ),
        }
    }
}
