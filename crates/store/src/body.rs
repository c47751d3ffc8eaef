//! How the SQLite store keeps an item's JSON: LZ4-compressed when that makes it smaller.
//!
//! A full sync writes every byte of every item twice in WAL mode (the log, then the
//! database at the checkpoint). Jira's JSON is repetitive: LZ4, item by item, halves it
//! (100k simulator issues: 506 MB of JSON, a 247 MB file instead of 601 MB), and the
//! kernel copies and the disk syncs what is saved. The
//! stored value says what it is: TEXT is the JSON itself (as every store wrote it before
//! compression, and as bodies that do not shrink are still written), a BLOB is what
//! [`encode`] made. Reads give back the exact bytes the API served.

/// The first byte of a compressed body: which codec follows. A store written by a newer
/// ocean with another codec is refused by its schema version before any body is read;
/// the tag makes a damaged or foreign BLOB an error instead of garbage.
const LZ4_BLOCK: u8 = 1;

/// Header of a compressed body: the tag, then the JSON's length (u32, little-endian).
const HEADER: usize = 5;

/// LZ4 cannot expand a block more than ~255 times: a larger recorded length is damage,
/// refused before it sizes an allocation.
const MAX_RATIO: usize = 255;

/// `json` compressed for storage as a BLOB ([`LZ4_BLOCK`], its length, the LZ4 block), or
/// `None` when that is not smaller: then it is stored as it is (TEXT).
pub(crate) fn encode(json: &str) -> Option<Vec<u8>> {
    let len = u32::try_from(json.len()).ok()?;
    let bound = HEADER + lz4_flex::block::get_maximum_output_size(json.len());
    let mut out = vec![0u8; bound];
    out[0] = LZ4_BLOCK;
    out[1..HEADER].copy_from_slice(&len.to_le_bytes());
    match lz4_flex::block::compress_into(json.as_bytes(), &mut out[HEADER..]) {
        Ok(n) if HEADER + n < json.len() => {
            out.truncate(HEADER + n);
            Some(out)
        }
        // Incompressible (or, impossibly, over the bound the crate itself gave).
        _ => None,
    }
}

/// A stored BLOB body that does not decode: the file is damaged or not ours.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BodyError {
    /// Shorter than the header.
    #[error("a compressed item body of {0} bytes is too short")]
    Truncated(usize),
    /// A codec tag this binary does not know.
    #[error("an item body has unknown encoding {0}")]
    UnknownCodec(u8),
    /// The recorded length cannot come from the compressed bytes that follow.
    #[error("a compressed item body records {len} bytes, impossible from {compressed}")]
    BadLength {
        /// The recorded JSON length.
        len: usize,
        /// The compressed bytes after the header.
        compressed: usize,
    },
    /// The LZ4 block is damaged or decodes to another length.
    #[error("a compressed item body does not decompress: {0}")]
    Lz4(String),
    /// The decompressed bytes are not UTF-8.
    #[error("a compressed item body is not UTF-8")]
    NotUtf8,
}

/// The JSON of a stored BLOB body.
pub(crate) fn decode(blob: &[u8]) -> Result<String, BodyError> {
    if blob.len() < HEADER {
        return Err(BodyError::Truncated(blob.len()));
    }
    if blob[0] != LZ4_BLOCK {
        return Err(BodyError::UnknownCodec(blob[0]));
    }
    let mut len = [0u8; 4];
    len.copy_from_slice(&blob[1..HEADER]);
    let len = u32::from_le_bytes(len) as usize;
    let block = &blob[HEADER..];
    if len > block.len().saturating_mul(MAX_RATIO) {
        return Err(BodyError::BadLength {
            len,
            compressed: block.len(),
        });
    }
    let mut out = vec![0u8; len];
    match lz4_flex::block::decompress_into(block, &mut out) {
        Ok(n) if n == len => {}
        Ok(n) => return Err(BodyError::Lz4(format!("{n} bytes, {len} recorded"))),
        Err(e) => return Err(BodyError::Lz4(e.to_string())),
    }
    String::from_utf8(out).map_err(|_| BodyError::NotUtf8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(json: &str) -> String {
        match encode(json) {
            None => json.to_string(),
            Some(b) => decode(&b).unwrap(),
        }
    }

    #[test]
    fn repetitive_json_is_compressed_and_comes_back_byte_equal() {
        let json = format!(
            r#"{{"id":"1","fields":{{"summary":"é ü \u00e9 ☃","description":"{}"}}}}"#,
            "ab".repeat(2000)
        );
        let b = encode(&json).expect("compressed");
        assert!(b.len() < json.len() / 4, "{} of {}", b.len(), json.len());
        assert_eq!(roundtrip(&json), json);
    }

    #[test]
    fn short_or_incompressible_json_stays_plain() {
        assert_eq!(encode(""), None);
        assert_eq!(encode(r#"{"id":"1"}"#), None);
        // Scattered CJK characters: whichever way it is stored, it comes back equal.
        let noise: String = (0u32..1000)
            .map(|i| char::from_u32(0x4e00 + (i * 7919) % 20000).unwrap())
            .collect();
        assert_eq!(roundtrip(&noise), noise);
    }

    #[test]
    fn damaged_bodies_are_errors_not_garbage() {
        let json = "x".repeat(1000);
        let good = encode(&json).expect("compressed");
        assert!(matches!(decode(&good[..3]), Err(BodyError::Truncated(3))));
        let mut foreign = good.clone();
        foreign[0] = 9;
        assert!(matches!(decode(&foreign), Err(BodyError::UnknownCodec(9))));
        let mut huge = good.clone();
        huge[1..5].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(decode(&huge), Err(BodyError::BadLength { .. })));
        let mut short = good.clone();
        short[1..5].copy_from_slice(&999u32.to_le_bytes());
        assert!(matches!(decode(&short), Err(BodyError::Lz4(_))));
        let cut = &good[..good.len() - 2];
        assert!(decode(cut).is_err());
    }
}
