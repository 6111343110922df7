//! The bytes of an uploaded file, lifted from uniffi's buffer without a copy.
//!
//! uniffi lifts a `Vec<u8>` argument one byte at a time (a bounds check and a push per
//! byte: for an 85 MB upload, more time than parsing it). [`FileBytes`] crosses as the
//! same `bytes` type (the same metadata, so the generated Ruby is unchanged and writes the
//! same wire format: a big-endian `i32` length, then the bytes) and keeps uniffi's buffer
//! as it came, its first four bytes being that length.

use uniffi::{check_remaining, Lift, MetadataBuffer, RustBuffer, TypeId};

/// The bytes of a file passed from Ruby (see the module's documentation).
pub struct FileBytes {
    /// uniffi's buffer: the length (4 bytes), then the file.
    buffer: Vec<u8>,
}

impl FileBytes {
    /// The file's bytes.
    pub fn bytes(&self) -> &[u8] {
        self.buffer.get(4..).unwrap_or_default()
    }

    /// The bytes read from `buffer` as uniffi writes them: a length, then that many bytes,
    /// nothing after.
    fn from_buffer(buffer: Vec<u8>) -> uniffi::Result<FileBytes> {
        check_remaining(&buffer, 4)?;
        let len = i32::from_be_bytes([buffer[0], buffer[1], buffer[2], buffer[3]]);
        match usize::try_from(len) {
            Ok(len) if len == buffer.len() - 4 => Ok(FileBytes { buffer }),
            _ => Err(uniffi::deps::anyhow::anyhow!(
                "a bytes argument of {} bytes says it has {len}",
                buffer.len() - 4
            )),
        }
    }
}

// SAFETY: no unsafe code; the trait is `unsafe` because the foreign side must write what
// `try_lift` reads. It does: the metadata is `Vec<u8>`'s, so the generated code writes the
// `bytes` wire format, the one `Vec<u8>` reads.
unsafe impl Lift<crate::UniFfiTag> for FileBytes {
    type FfiType = RustBuffer;

    fn try_lift(buffer: RustBuffer) -> uniffi::Result<FileBytes> {
        FileBytes::from_buffer(buffer.destroy_into_vec())
    }

    /// Inside another value (never, for an argument): copied out of the buffer.
    fn try_read(buf: &mut &[u8]) -> uniffi::Result<FileBytes> {
        check_remaining(buf, 4)?;
        let len = i32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]);
        let end = usize::try_from(len)?.saturating_add(4);
        check_remaining(buf, end)?;
        let (this, rest) = buf.split_at(end);
        *buf = rest;
        FileBytes::from_buffer(this.to_vec())
    }
}

impl TypeId<crate::UniFfiTag> for FileBytes {
    const TYPE_ID_META: MetadataBuffer = <Vec<u8> as TypeId<crate::UniFfiTag>>::TYPE_ID_META;
}

#[cfg(test)]
mod tests {
    use super::FileBytes;
    use uniffi::Lift;

    /// uniffi's `bytes` wire format: a big-endian length, then the bytes.
    fn wire(bytes: &[u8]) -> Vec<u8> {
        let mut buffer = (bytes.len() as i32).to_be_bytes().to_vec();
        buffer.extend_from_slice(bytes);
        buffer
    }

    #[test]
    fn the_bytes_are_read_as_written_and_a_wrong_length_is_refused() {
        let file = b"firstname,lastname,emailaddress\n\xC3\xA9,b,c@d.io\n";
        let read = FileBytes::from_buffer(wire(file)).unwrap();
        assert_eq!(read.bytes(), file);
        assert_eq!(FileBytes::from_buffer(wire(b"")).unwrap().bytes(), b"");
        let mut longer = wire(file);
        longer.push(b'x');
        assert!(FileBytes::from_buffer(longer).is_err());
        assert!(FileBytes::from_buffer(vec![0, 0]).is_err());
        assert!(FileBytes::from_buffer(wire(file)[..10].to_vec()).is_err());
        // inside another value: read off the front of the buffer, the rest left
        let mut two = wire(b"ab");
        two.extend(wire(b"cde"));
        let mut rest = two.as_slice();
        let first = <FileBytes as Lift<crate::UniFfiTag>>::try_read(&mut rest).unwrap();
        assert_eq!((first.bytes(), rest), (&b"ab"[..], &wire(b"cde")[..]));
        let mut short = &wire(b"abc")[..5];
        assert!(<FileBytes as Lift<crate::UniFfiTag>>::try_read(&mut short).is_err());
    }
}
