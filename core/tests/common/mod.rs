//! Test doubles shared by the integration tests: a store and a mailer that call a hook
//! before each operation (to log it, count it, or fail it), then delegate.

#![allow(dead_code)]

use lms_bulk_upload::{
    ContentRef, ExistingUser, Group, HostError, InvitationDigest, Mailer, Message, NewInvitation,
    NewUser, PasswordHash, Profile, Store, StoredInvitation, UserId,
};

/// A `Store` or `Mailer` operation, as seen by a hook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op<'a> {
    FindUsers,
    FindGroups,
    FindContent,
    CreateUser(&'a NewUser),
    UpdateProfile,
    SetPassword,
    AddToGroup,
    RemoveFromGroup,
    Enrol,
    AddInvitation,
    Checkpoint,
    Send(&'a Message),
    Flush,
}

/// Calls `hook` before each operation; an `Err` from the hook is the operation's result.
pub(crate) struct Hooked<T, F> {
    pub(crate) inner: T,
    pub(crate) hook: F,
}

impl<T, F> Hooked<T, F> {
    pub(crate) fn new(inner: T, hook: F) -> Self {
        Hooked { inner, hook }
    }
}

impl<S: Store, F: FnMut(Op<'_>) -> Result<(), HostError>> Store for Hooked<S, F> {
    fn find_users(&mut self, emails: &[&str]) -> Result<Vec<ExistingUser>, HostError> {
        (self.hook)(Op::FindUsers)?;
        self.inner.find_users(emails)
    }
    fn find_groups(&mut self, names: &[&str]) -> Result<Vec<Group>, HostError> {
        (self.hook)(Op::FindGroups)?;
        self.inner.find_groups(names)
    }
    fn find_content(&mut self, refs: &[ContentRef]) -> Result<Vec<ContentRef>, HostError> {
        (self.hook)(Op::FindContent)?;
        self.inner.find_content(refs)
    }
    fn create_user(&mut self, user: &NewUser) -> Result<UserId, HostError> {
        (self.hook)(Op::CreateUser(user))?;
        self.inner.create_user(user)
    }
    fn update_profile(&mut self, user: &UserId, changes: &Profile) -> Result<(), HostError> {
        (self.hook)(Op::UpdateProfile)?;
        self.inner.update_profile(user, changes)
    }
    fn set_password(
        &mut self,
        user: &UserId,
        hash: &PasswordHash,
        force_reset: bool,
    ) -> Result<(), HostError> {
        (self.hook)(Op::SetPassword)?;
        self.inner.set_password(user, hash, force_reset)
    }
    fn add_to_group(&mut self, user: &UserId, group: &Group) -> Result<(), HostError> {
        (self.hook)(Op::AddToGroup)?;
        self.inner.add_to_group(user, group)
    }
    fn remove_from_group(&mut self, user: &UserId, group: &Group) -> Result<(), HostError> {
        (self.hook)(Op::RemoveFromGroup)?;
        self.inner.remove_from_group(user, group)
    }
    fn enrol(&mut self, user: &UserId, content: &ContentRef) -> Result<(), HostError> {
        (self.hook)(Op::Enrol)?;
        self.inner.enrol(user, content)
    }
    fn all_group_names(&mut self) -> Result<Vec<String>, HostError> {
        self.inner.all_group_names()
    }
    fn checkpoint(&mut self) -> Result<(), HostError> {
        (self.hook)(Op::Checkpoint)?;
        self.inner.checkpoint()
    }
    fn add_invitation(&mut self, invitation: &NewInvitation) -> Result<(), HostError> {
        (self.hook)(Op::AddInvitation)?;
        self.inner.add_invitation(invitation)
    }
    fn find_invitation(
        &mut self,
        digest: &InvitationDigest,
    ) -> Result<Option<StoredInvitation>, HostError> {
        self.inner.find_invitation(digest)
    }
    fn redeem_invitation(&mut self, digest: &InvitationDigest) -> Result<bool, HostError> {
        self.inner.redeem_invitation(digest)
    }
}

impl<M: Mailer, F: FnMut(Op<'_>) -> Result<(), HostError>> Mailer for Hooked<M, F> {
    fn send(&mut self, message: &Message) -> Result<(), HostError> {
        (self.hook)(Op::Send(message))?;
        self.inner.send(message)
    }
    fn flush(&mut self) -> Result<(), HostError> {
        (self.hook)(Op::Flush)?;
        self.inner.flush()
    }
}
