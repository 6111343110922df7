//! The text an upload reads its values from: its own, or its host's, shared.

use std::sync::Arc;

/// A UTF-8 file's text that its host keeps and the upload shares, read in place (see
/// [`parse_shared`](crate::parse_shared)): an immutable buffer of the host's language, such
/// as a Python `bytes` object, given without a copy.
///
/// `as_ref` must give the same text on every call, from the parse on, for as long as the
/// upload lives. A host whose text changes gets a file error or wrong values, never a
/// panic: the text is sliced where the parse read it, and every value is read back,
/// through checked slices.
pub type SharedText = Arc<dyn AsRef<str> + Send + Sync>;

/// An upload's text: decoded into a `String` of its own (or given as one), or shared.
#[derive(Clone)]
pub(crate) enum Text {
    Own(String),
    Shared(SharedText),
}

impl Text {
    pub(crate) fn as_str(&self) -> &str {
        match self {
            Text::Own(text) => text,
            Text::Shared(text) => AsRef::<str>::as_ref(&**text),
        }
    }
}

impl Default for Text {
    fn default() -> Text {
        Text::Own(String::new())
    }
}

impl From<String> for Text {
    fn from(text: String) -> Text {
        Text::Own(text)
    }
}
