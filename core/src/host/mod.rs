//! What the host implements — its user database ([`Store`](crate::Store)) and its email
//! sending ([`Mailer`](crate::Mailer)) — with the in-memory doubles the engine ships.

pub(crate) mod mailer;
pub(crate) mod memory;
pub(crate) mod protocol;
pub(crate) mod store;
pub mod view;

pub use protocol::{message_value, HostJournal, HostMailer, HostObject, HostStore, Naming};
mod options;

pub use options::ExecuteConfig;
