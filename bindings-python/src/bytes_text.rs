//! A Python `bytes` object's UTF-8 text, shared with the upload read from it
//! (`lms_bulk_upload::parse_shared`): read in place, with no copy.

use pyo3::prelude::*;
use pyo3::types::PyBytes;

/// The text of a `bytes` object that holds UTF-8, and the object itself, held so that its
/// buffer lives as long as this does.
pub(crate) struct BytesText {
    text: &'static str,
    _bytes: Py<PyBytes>,
}

impl BytesText {
    /// The object's text, or `None` when its bytes are not UTF-8 (a file in another
    /// encoding, or a spreadsheet). The check (`simdutf8`'s, the same answer as
    /// `std::str::from_utf8` in less time) runs with the GIL released.
    #[allow(unsafe_code)]
    pub(crate) fn of(py: Python<'_>, bytes: &Bound<'_, PyBytes>) -> Option<BytesText> {
        let buffer = bytes.as_bytes();
        let text = py.detach(|| simdutf8::basic::from_utf8(buffer).ok())?;
        // SAFETY: the buffer of a `bytes` object never changes and lives as long as the
        // object; `_bytes` holds a strong reference to it for as long as this value lives,
        // and `text` is only ever lent out for a borrow of this value (`as_ref`), so no
        // reference to the buffer outlives the object. (Dropped without the GIL, as an
        // upload may be, the reference is released when the GIL is next taken: pyo3's
        // reference pool.)
        let text: &'static str = unsafe { std::mem::transmute::<&str, &'static str>(text) };
        Some(BytesText {
            text,
            _bytes: bytes.clone().unbind(),
        })
    }
}

impl AsRef<str> for BytesText {
    fn as_ref(&self) -> &str {
        self.text
    }
}
