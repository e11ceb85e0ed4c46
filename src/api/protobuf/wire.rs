//! The protobuf wire format, just enough to walk a message and to write one: each field is a key
//! varint (`number << 3 | wire type`) followed by a varint, 8 bytes, 4 bytes or a length-prefixed
//! run. Groups (wire types 3 and 4) are not used by Kubernetes and are rejected.

/// One field's payload, still undecoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Wire<'a> {
    Varint(u64),
    Fixed64(u64),
    Bytes(&'a [u8]),
    Fixed32(u32),
}

impl Wire<'_> {
    /// The name of the wire type, for error messages.
    pub(super) fn kind(&self) -> &'static str {
        match self {
            Wire::Varint(_) => "varint",
            Wire::Fixed64(_) => "64-bit",
            Wire::Bytes(_) => "length-delimited",
            Wire::Fixed32(_) => "32-bit",
        }
    }
}

/// Iterates over the fields of one encoded message.
#[derive(Debug)]
pub(super) struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(super) fn new(buf: &'a [u8]) -> Self {
        Reader { buf }
    }

    /// The next field as `(number, payload)`, `None` at the end of the message.
    pub(super) fn next_field(&mut self) -> Result<Option<(u32, Wire<'a>)>, &'static str> {
        if self.buf.is_empty() {
            return Ok(None);
        }
        let key = self.varint()?;
        let number = key >> 3;
        if number == 0 || number > u64::from(u32::MAX >> 3) {
            return Err("field number out of range");
        }
        let wire = match key & 7 {
            0 => Wire::Varint(self.varint()?),
            1 => Wire::Fixed64(u64::from_le_bytes(self.take_array()?)),
            2 => {
                let len = usize::try_from(self.varint()?).map_err(|_| "length out of range")?;
                Wire::Bytes(self.take(len)?)
            }
            3 | 4 => return Err("groups are not supported"),
            5 => Wire::Fixed32(u32::from_le_bytes(self.take_array()?)),
            _ => return Err("invalid wire type"),
        };
        // `number` fits in u32: checked above.
        Ok(Some((number as u32, wire)))
    }

    /// A base-128 varint of at most 10 bytes; bits past the 64th are dropped, as Go does.
    pub(super) fn varint(&mut self) -> Result<u64, &'static str> {
        let mut value = 0u64;
        for (i, &byte) in self.buf.iter().enumerate().take(10) {
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                self.buf = &self.buf[i + 1..];
                return Ok(value);
            }
        }
        if self.buf.len() < 10 { Err("truncated varint") } else { Err("varint too long") }
    }

    fn take(&mut self, len: usize) -> Result<&'a [u8], &'static str> {
        if len > self.buf.len() {
            return Err("length-delimited field runs past the end of its message");
        }
        let (head, tail) = self.buf.split_at(len);
        self.buf = tail;
        Ok(head)
    }

    fn take_array<const N: usize>(&mut self) -> Result<[u8; N], &'static str> {
        let bytes = self.take(N).map_err(|_| "truncated fixed-width field")?;
        let mut array = [0; N];
        array.copy_from_slice(bytes);
        Ok(array)
    }

    pub(super) fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }
}

/// Appends a base-128 varint.
pub(super) fn put_varint(buf: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        buf.push(value as u8 | 0x80);
        value >>= 7;
    }
    buf.push(value as u8);
}

/// Appends a field's key.
pub(super) fn put_key(buf: &mut Vec<u8>, number: u32, wire_type: u8) {
    put_varint(buf, u64::from(number) << 3 | u64::from(wire_type));
}

/// A varint field (int32, int64, bool, enum). A negative int32 is sign-extended to ten bytes, as
/// Go's `uint64(int32)` does.
pub(super) fn put_varint_field(buf: &mut Vec<u8>, number: u32, value: u64) {
    put_key(buf, number, 0);
    put_varint(buf, value);
}

/// A length-delimited field (string, bytes, an encoded message).
pub(super) fn put_bytes_field(buf: &mut Vec<u8>, number: u32, bytes: &[u8]) {
    put_key(buf, number, 2);
    put_varint(buf, bytes.len() as u64);
    buf.extend_from_slice(bytes);
}

/// Starts a length-delimited field whose length is not known yet: the key and a one-byte length
/// placeholder. [`end`] fills it in.
pub(super) fn begin(buf: &mut Vec<u8>, number: u32) -> usize {
    put_key(buf, number, 2);
    buf.push(0);
    buf.len()
}

/// Ends a field [`begin`] started at `start`: its length goes in the placeholder, which grows
/// (shifting the contents) when the length needs more than one byte.
pub(super) fn end(buf: &mut Vec<u8>, start: usize) {
    let len = buf.len() - start;
    if len < 0x80 {
        buf[start - 1] = len as u8;
        return;
    }
    let mut prefix = Vec::with_capacity(5);
    put_varint(&mut prefix, len as u64);
    buf[start - 1] = prefix[0];
    buf.splice(start..start, prefix[1..].iter().copied());
}

/// The size of a varint.
pub(super) fn varint_len(value: u64) -> usize {
    (64 - (value | 1).leading_zeros() as usize).div_ceil(7)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(buf: &[u8]) -> Result<Vec<(u32, Wire<'_>)>, &'static str> {
        let mut reader = Reader::new(buf);
        let mut out = Vec::new();
        while let Some(field) = reader.next_field()? {
            out.push(field);
        }
        Ok(out)
    }

    #[test]
    fn writes_what_it_reads() {
        let mut buf = Vec::new();
        put_varint_field(&mut buf, 1, 150);
        put_bytes_field(&mut buf, 3, b"hi");
        let start = begin(&mut buf, 4);
        buf.extend([7u8; 300]);
        end(&mut buf, start);
        put_varint_field(&mut buf, 5, -1i64 as u64);
        let got = fields(&buf).unwrap();
        assert_eq!(got[0], (1, Wire::Varint(150)));
        assert_eq!(got[1], (3, Wire::Bytes(b"hi")));
        assert_eq!(got[2], (4, Wire::Bytes(&[7u8; 300][..])));
        assert_eq!(got[3], (5, Wire::Varint(u64::MAX)));
        for value in [0, 1, 127, 128, 16_383, 16_384, u64::MAX] {
            let mut buf = Vec::new();
            put_varint(&mut buf, value);
            assert_eq!(buf.len(), varint_len(value), "{value}");
        }
    }

    #[test]
    fn reads_every_wire_type() {
        let buf = [
            0x08, 0x96, 0x01, // 1: varint 150
            0x11, 1, 0, 0, 0, 0, 0, 0, 0, // 2: fixed64 1
            0x1a, 0x02, b'h', b'i', // 3: bytes "hi"
            0x25, 2, 0, 0, 0, // 4: fixed32 2
        ];
        assert_eq!(
            fields(&buf).unwrap(),
            vec![
                (1, Wire::Varint(150)),
                (2, Wire::Fixed64(1)),
                (3, Wire::Bytes(b"hi")),
                (4, Wire::Fixed32(2))
            ]
        );
    }

    #[test]
    fn negative_int32_is_a_ten_byte_varint() {
        let buf = [0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
        let got = fields(&buf).unwrap();
        assert_eq!(got, vec![(1, Wire::Varint(u64::MAX))]);
        let Wire::Varint(v) = got[0].1 else { unreachable!() };
        assert_eq!(v as i32, -1);
    }

    #[test]
    fn rejects_malformed_input() {
        assert_eq!(fields(&[0x08]), Err("truncated varint"));
        assert_eq!(fields(&[0x08, 0x80]), Err("truncated varint"));
        assert_eq!(
            fields(&[0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01])
                .unwrap_err(),
            "varint too long"
        );
        assert_eq!(
            fields(&[0x0a, 0x05, b'a']).unwrap_err(),
            "length-delimited field runs past the end of its message"
        );
        assert_eq!(fields(&[0x0b]), Err("groups are not supported"));
        assert_eq!(fields(&[0x0e]), Err("invalid wire type"));
        assert_eq!(fields(&[0x00, 0x00]), Err("field number out of range"));
        assert_eq!(fields(&[0x09, 1, 2]), Err("truncated fixed-width field"));
        assert_eq!(
            fields(&[0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])
                .unwrap_err(),
            "length-delimited field runs past the end of its message"
        );
    }
}
