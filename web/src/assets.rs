//! The screens' built assets (`web/ui/dist`, committed by the front end's build).

/// The app's page, answered for every screen's path.
pub(crate) const INDEX_HTML: &[u8] = include_bytes!("../ui/dist/index.html");
/// The app.
pub(crate) const APP_JS: &[u8] = include_bytes!("../ui/dist/app.js");
/// Its styles.
pub(crate) const APP_CSS: &[u8] = include_bytes!("../ui/dist/app.css");
