//! The screens' built assets (`web/ui/dist`, committed by the front end's build).

/// The app's page, answered for every screen's path.
pub(crate) const INDEX_HTML: &[u8] = include_bytes!("../ui/dist/index.html");
/// The app.
pub(crate) const APP_JS: &[u8] = include_bytes!("../ui/dist/app.js");
/// Its styles.
pub(crate) const APP_CSS: &[u8] = include_bytes!("../ui/dist/app.css");
/// The page a sign-in link opens.
pub(crate) const INVITATION_HTML: &[u8] = include_bytes!("../ui/dist/invitation.html");
/// Its script.
pub(crate) const INVITATION_JS: &[u8] = include_bytes!("../ui/dist/invitation.js");
