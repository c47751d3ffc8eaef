//! A tiny streaming JSON writer.
//!
//! Generating 100k issues through `serde_json::Value` trees costs hundreds of allocations per
//! item; writing the text straight into one buffer (and splicing pre-rendered fragments such as
//! user objects in with a memcpy) is an order of magnitude faster. Keys are trusted literals;
//! every string *value* is escaped.

use std::io::Write as _;

/// Appends `s` as a quoted, escaped JSON string.
pub(crate) fn write_str(buf: &mut Vec<u8>, s: &str) {
    let clean = s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\');
    if clean {
        buf.reserve(s.len() + 2);
        buf.push(b'"');
        buf.extend_from_slice(s.as_bytes());
        buf.push(b'"');
    } else {
        // Writing into a Vec cannot fail and a &str always serializes.
        serde_json::to_writer(&mut *buf, s).expect("serializing a str into a Vec");
    }
}

/// Writes a JSON object member by member. Create with [`Obj::new`], finish with [`Obj::end`].
pub(crate) struct Obj<'a> {
    buf: &'a mut Vec<u8>,
    first: bool,
}

impl<'a> Obj<'a> {
    pub(crate) fn new(buf: &'a mut Vec<u8>) -> Self {
        buf.push(b'{');
        Obj { buf, first: true }
    }

    fn key(&mut self, k: &str) {
        if !self.first {
            self.buf.push(b',');
        }
        self.first = false;
        write_str(self.buf, k);
        self.buf.push(b':');
    }

    pub(crate) fn str(&mut self, k: &str, v: &str) -> &mut Self {
        self.key(k);
        write_str(self.buf, v);
        self
    }

    /// A string member formatted in place (no temporary `String`):
    /// `o.fmt("self", format_args!("{base}/issue/{id}"))`.
    pub(crate) fn fmt(&mut self, k: &str, args: std::fmt::Arguments<'_>) -> &mut Self {
        self.key(k);
        let start = self.buf.len();
        self.buf.push(b'"');
        self.buf.write_fmt(args).expect("writing into a Vec");
        let needs_escape = self.buf[start + 1..]
            .iter()
            .any(|&b| b < 0x20 || b == b'"' || b == b'\\');
        if needs_escape {
            let text = self.buf.split_off(start + 1);
            self.buf.truncate(start);
            write_str(self.buf, &String::from_utf8_lossy(&text));
        } else {
            self.buf.push(b'"');
        }
        self
    }

    /// A string member, or `null` when `v` is `None`.
    pub(crate) fn opt_str(&mut self, k: &str, v: Option<&str>) -> &mut Self {
        match v {
            Some(v) => self.str(k, v),
            None => self.null(k),
        }
    }

    pub(crate) fn num(&mut self, k: &str, v: impl std::fmt::Display) -> &mut Self {
        self.key(k);
        write!(self.buf, "{v}").expect("writing into a Vec");
        self
    }

    pub(crate) fn bool(&mut self, k: &str, v: bool) -> &mut Self {
        self.key(k);
        self.buf
            .extend_from_slice(if v { b"true" } else { b"false" });
        self
    }

    pub(crate) fn null(&mut self, k: &str) -> &mut Self {
        self.key(k);
        self.buf.extend_from_slice(b"null");
        self
    }

    /// Splices an already rendered JSON value.
    pub(crate) fn raw(&mut self, k: &str, json: &[u8]) -> &mut Self {
        self.key(k);
        self.buf.extend_from_slice(json);
        self
    }

    pub(crate) fn obj(&mut self, k: &str, f: impl FnOnce(&mut Obj<'_>)) -> &mut Self {
        self.key(k);
        let mut child = Obj::new(self.buf);
        f(&mut child);
        child.end();
        self
    }

    pub(crate) fn arr(&mut self, k: &str, f: impl FnOnce(&mut Arr<'_>)) -> &mut Self {
        self.key(k);
        let mut child = Arr::new(self.buf);
        f(&mut child);
        child.end();
        self
    }

    /// An array of strings.
    pub(crate) fn strs<S: AsRef<str>>(&mut self, k: &str, items: &[S]) -> &mut Self {
        self.arr(k, |a| {
            for s in items {
                a.str(s.as_ref());
            }
        })
    }

    /// An empty array.
    pub(crate) fn empty_arr(&mut self, k: &str) -> &mut Self {
        self.key(k);
        self.buf.extend_from_slice(b"[]");
        self
    }

    /// An empty object.
    pub(crate) fn empty_obj(&mut self, k: &str) -> &mut Self {
        self.key(k);
        self.buf.extend_from_slice(b"{}");
        self
    }

    pub(crate) fn end(self) {
        self.buf.push(b'}');
    }
}

/// Writes a JSON array element by element. Create with [`Arr::new`], finish with [`Arr::end`].
pub(crate) struct Arr<'a> {
    buf: &'a mut Vec<u8>,
    first: bool,
}

impl<'a> Arr<'a> {
    pub(crate) fn new(buf: &'a mut Vec<u8>) -> Self {
        buf.push(b'[');
        Arr { buf, first: true }
    }

    fn sep(&mut self) {
        if !self.first {
            self.buf.push(b',');
        }
        self.first = false;
    }

    pub(crate) fn str(&mut self, v: &str) -> &mut Self {
        self.sep();
        write_str(self.buf, v);
        self
    }

    pub(crate) fn raw(&mut self, json: &[u8]) -> &mut Self {
        self.sep();
        self.buf.extend_from_slice(json);
        self
    }

    pub(crate) fn obj(&mut self, f: impl FnOnce(&mut Obj<'_>)) -> &mut Self {
        self.sep();
        let mut child = Obj::new(self.buf);
        f(&mut child);
        child.end();
        self
    }

    pub(crate) fn end(self) {
        self.buf.push(b']');
    }
}

/// Renders one object into a fresh buffer.
pub(crate) fn object(capacity: usize, f: impl FnOnce(&mut Obj<'_>)) -> Vec<u8> {
    let mut buf = Vec::with_capacity(capacity);
    let mut o = Obj::new(&mut buf);
    f(&mut o);
    o.end();
    buf
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_valid_json_with_escapes() {
        let out = object(64, |o| {
            o.str("a", "plain")
                .str("b", "quote \" and \\ and \n")
                .num("n", 42)
                .bool("t", true)
                .null("z")
                .opt_str("o", None)
                .raw("r", br#"{"x":1}"#)
                .obj("child", |c| {
                    c.str("k", "v");
                })
                .arr("list", |a| {
                    a.str("one").obj(|o| {
                        o.num("two", 2);
                    });
                })
                .strs("s", &["x", "y"])
                .empty_arr("e")
                .empty_obj("eo")
                .fmt("f", format_args!("{}-{}", "a", 1))
                .fmt("g", format_args!("{}", "x\"y"));
        });
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["b"], "quote \" and \\ and \n");
        assert_eq!(v["r"]["x"], 1);
        assert_eq!(v["list"][1]["two"], 2);
        assert_eq!(v["s"][1], "y");
        assert!(v["o"].is_null());
        assert_eq!(v["e"], serde_json::json!([]));
        assert_eq!(v["f"], "a-1");
        assert_eq!(v["g"], "x\"y");
    }
}
