//! How the SQLite store keeps an item's JSON: LZ4-compressed when that makes it smaller,
//! against a dictionary of the item's kind.
//!
//! A full sync writes every byte of every item twice in WAL mode (the log, then the
//! database at the checkpoint). Jira's JSON is repetitive within an item, and items of a
//! kind share most of their bytes (field names, URLs, the same users and statuses), which
//! an item compressed alone pays for again. LZ4 seeded with one earlier item of the kind
//! (its [`Dict`]) compresses as fast as LZ4 alone and stores half as much: 100k simulator
//! issues, 506 MB of JSON, make a 107 MB file (233 MB with each item compressed alone, 601
//! MB as text), and the kernel copies and the disk syncs what is saved. The stored value says what it is:
//! TEXT is the JSON itself (as every store wrote it before compression, and as bodies that
//! do not shrink are still written), a BLOB is what a [`Compressor`] made. Reads give back the
//! exact bytes the API served.

use std::collections::HashMap;
use std::sync::Arc;

mod lz4;

/// The first byte of a compressed body: which codec follows. A store written by a newer
/// ocean with another codec is refused by its schema version before any body is read;
/// the tag makes a damaged or foreign BLOB an error instead of garbage.
const LZ4_BLOCK: u8 = 1;

/// An LZ4 block compressed against a dictionary: the dictionary's id follows the length.
const LZ4_DICT: u8 = 2;

/// Header of a compressed body: the tag, then the JSON's length (u32, little-endian).
const HEADER: usize = 5;

/// Header of a body compressed against a dictionary: [`HEADER`], then the dictionary's id
/// (u32, little-endian).
const DICT_HEADER: usize = HEADER + 4;

/// LZ4 cannot expand a block more than ~255 times: a larger recorded length is damage,
/// refused before it sizes an allocation.
const MAX_RATIO: usize = 255;

/// Shorter items make poor dictionaries (and short kinds gain little from one).
const DICT_MIN: usize = 256;

/// The longest dictionary: most of a Jira issue (a 4 KiB one made a 5% larger file).
const DICT_MAX: usize = 8 * 1024;

/// A kind's compression dictionary, as the store keeps it (`body_dicts`): the first
/// [`DICT_MAX`] bytes of an item of the kind.
pub(crate) struct Dict {
    /// Its row id, recorded in every body compressed against it.
    pub(crate) id: u32,
    pub(crate) bytes: Vec<u8>,
}

/// The dictionaries a read may need, by id.
pub(crate) type Dicts = HashMap<u32, Vec<u8>>;

/// The dictionary `json` would make for its kind, if it is long enough to make one.
pub(crate) fn dictionary_of(json: &str) -> Option<&[u8]> {
    (json.len() >= DICT_MIN).then(|| &json.as_bytes()[..json.len().min(DICT_MAX)])
}

/// Compresses items for storage as BLOBs, against a kind's dictionary if any, through
/// one output buffer it keeps (zeroing a fresh buffer for every item cost a quarter of the
/// compression's time).
pub(crate) struct Compressor {
    dict: Option<lz4::DictEncoder>,
    scratch: Vec<u8>,
}

impl Compressor {
    /// A compressor against `dict` (LZ4 alone without one).
    pub(crate) fn new(dict: Option<Arc<Dict>>) -> Self {
        Compressor {
            dict: dict.map(lz4::DictEncoder::new),
            scratch: Vec::new(),
        }
    }

    /// `json` compressed (the tag, its length, the dictionary's id if any, the LZ4
    /// block), or `None` when that is not smaller: then it is stored as it is (TEXT).
    pub(crate) fn encode(&mut self, json: &str) -> Option<Vec<u8>> {
        let len = u32::try_from(json.len()).ok()?;
        let bound = lz4::bound(json.len())?;
        if self.scratch.len() < bound {
            self.scratch.resize(bound, 0);
        }
        let (tag, header, written) = match &mut self.dict {
            Some(encoder) => (
                LZ4_DICT,
                DICT_HEADER,
                encoder.compress(json.as_bytes(), &mut self.scratch),
            ),
            None => (
                LZ4_BLOCK,
                HEADER,
                lz4::compress(json.as_bytes(), &mut self.scratch),
            ),
        };
        // Incompressible (or, impossibly, over the bound LZ4 itself gave): `None`.
        let n = written.filter(|n| header + n < json.len())?;
        let mut out = Vec::with_capacity(header + n);
        out.push(tag);
        out.extend_from_slice(&len.to_le_bytes());
        if let Some(encoder) = &self.dict {
            out.extend_from_slice(&encoder.dict().id.to_le_bytes());
        }
        out.extend_from_slice(&self.scratch[..n]);
        Some(out)
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
    /// Compressed against a dictionary the store does not have (for the item's kind).
    #[error("an item body needs compression dictionary {0}, which the store does not have")]
    UnknownDict(u32),
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

/// The JSON of a stored BLOB body; `dicts` holds the dictionaries of its kind.
pub(crate) fn decode(blob: &[u8], dicts: &Dicts) -> Result<String, BodyError> {
    let u32_at = |at: usize| {
        let mut b = [0u8; 4];
        b.copy_from_slice(&blob[at..at + 4]);
        u32::from_le_bytes(b)
    };
    if blob.len() < HEADER {
        return Err(BodyError::Truncated(blob.len()));
    }
    let (block, dict) = match blob[0] {
        LZ4_BLOCK => (&blob[HEADER..], None),
        LZ4_DICT if blob.len() < DICT_HEADER => return Err(BodyError::Truncated(blob.len())),
        LZ4_DICT => {
            let id = u32_at(HEADER);
            let dict = dicts.get(&id).ok_or(BodyError::UnknownDict(id))?;
            (&blob[DICT_HEADER..], Some(dict.as_slice()))
        }
        tag => return Err(BodyError::UnknownCodec(tag)),
    };
    let len = u32_at(1) as usize;
    if len > block.len().saturating_mul(MAX_RATIO) {
        return Err(BodyError::BadLength {
            len,
            compressed: block.len(),
        });
    }
    let mut out = vec![0u8; len];
    match lz4::decompress(block, &mut out, dict) {
        Some(n) if n == len => {}
        Some(n) => return Err(BodyError::Lz4(format!("{n} bytes, {len} recorded"))),
        None => {
            return Err(BodyError::Lz4(format!(
                "a damaged block, or one of more than the {len} bytes recorded"
            )));
        }
    }
    String::from_utf8(out).map_err(|_| BodyError::NotUtf8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(json: &str, dict: Option<&Dict>) -> Option<Vec<u8>> {
        let dict = dict.map(|d| {
            Arc::new(Dict {
                id: d.id,
                bytes: d.bytes.clone(),
            })
        });
        Compressor::new(dict).encode(json)
    }

    fn roundtrip(json: &str, dict: Option<&Dict>) -> String {
        let dicts: Dicts = dict.iter().map(|d| (d.id, d.bytes.clone())).collect();
        match encode(json, dict) {
            None => json.to_string(),
            Some(b) => decode(&b, &dicts).unwrap(),
        }
    }

    /// An issue-like item: what items of a kind share, and what is their own.
    fn issue(n: u32) -> String {
        format!(
            r#"{{"id":"{n}","self":"https://x.example/rest/api/3/issue/{n}","fields":{{"summary":"Fix \u00e9 {n} ☃","status":{{"self":"https://x.example/rest/api/3/status/1","name":"To Do"}},"assignee":{{"displayName":"Ada {m}","self":"https://x.example/rest/api/3/user?accountId={m}"}}}}}}"#,
            m = n * 7919
        )
    }

    #[test]
    fn repetitive_json_is_compressed_and_comes_back_byte_equal() {
        let json = format!(
            r#"{{"id":"1","fields":{{"summary":"é ü \u00e9 ☃","description":"{}"}}}}"#,
            "ab".repeat(2000)
        );
        let b = encode(&json, None).expect("compressed");
        assert!(b.len() < json.len() / 4, "{} of {}", b.len(), json.len());
        assert_eq!(roundtrip(&json, None), json);
    }

    #[test]
    fn a_dictionary_of_the_kind_shrinks_its_items_and_they_come_back_byte_equal() {
        let dict = Dict {
            id: 7,
            bytes: dictionary_of(&issue(1)).expect("long enough").to_vec(),
        };
        let item = issue(2);
        let alone = encode(&item, None).map_or(item.len(), |b| b.len());
        let seeded = encode(&item, Some(&dict)).expect("compressed");
        assert!(seeded.len() * 2 < alone, "{} vs {alone}", seeded.len());
        assert_eq!(roundtrip(&item, Some(&dict)), item);
        // Another id, another dictionary: the body names the one it needs.
        let other = Dicts::from([(8, dict.bytes.clone())]);
        assert!(matches!(
            decode(&seeded, &other),
            Err(BodyError::UnknownDict(7))
        ));
        assert!(matches!(
            decode(&seeded[..DICT_HEADER - 1], &other),
            Err(BodyError::Truncated(_))
        ));
    }

    #[test]
    fn a_body_needs_its_dictionary_alone_not_the_items_compressed_before_it() {
        let dict = Arc::new(Dict {
            id: 3,
            bytes: dictionary_of(&issue(1)).expect("long enough").to_vec(),
        });
        let dicts = Dicts::from([(3, dict.bytes.clone())]);
        let mut one = Compressor::new(Some(Arc::clone(&dict)));
        let after_others: Vec<_> = (2..50).map(|n| one.encode(&issue(n)).unwrap()).collect();
        for (n, body) in (2..50).zip(&after_others) {
            let alone = Compressor::new(Some(Arc::clone(&dict))).encode(&issue(n));
            assert_eq!(alone.as_ref(), Some(body), "issue {n}");
            assert_eq!(decode(body, &dicts).unwrap(), issue(n));
        }
    }

    #[test]
    fn short_items_make_no_dictionary_and_long_ones_a_bounded_one() {
        assert_eq!(dictionary_of(r#"{"id":"1"}"#), None);
        let long = "x".repeat(DICT_MAX * 2);
        assert_eq!(dictionary_of(&long).map(<[u8]>::len), Some(DICT_MAX));
    }

    #[test]
    fn short_or_incompressible_json_stays_plain() {
        assert_eq!(encode("", None), None);
        assert_eq!(encode(r#"{"id":"1"}"#, None), None);
        // Scattered CJK characters: whichever way it is stored, it comes back equal.
        let noise: String = (0u32..1000)
            .map(|i| char::from_u32(0x4e00 + (i * 7919) % 20000).unwrap())
            .collect();
        assert_eq!(roundtrip(&noise, None), noise);
        let dict = Dict {
            id: 1,
            bytes: dictionary_of(&issue(1)).unwrap().to_vec(),
        };
        assert_eq!(roundtrip(&noise, Some(&dict)), noise);
    }

    #[test]
    fn any_damage_to_a_body_is_an_error_or_some_json_never_a_crash() {
        // The C decoder reads what a damaged file holds: every truncation and every byte
        // flipped of a body compressed against a dictionary must come back as a result.
        let dict = Arc::new(Dict {
            id: 1,
            bytes: dictionary_of(&issue(1)).unwrap().to_vec(),
        });
        let dicts = Dicts::from([(1, dict.bytes.clone())]);
        let good = Compressor::new(Some(dict)).encode(&issue(2)).unwrap();
        for cut in 0..good.len() {
            assert!(decode(&good[..cut], &dicts).is_err(), "cut at {cut}");
        }
        for at in DICT_HEADER..good.len() {
            for flip in [0x01, 0x80, 0xff] {
                let mut bad = good.clone();
                bad[at] ^= flip;
                if let Ok(json) = decode(&bad, &dicts) {
                    assert_eq!(json.len(), issue(2).len(), "byte {at} ^ {flip:#x}");
                }
            }
        }
    }

    #[test]
    fn damaged_bodies_are_errors_not_garbage() {
        let none = Dicts::new();
        let json = "x".repeat(1000);
        let good = encode(&json, None).expect("compressed");
        assert!(matches!(
            decode(&good[..3], &none),
            Err(BodyError::Truncated(3))
        ));
        let mut foreign = good.clone();
        foreign[0] = 9;
        assert!(matches!(
            decode(&foreign, &none),
            Err(BodyError::UnknownCodec(9))
        ));
        let mut huge = good.clone();
        huge[1..5].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(
            decode(&huge, &none),
            Err(BodyError::BadLength { .. })
        ));
        let mut short = good.clone();
        short[1..5].copy_from_slice(&999u32.to_le_bytes());
        assert!(matches!(decode(&short, &none), Err(BodyError::Lz4(_))));
        let cut = &good[..good.len() - 2];
        assert!(decode(cut, &none).is_err());
    }
}
