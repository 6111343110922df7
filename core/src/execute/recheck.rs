//! The re-check before writing: for each batch, execution reads the rows' users, groups and
//! content again and compares every row it is about to write with what the plan saw. A row
//! that no longer holds is not written at all.

use super::Executor;
use crate::execute::results::ResultError;
use crate::host::store::{ContentRef, ExistingUser, HostError, UserId};
use crate::issue::IssueCode;
use crate::parse::email::{email_hash, emails_equal};
use crate::plan::DEFAULT_LOOKUP_BATCH;
use crate::plan::{Action, Operation, PlanRow};

/// Whether a row may be written.
pub(crate) enum Verdict {
    /// Write it. For a create that the journal shows begun, `recovered` is the user the
    /// interrupted run created (found again by its email); for an update, `current` is the
    /// user as the store has it now (what the results record as "before"): its place in
    /// the [`Current`] that gave the verdict ([`Current::lend`]), not a copy.
    Write {
        recovered: Option<UserId>,
        current: Option<usize>,
    },
    /// Do not write it, for this reason.
    Refuse(ResultError),
}

/// What the store says now about the rows of one batch.
#[derive(Default)]
pub(crate) struct Current {
    /// The users found.
    users: Vec<ExistingUser>,
    /// For each user, how many rows it is lent to (at most 255 counted).
    lent: Vec<u8>,
    /// `(email_hash, index in users)`, sorted: a row's user is found by binary search on
    /// the hash, then its address compared (no allocation for ASCII addresses; a crafted
    /// hash collision costs comparisons within one lookup of at most
    /// [`DEFAULT_LOOKUP_BATCH`] users, never a wrong match).
    index: Vec<(u64, usize)>,
    /// `(name, id)` of the groups found among those the rows use, sorted.
    groups: Vec<(String, String)>,
    /// The content items found among those the rows use, sorted.
    content: Vec<ContentRef>,
}

impl Executor<'_, '_, '_> {
    /// Reads what the store says now about `rows` (at most [`DEFAULT_LOOKUP_BATCH`] rows of
    /// a batch about to be written): one `find_users` call, and `find_groups` /
    /// `find_content` calls of at most [`DEFAULT_LOOKUP_BATCH`] names or items when the rows
    /// change groups or enrol (one each, in practice). Transient failures are retried like
    /// any store call.
    pub(super) fn read_current(&mut self, rows: &[&PlanRow]) -> Result<Current, HostError> {
        let mut emails: Vec<&str> = super::recycled(std::mem::take(&mut self.scratch.emails));
        emails.extend(rows.iter().map(|r| r.email.as_str()));
        let found = self.retry(|s| s.store.find_users(&emails));
        self.scratch.emails = super::recycled(emails);
        let users = found?;
        let mut current = self.scratch.spare.pop().unwrap_or_default();
        current.index.extend(
            users
                .iter()
                .enumerate()
                .map(|(i, u)| (email_hash(&u.email), i)),
        );
        current.index.sort_unstable();
        current.users = users;
        let mut names: Vec<&str> = super::recycled(std::mem::take(&mut self.scratch.names));
        let mut content: Vec<&ContentRef> =
            super::recycled(std::mem::take(&mut self.scratch.content));
        // A name or item the row before named too (every row of an upload names the
        // settings' groups and content) is not pushed again: a shorter list to sort, the
        // same list once sorted and deduplicated.
        for op in rows.iter().flat_map(|r| &r.operations) {
            match op {
                Operation::AddToGroup { group } | Operation::RemoveFromGroup { group }
                    if names.last() != Some(&group.name.as_str()) =>
                {
                    names.push(group.name.as_str());
                }
                Operation::Enrol { content: item } if content.last() != Some(&item) => {
                    content.push(item);
                }
                _ => {}
            }
        }
        names.sort_unstable();
        names.dedup();
        content.sort_unstable();
        content.dedup();
        let read = self.read_groups_and_content(&names, &content, &mut current);
        self.scratch.names = super::recycled(names);
        self.scratch.content = super::recycled(content);
        read?;
        Ok(current)
    }

    /// The groups and content items of [`read_current`](Self::read_current): `names` and
    /// `content` sorted, each once.
    fn read_groups_and_content(
        &mut self,
        names: &[&str],
        content: &[&ContentRef],
        current: &mut Current,
    ) -> Result<(), HostError> {
        // Only what was asked counts: a store that answers more is not believed.
        for chunk in names.chunks(DEFAULT_LOOKUP_BATCH) {
            let groups = self.retry(|s| s.store.find_groups(chunk))?;
            current.groups.extend(
                groups
                    .into_iter()
                    .filter(|g| names.binary_search(&g.name.as_str()).is_ok())
                    .map(|g| (g.name, g.id)),
            );
        }
        current.groups.sort_unstable();
        let asked: Vec<ContentRef> = content.iter().map(|c| (*c).clone()).collect();
        for chunk in asked.chunks(DEFAULT_LOOKUP_BATCH) {
            let found = self.retry(|s| s.store.find_content(chunk))?;
            current.content.extend(
                found
                    .into_iter()
                    .filter(|c| content.binary_search(&c).is_ok()),
            );
        }
        current.content.sort_unstable();
        Ok(())
    }
}

fn refuse(code: IssueCode, message: String) -> Verdict {
    Verdict::Refuse(ResultError::new(code, message))
}

impl Current {
    /// This `Current` with its users (and everything read) dropped, its vectors kept for
    /// the next batch.
    pub(crate) fn emptied(mut self) -> Current {
        self.users = Vec::new();
        self.lent.clear();
        self.index.clear();
        self.groups.clear();
        self.content.clear();
        self
    }

    /// Whether the group exists now with the id the plan saw.
    fn has_group(&self, name: &str, id: &str) -> bool {
        self.groups
            .binary_search_by(|(n, _)| n.as_str().cmp(name))
            .is_ok_and(|i| self.groups[i].1 == id)
    }

    /// The user found with this address (same [`email_key`](crate::email_key)), if any,
    /// and its place.
    fn user(&self, email: &str) -> Option<(usize, &ExistingUser)> {
        let hash = email_hash(email);
        let start = self.index.partition_point(|(h, _)| *h < hash);
        self.index[start..]
            .iter()
            .take_while(|(h, _)| *h == hash)
            .map(|&(_, i)| (i, &self.users[i]))
            .find(|(_, u)| emails_equal(&u.email, email))
    }

    /// Notes that the user at `place` is lent to a row (its verdict names it).
    pub(crate) fn lent_to_a_row(&mut self, place: usize) {
        if self.lent.len() < self.users.len() {
            self.lent.resize(self.users.len(), 0);
        }
        self.lent[place] = self.lent[place].saturating_add(1);
    }

    /// The user at a place [`Verdict::Write`] names, and whether it is lent to that row
    /// alone: the row may then take its strings instead of copying them (the batch drops
    /// its users after its rows anyway).
    pub(crate) fn lend(&mut self, place: usize) -> (&mut ExistingUser, bool) {
        let once = self.lent.get(place) == Some(&1);
        (&mut self.users[place], once)
    }

    /// Whether `row` (a create or an update) still holds. `begun`: the journal shows that an
    /// interrupted run began it (`Some`), and the id of the user it created, if it recorded
    /// one (`Some(Some(id))`).
    pub(crate) fn verdict(&self, row: &PlanRow, begun: Option<Option<&UserId>>) -> Verdict {
        let created = begun.flatten();
        let begun_at_all = begun.is_some();
        let email = &row.email;
        let found = self.user(email);
        let now = found.map(|(_, user)| user);
        let mut recovered = None;
        let mut current = None;
        match (row.action, now) {
            (Action::Update, now) => {
                let Some(planned) = &row.user_id else {
                    return refuse(
                        IssueCode::StalePlan,
                        format!("the plan updates {email} but names no user id"),
                    );
                };
                match now {
                    None => {
                        return refuse(
                            IssueCode::StalePlan,
                            format!("{email} no longer exists (deleted, or its email changed since planning)"),
                        )
                    }
                    Some(user) if user.id != *planned => {
                        return refuse(
                            IssueCode::StalePlan,
                            format!(
                                "{email} is now the user {} instead of {planned}: someone else since planning",
                                user.id
                            ),
                        )
                    }
                    Some(user) if user.protected => {
                        return refuse(
                            IssueCode::UserNowProtected,
                            format!("{email} became a protected user after planning and is left untouched"),
                        )
                    }
                    Some(user) => {
                        if let Some(why) = stale_expectation(row, user) {
                            return refuse(IssueCode::UndoConflict, why);
                        }
                        // What was there before; unknown once an interrupted run began the
                        // row (it may have written some of it already).
                        current = found.filter(|_| !begun_at_all).map(|(place, _)| place);
                    }
                }
            }
            (_, None) => {}
            (_, Some(user)) if created.is_some_and(|id| *id == user.id) && user.protected => {
                return refuse(
                    IssueCode::UserNowProtected,
                    format!("{email} became a protected user after the interrupted run created it"),
                )
            }
            // Created by the interrupted run (the journal recorded this id when the store
            // created it): found again, never created twice.
            (_, Some(user)) if created.is_some_and(|id| *id == user.id) => {
                recovered = Some(user.id.clone())
            }
            (_, Some(_)) => {
                return refuse(
                    IssueCode::UserExistsNow,
                    format!("{email} exists now; it did not when the plan was made, and the journal does not record this run creating it"),
                )
            }
        }
        for op in &row.operations {
            match op {
                Operation::AddToGroup { group } | Operation::RemoveFromGroup { group }
                    if !self.has_group(&group.name, &group.id) =>
                {
                    return refuse(
                        IssueCode::GroupGone,
                        format!(
                            "the group '{}' no longer exists (deleted, or recreated with another id)",
                            group.name
                        ),
                    );
                }
                Operation::Enrol { content } if self.content.binary_search(content).is_err() => {
                    return refuse(
                        IssueCode::ContentGone,
                        format!("the {content} no longer exists"),
                    );
                }
                _ => {}
            }
        }
        Verdict::Write { recovered, current }
    }
}

/// Why an undo row no longer holds, if it does not: a value it replaces (a profile field, the
/// login method) is not the one the undo was planned against. The whole row is then left
/// unwritten: the undo must be planned again.
fn stale_expectation(row: &PlanRow, user: &ExistingUser) -> Option<String> {
    for op in &row.operations {
        match op {
            Operation::UpdateProfile {
                expect: Some(expect),
                ..
            } => {
                let now = user.profile.fields();
                for (i, (name, expected)) in expect.fields().into_iter().enumerate() {
                    let Some(expected) = expected else { continue };
                    let holds = now[i].1.unwrap_or_default();
                    if holds != expected {
                        return Some(format!(
                            "{} {name} was changed after the undo was planned (to {holds:?}): nothing of the row is written; plan the undo again",
                            row.email
                        ));
                    }
                }
                for (name, expected) in &expect.custom {
                    let holds = user.profile.custom.get(name).map_or("", String::as_str);
                    if holds != expected {
                        return Some(format!(
                            "{} {name} was changed after the undo was planned (to {holds:?}): nothing of the row is written; plan the undo again",
                            row.email
                        ));
                    }
                }
            }
            Operation::SetLoginMethod {
                expect: Some(expected),
                ..
            } => {
                let holds = user
                    .login_method
                    .as_deref()
                    .unwrap_or(crate::host::store::PASSWORD_LOGIN);
                if holds != expected {
                    return Some(format!(
                        "{} login method was changed after the undo was planned (to {holds}): nothing of the row is written; plan the undo again",
                        row.email
                    ));
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use crate::parse::email::{email_hash, email_key, emails_equal};
    use crate::{
        parse, plan, ContentKind, ContentRef, ExecuteOptions, ExistingUser, MemoryStore, Profile,
        RecordingMailer, Settings, UserId,
    };

    /// The result rows of `once` (a plan of one row) executed into a copy of `store`, and of
    /// the same plan with its row twice (each row then gets copies of the user's strings).
    fn once_and_twice(
        once: &crate::Plan,
        store: &MemoryStore,
    ) -> (Vec<crate::ResultRow>, Vec<crate::ResultRow>) {
        let mut twice = once.clone();
        let mut rows = twice.rows.to_vec();
        rows.push(rows[0].clone());
        twice.rows = crate::plan::PlanRows::from_vec(rows);
        let run = |planned: &crate::Plan| {
            planned
                .execute(
                    &mut store.clone(),
                    &mut RecordingMailer::new(),
                    ExecuteOptions::default(),
                )
                .expect("execute")
                .rows
        };
        (run(once), run(&twice))
    }

    /// A user lent to one row gives the row its strings; lent to two (a plan read back
    /// could name it twice), each row gets copies: the results are the same either way.
    #[test]
    fn a_user_lent_to_one_row_or_to_two_gives_the_same_results() {
        let upload = parse(
            b"firstname,lastname,email,organisation,addgroup\nAna,Lopez,ana@x.com,New Org,Sales\n",
            &Default::default(),
        )
        .expect("parses");
        // planned before the user joined Sales, executed after: the result says "already"
        let user = |groups: Vec<String>| ExistingUser {
            id: UserId("e1".into()),
            email: "ana@x.com".into(),
            profile: Profile {
                first_name: Some("Ana".into()),
                last_name: Some("Lopez".into()),
                organisation: Some("Old Org".into()),
                ..Profile::default()
            },
            groups,
            enrolments: Vec::new(),
            protected: false,
            suspended: false,
            suspended_by_upload: false,
            login_method: None,
        };
        let mut planning = MemoryStore::new();
        planning.add_group("g1", "Sales");
        planning.add_user(user(Vec::new()));
        let mut store = MemoryStore::new();
        store.add_group("g1", "Sales");
        store.add_user(user(vec!["Sales".into()]));
        let settings = Settings::builder()
            .update_existing_profiles(true)
            .build()
            .expect("settings");
        let once = plan(&upload, &settings, &mut planning).expect("plan");
        let (one, two) = once_and_twice(&once, &store);
        assert_eq!(one.len(), 1);
        let text = serde_json::to_string(&one[0]).expect("json");
        assert!(
            text.contains("Old Org") && text.contains("\"already\":true") && text.contains("e1"),
            "{text}"
        );
        assert_eq!(two, [one[0].clone(), one[0].clone()]);
    }

    /// A row lent its user alone writes the values it records (the changes, a group it
    /// joins, a course) into the user's strings it leaves alone, where they are long enough:
    /// the results are those of a row given copies.
    #[test]
    fn results_written_into_a_lent_users_strings_are_those_of_copies() {
        let upload = parse(
            b"firstname,lastname,email,organisation,addgroup\nAl,Lopez-Garcia,al@x.com,A much longer organisation,Support\n",
            &Default::default(),
        )
        .expect("parses");
        let mut store = MemoryStore::new();
        store.add_group("g1", "Sales");
        store.add_group("g2", "Support");
        store.add_content(ContentRef::new(
            ContentKind::Course,
            "course-with-a-long-id",
        ));
        store.add_user(ExistingUser {
            id: UserId("e1".into()),
            email: "al@x.com".into(),
            profile: Profile {
                first_name: Some("Al".into()),
                last_name: Some("Lopez".into()),
                phone_number: Some("+44 20 7946 0000".into()),
                organisation: Some("Old".into()),
                ..Profile::default()
            },
            groups: vec!["Sales".into()],
            enrolments: Vec::new(),
            protected: false,
            suspended: false,
            suspended_by_upload: false,
            login_method: None,
        });
        let settings = Settings::builder()
            .update_existing_profiles(true)
            .enrol_existing_users(true)
            .enrol(ContentRef::new(
                ContentKind::Course,
                "course-with-a-long-id",
            ))
            .group("Sales")
            .build()
            .expect("settings");
        let once = plan(&upload, &settings, &mut store.clone()).expect("plan");
        let (one, two) = once_and_twice(&once, &store);
        let text = serde_json::to_string(&one[0]).expect("json");
        assert!(
            text.contains("A much longer organisation")
                && text.contains("Lopez-Garcia")
                && text.contains("course-with-a-long-id")
                && text.contains("Support"),
            "{text}"
        );
        assert_eq!(two, [one[0].clone(), one[0].clone()]);
        assert_eq!(
            serde_json::to_string(&two[0]).expect("json"),
            serde_json::to_string(&two[1]).expect("json")
        );
    }

    #[test]
    fn emails_equal_is_email_key_equality_and_agrees_with_the_hash() {
        let emails = [
            "ana@x.com",
            "ANA@X.COM",
            "ana@\u{212A}elvin.com",
            "ana@kelvin.com",
            "Ana@Kelvin.com",
            "bo@x.com",
            "b\u{f6}@x.com",
            "B\u{d6}@X.com",
            "a@x.co",
            "",
        ];
        for a in emails {
            for b in emails {
                let same = emails_equal(a, b);
                assert_eq!(same, email_key(a) == email_key(b), "{a} {b}");
                if same {
                    assert_eq!(email_hash(a), email_hash(b), "{a} {b}");
                }
            }
        }
    }
}
