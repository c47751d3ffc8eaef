//! LZ4 blocks through the reference C library, with a kind's dictionary prepared once.
//!
//! A store compresses every body against its kind's dictionary. The pure-Rust `lz4_flex`
//! hashes the whole dictionary again for every block; the C library loads it into a stream
//! once and attaches that stream to each block without a copy (`LZ4_attach_dictionary`),
//! and its match finder is faster besides: standalone on 20k simulator issues, 0.96–1.01
//! GB/s and a ratio of 0.200 with `lz4_flex`, 1.16–1.18 GB/s and 0.184 here.
//!
//! `lz4-sys` builds the library (1.10) and binds its basic API; the stable functions it
//! leaves out are declared below from `lz4.h`. This module is the store's only unsafe code:
//! every call passes lengths that fit a C `int` and buffers that outlive it.

use std::alloc::{Layout, handle_alloc_error};
use std::os::raw::{c_char, c_int};
use std::ptr::NonNull;
use std::sync::Arc;

use lz4_sys::LZ4StreamEncode;

use super::Dict;

unsafe extern "C" {
    fn LZ4_loadDictSlow(stream: *mut LZ4StreamEncode, dict: *const c_char, size: c_int) -> c_int;
    fn LZ4_resetStream_fast(stream: *mut LZ4StreamEncode);
    fn LZ4_attach_dictionary(working: *mut LZ4StreamEncode, dict: *const LZ4StreamEncode);
    fn LZ4_compress_fast_continue(
        stream: *mut LZ4StreamEncode,
        src: *const c_char,
        dst: *mut c_char,
        src_size: c_int,
        dst_capacity: c_int,
        acceleration: c_int,
    ) -> c_int;
    fn LZ4_decompress_safe_usingDict(
        src: *const c_char,
        dst: *mut c_char,
        src_size: c_int,
        dst_capacity: c_int,
        dict: *const c_char,
        dict_size: c_int,
    ) -> c_int;
}

/// The most a block of `len` bytes can compress to; `None` past what LZ4 accepts (~2 GB).
pub(super) fn bound(len: usize) -> Option<usize> {
    let len = c_int::try_from(len).ok()?;
    // SAFETY: a pure function of its argument.
    let bound = unsafe { lz4_sys::LZ4_compressBound(len) };
    usize::try_from(bound).ok().filter(|&b| b > 0)
}

/// `src` compressed alone into `dst`: its length, or `None` if it does not fit.
pub(super) fn compress(src: &[u8], dst: &mut [u8]) -> Option<usize> {
    let (src_size, dst_capacity) = (c_len(src)?, c_len(dst)?);
    // SAFETY: both buffers are valid for the lengths given; LZ4 writes within `dst`.
    let n = unsafe {
        lz4_sys::LZ4_compress_default(
            src.as_ptr().cast(),
            dst.as_mut_ptr().cast(),
            src_size,
            dst_capacity,
        )
    };
    written(n)
}

/// The decompressed length of `block` into `dst`, against `dict` if the block was
/// compressed with one; `None` if the block is damaged or does not fit. The C decoder
/// never reads or writes outside the buffers, whatever the block holds.
pub(super) fn decompress(block: &[u8], dst: &mut [u8], dict: Option<&[u8]>) -> Option<usize> {
    let dict = dict.unwrap_or_default();
    let (src_size, dst_capacity, dict_size) = (c_len(block)?, c_len(dst)?, c_len(dict)?);
    // SAFETY: every buffer is valid for the length given; LZ4 writes within `dst`.
    let n = unsafe {
        LZ4_decompress_safe_usingDict(
            block.as_ptr().cast(),
            dst.as_mut_ptr().cast(),
            src_size,
            dst_capacity,
            dict.as_ptr().cast(),
            dict_size,
        )
    };
    usize::try_from(n).ok()
}

/// A dictionary loaded into the C library, and a working stream each block starts from.
pub(super) struct DictEncoder {
    loaded: Stream,
    working: Stream,
    /// The bytes `loaded` points into: kept alive, and unmoved, as long as it is.
    dict: Arc<Dict>,
}

impl DictEncoder {
    /// `dict` prepared for compressing any number of blocks.
    pub(super) fn new(dict: Arc<Dict>) -> DictEncoder {
        let loaded = Stream::new();
        // A dictionary is at most `DICT_MAX` bytes; a longer one would only be cut to its
        // last 64 KiB by LZ4 itself.
        let size = c_int::try_from(dict.bytes.len()).unwrap_or(c_int::MAX);
        // SAFETY: `loaded` is a live stream; the dictionary's bytes stay where they are
        // while `self` holds the `Arc`, which outlives both streams (fields drop in order).
        unsafe { LZ4_loadDictSlow(loaded.0.as_ptr(), dict.bytes.as_ptr().cast(), size) };
        DictEncoder {
            loaded,
            working: Stream::new(),
            dict,
        }
    }

    /// The dictionary.
    pub(super) fn dict(&self) -> &Dict {
        &self.dict
    }

    /// `src` compressed into `dst` against the dictionary and nothing else (no earlier
    /// block): its length, or `None` if it does not fit.
    pub(super) fn compress(&mut self, src: &[u8], dst: &mut [u8]) -> Option<usize> {
        let (src_size, dst_capacity) = (c_len(src)?, c_len(dst)?);
        let working = self.working.0.as_ptr();
        // SAFETY: both streams are live and the dictionary's bytes are held (see `new`);
        // the reset and the attachment make the dictionary the block's only history.
        let n = unsafe {
            LZ4_resetStream_fast(working);
            LZ4_attach_dictionary(working, self.loaded.0.as_ptr());
            LZ4_compress_fast_continue(
                working,
                src.as_ptr().cast(),
                dst.as_mut_ptr().cast(),
                src_size,
                dst_capacity,
                1,
            )
        };
        written(n)
    }
}

/// A compression stream of the C library, freed on drop.
struct Stream(NonNull<LZ4StreamEncode>);

// SAFETY: a stream is plain memory owned by one `Stream`; it may move between threads.
unsafe impl Send for Stream {}

impl Stream {
    fn new() -> Stream {
        // SAFETY: allocates and initialises a stream, or returns null.
        let stream = unsafe { lz4_sys::LZ4_createStream() };
        // Null only when malloc fails: then do what Rust's own allocations do (the layout
        // is an `LZ4_stream_t`'s).
        Stream(
            NonNull::new(stream)
                .unwrap_or_else(|| handle_alloc_error(Layout::new::<[u64; 2052]>())),
        )
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        // SAFETY: created by `LZ4_createStream` and freed once, here.
        unsafe { lz4_sys::LZ4_freeStream(self.0.as_ptr()) };
    }
}

/// A buffer's length as C's `int`, if it fits.
fn c_len(buf: &[u8]) -> Option<c_int> {
    c_int::try_from(buf.len()).ok()
}

/// A compression's result: LZ4 returns 0 when the output does not fit.
fn written(n: c_int) -> Option<usize> {
    usize::try_from(n).ok().filter(|&n| n > 0)
}
