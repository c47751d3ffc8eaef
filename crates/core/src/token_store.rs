//! Where a rotating refresh token lives between refreshes and between runs.
//!
//! OAuth servers that rotate refresh tokens (Atlassian does) invalidate the old one the moment
//! they issue a new one, so the new one must be on disk before anything else happens: a crash
//! between the refresh and the save locks the integration out until a human authorizes again.
//! [`TokenFile`] therefore writes a temporary file, flushes it to disk and renames it over the
//! old one, so the file always holds either the old token or the new one, never a torn mix.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::Secret;

/// Keeps the refresh token of a [`RefreshingToken`](crate::RefreshingToken).
///
/// `save` is called with every rotated token before the access token that came with it is
/// used; when it fails, the refresh fails.
pub trait RefreshTokenStore: Send + Sync + 'static {
    /// The refresh token to use next.
    fn load(&self) -> Result<Secret, StoreError>;
    /// Replaces the refresh token durably.
    fn save(&self, token: &Secret) -> Result<(), StoreError>;
    /// Where the token lives, for messages ("the token file /x/y"); never the token.
    fn describe(&self) -> String;
}

/// A refresh token store failed.
#[derive(Debug, thiserror::Error)]
#[error("{what} {where_}: {source}")]
pub struct StoreError {
    /// What was being done ("could not write the rotated refresh token to").
    pub what: &'static str,
    /// Where (a path, or "memory").
    pub where_: String,
    /// The I/O error.
    #[source]
    pub source: io::Error,
}

/// A refresh token held only in memory: a rotated token is lost when the process ends.
///
/// For servers that do not rotate, or for tests. With a rotating server, use [`TokenFile`]
/// (or a store of your own); this store logs a warning on every rotation it cannot keep.
pub struct MemoryTokenStore(Mutex<Secret>);

impl MemoryTokenStore {
    /// A store holding `token`.
    pub fn new(token: impl Into<Secret>) -> Self {
        Self(Mutex::new(token.into()))
    }
}

impl RefreshTokenStore for MemoryTokenStore {
    fn load(&self) -> Result<Secret, StoreError> {
        Ok(self.0.lock().unwrap_or_else(|e| e.into_inner()).clone())
    }

    fn save(&self, token: &Secret) -> Result<(), StoreError> {
        tracing::warn!(
            "the OAuth server rotated the refresh token; it is kept in memory only, so the next \
             run needs a new authorization (keep it in a token file to avoid this)"
        );
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = token.clone();
        Ok(())
    }

    fn describe(&self) -> String {
        "memory".into()
    }
}

/// A refresh token in a file of its own (the token alone, on one line), replaced atomically.
///
/// ```
/// use ocean_core::{RefreshTokenStore, Secret, TokenFile};
/// let dir = std::env::temp_dir().join(format!("ocean-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let file = TokenFile::new(dir.join("jira.token"));
/// file.save(&Secret::new("rt-1")).unwrap();
/// assert_eq!(file.load().unwrap().expose(), "rt-1");
/// assert!(!file.describe().contains("rt-1"));
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct TokenFile {
    path: PathBuf,
}

impl TokenFile {
    /// The file at `path` (created by [`save`](RefreshTokenStore::save) when missing).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// True when the file exists and holds a token (so a seed given elsewhere must not
    /// overwrite what may be a newer, rotated token).
    pub fn holds_token(&self) -> bool {
        self.load().is_ok()
    }

    fn error(&self, what: &'static str, source: io::Error) -> StoreError {
        StoreError {
            what,
            where_: self.describe(),
            source,
        }
    }
}

impl RefreshTokenStore for TokenFile {
    fn load(&self) -> Result<Secret, StoreError> {
        let text = fs::read_to_string(&self.path)
            .map_err(|e| self.error("could not read the refresh token from", e))?;
        let token = text.trim();
        if token.is_empty() {
            return Err(self.error(
                "no refresh token in",
                io::Error::new(io::ErrorKind::InvalidData, "the file is empty"),
            ));
        }
        Ok(Secret::new(token))
    }

    fn save(&self, token: &Secret) -> Result<(), StoreError> {
        write_atomically(&self.path, format!("{}\n", token.expose()).as_bytes())
            .map_err(|e| self.error("could not write the rotated refresh token to", e))
    }

    fn describe(&self) -> String {
        format!("the token file {}", self.path.display())
    }
}

/// Replaces `path` with `bytes` so that a crash at any moment leaves either the old content
/// or the new one: write a sibling temporary file, flush it to disk, rename it over `path`
/// (atomic on POSIX file systems), then flush the directory so the rename itself survives.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file path"))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".{}.tmp", std::process::id()));
    let tmp = dir.join(tmp_name);
    let written = (|| {
        let mut file = private_file(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written?;
    // The rename is durable only once the directory entry is; not every platform lets a
    // directory be opened for this, and there the rename is as durable as it gets.
    if let Ok(dir) = File::open(&dir) {
        let _ = dir.sync_all();
    }
    Ok(())
}

/// A new file only the owner can read: it holds a credential.
fn private_file(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    options.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("ocean-store-{name}-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_save_replaces_the_token_and_leaves_no_temporary_file() {
        let dir = dir("replace");
        let file = TokenFile::new(dir.join("t"));
        assert!(!file.holds_token());
        file.save(&Secret::new("one")).unwrap();
        file.save(&Secret::new("two")).unwrap();
        assert_eq!(file.load().unwrap().expose(), "two");
        let names: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["t"]);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn the_file_is_private() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = dir("private");
        let file = TokenFile::new(dir.join("t"));
        file.save(&Secret::new("one")).unwrap();
        let mode = fs::metadata(file.path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_empty_file_is_an_error_naming_the_file_not_the_token() {
        let dir = dir("empty");
        let path = dir.join("t");
        fs::write(&path, "\n").unwrap();
        let err = TokenFile::new(&path).load().unwrap_err().to_string();
        assert!(err.contains(&path.display().to_string()), "{err}");
        fs::remove_dir_all(&dir).unwrap();
    }
}
