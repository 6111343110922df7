//! The administrator's choices after validation, checked for contradictions.

use crate::error::Error;
use crate::execute::password::PasswordPolicy;
use crate::execute::secret::Password;
use crate::host::store::ContentRef;
use crate::issue::IssueCode;
use crate::parse::email::check_email;
use serde::{Deserialize, Serialize};

/// Validated settings of one upload. Build them with [`Settings::builder`].
///
/// ```
/// use lms_bulk_upload::{ContentKind, ContentRef, Settings};
/// let settings = Settings::builder()
///     .generate_passwords(false)
///     .default_password("Welcome-to-Intuto-2026")
///     .send_notification_email(false)
///     .enrol(ContentRef::new(ContentKind::Course, "c-101"))
///     .group("Sales")
///     .build()
///     .unwrap();
/// assert!(!settings.generate_passwords);
///
/// let err = Settings::builder().generate_passwords(false).build().unwrap_err();
/// assert_eq!(err.code().as_str(), "default_password_required");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Settings {
    /// Existing users in the file are enrolled too.
    pub enrol_existing_users: bool,
    /// Existing users' details are overwritten from non-blank cells; needed for any group
    /// change of an existing user.
    pub update_existing_profiles: bool,
    /// Existing users get a new password.
    pub update_existing_passwords: bool,
    /// Each user whose password is set gets a unique generated password, emailed to them.
    pub generate_passwords: bool,
    /// The one password for every user whose password is set, when not generating.
    pub default_password: Option<Password>,
    /// Instead of a password, each user whose password is set gets a personal, single-use
    /// sign-in link by email, where they choose their own password (the third way beside
    /// `generate_passwords` and `default_password`; with it `generate_passwords` is off).
    pub send_invitations: bool,
    /// The link template of sign-in links, `{token}` standing for the token as one path
    /// segment or one query value (`https://lms.example.com/invitations/{token}`); by
    /// default `<site_url>/invitations/{token}`. Only used with `send_invitations`.
    pub invitation_url: String,
    /// Users whose password is set must choose a new one at next login.
    pub force_password_reset: bool,
    /// Whether users get an email (always true when generating passwords or sending
    /// sign-in links).
    pub send_notification_email: bool,
    /// Content every accepted user is enrolled in.
    pub enrolments: Vec<ContentRef>,
    /// Groups every accepted user is added to.
    pub groups: Vec<String>,
    /// The login link put in emails.
    pub site_url: String,
    /// The results link put in the confirmation email (http(s), or file:// for a host that
    /// writes the results to a shared folder).
    pub results_url: String,
    /// Who receives the confirmation email (none: no confirmation is sent).
    pub uploader_email: Option<String>,
    /// The password policy (`generated_length` from 12 to 128, checked by
    /// [`SettingsBuilder::build`] and again by [`execute`](crate::execute)).
    pub password_policy: PasswordPolicy,
    /// How new users sign in when their row has no `auth` value: `None` for the built-in
    /// password login, or one of the host's login methods (checked when planning).
    pub default_login_method: Option<String>,
    /// The file lists everyone: users within the uploader's reach
    /// ([`Store::scope_users`](crate::Store::scope_users)) who are not in it are suspended
    /// (never protected ones).
    pub suspend_missing_users: bool,
    /// With `suspend_missing_users`: the most users that may be suspended, as a percentage
    /// of those in scope (0 to 100, default 10); a plan that would suspend more is refused
    /// (`missing_users_threshold`).
    pub missing_users_threshold: u32,
    /// Suspended users in the file are reactivated — only those an upload suspended
    /// ([`ExistingUser::suspended_by_upload`](crate::ExistingUser::suspended_by_upload), as
    /// the host says); a user suspended by someone else always stays suspended. Off by
    /// default; `update_existing_profiles` alone never reactivates anyone.
    pub reactivate_suspended_users: bool,
}

/// Default for [`Settings::missing_users_threshold`]: 10 %.
pub const DEFAULT_MISSING_USERS_THRESHOLD: u32 = 10;

impl Settings {
    /// A builder with the documented defaults.
    pub fn builder() -> SettingsBuilder {
        SettingsBuilder::default()
    }
}

/// Unvalidated settings, with the documented names and defaults. It deserialises from JSON
/// (snake_case or camelCase keys), which is how the bindings pass settings in.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[allow(missing_docs)]
pub struct SettingsBuilder {
    #[serde(alias = "enrolExistingUsers")]
    pub enrol_existing_users: bool,
    #[serde(alias = "updateExistingProfiles")]
    pub update_existing_profiles: bool,
    #[serde(alias = "updateExistingPasswords")]
    pub update_existing_passwords: bool,
    #[serde(alias = "generatePasswords")]
    pub generate_passwords: bool,
    #[serde(
        alias = "defaultPassword",
        skip_serializing,
        deserialize_with = "secret::optional_string"
    )]
    pub default_password: Option<String>,
    #[serde(alias = "sendInvitations")]
    pub send_invitations: bool,
    #[serde(alias = "invitationUrl")]
    pub invitation_url: Option<String>,
    #[serde(alias = "forcePasswordReset")]
    pub force_password_reset: bool,
    #[serde(alias = "sendNotificationEmail")]
    pub send_notification_email: bool,
    pub enrolments: Vec<ContentRef>,
    pub groups: Vec<String>,
    #[serde(alias = "siteUrl")]
    pub site_url: String,
    #[serde(alias = "resultsUrl")]
    pub results_url: String,
    #[serde(alias = "uploaderEmail")]
    pub uploader_email: Option<String>,
    #[serde(alias = "passwordPolicy")]
    pub password_policy: PasswordPolicy,
    #[serde(alias = "defaultLoginMethod")]
    pub default_login_method: Option<String>,
    #[serde(alias = "suspendMissingUsers")]
    pub suspend_missing_users: bool,
    #[serde(alias = "missingUsersThreshold")]
    pub missing_users_threshold: u32,
    #[serde(alias = "reactivateSuspendedUsers")]
    pub reactivate_suspended_users: bool,
}

impl std::fmt::Debug for SettingsBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SettingsBuilder")
            .field("generate_passwords", &self.generate_passwords)
            .field("send_invitations", &self.send_invitations)
            .field(
                "default_password",
                &self.default_password.as_ref().map(|_| "[REDACTED]"),
            )
            .finish_non_exhaustive()
    }
}

impl Default for SettingsBuilder {
    fn default() -> Self {
        SettingsBuilder {
            enrol_existing_users: false,
            update_existing_profiles: false,
            update_existing_passwords: false,
            generate_passwords: true,
            default_password: None,
            send_invitations: false,
            invitation_url: None,
            force_password_reset: false,
            send_notification_email: true,
            enrolments: Vec::new(),
            groups: Vec::new(),
            site_url: "https://lms.example.com/".into(),
            results_url: "https://lms.example.com/uploads/results".into(),
            uploader_email: None,
            password_policy: PasswordPolicy::default(),
            default_login_method: None,
            suspend_missing_users: false,
            missing_users_threshold: DEFAULT_MISSING_USERS_THRESHOLD,
            reactivate_suspended_users: false,
        }
    }
}

macro_rules! setters {
    ($( $(#[$doc:meta])* $name:ident: $ty:ty ),* $(,)?) => {
        $( $(#[$doc])* pub fn $name(mut self, value: $ty) -> Self { self.$name = value; self } )*
    };
}

impl SettingsBuilder {
    setters! {
        /// Existing users in the file are enrolled too.
        enrol_existing_users: bool,
        /// Existing users' details (and groups) may change.
        update_existing_profiles: bool,
        /// Existing users get a new password.
        update_existing_passwords: bool,
        /// Generate a unique password per user (the default) instead of a default password.
        generate_passwords: bool,
        /// Send each user whose password is set a personal sign-in link instead of a password.
        send_invitations: bool,
        /// Users whose password is set must choose a new one at next login.
        force_password_reset: bool,
        /// Whether users get an email.
        send_notification_email: bool,
        /// The password policy.
        password_policy: PasswordPolicy,
        /// Suspend the users in scope who are not in the file.
        suspend_missing_users: bool,
        /// The most users `suspend_missing_users` may suspend, in percent of the scope.
        missing_users_threshold: u32,
        /// Reactivate the suspended users in the file that an upload suspended.
        reactivate_suspended_users: bool,
    }

    /// How new users sign in when their row has no `auth` value (`password`, or one of the
    /// host's login methods).
    pub fn default_login_method(mut self, method: impl Into<String>) -> Self {
        self.default_login_method = Some(method.into());
        self
    }

    /// The link template of sign-in links (`{token}` as one path segment or query value).
    pub fn invitation_url(mut self, template: impl Into<String>) -> Self {
        self.invitation_url = Some(template.into());
        self
    }

    /// The one password for every user whose password is set (with `generate_passwords` off).
    pub fn default_password(mut self, password: impl Into<String>) -> Self {
        self.default_password = Some(password.into());
        self
    }
    /// Adds a content item to enrol every accepted user in.
    pub fn enrol(mut self, content: ContentRef) -> Self {
        self.enrolments.push(content);
        self
    }
    /// Adds a group every accepted user joins.
    pub fn group(mut self, name: impl Into<String>) -> Self {
        self.groups.push(name.into());
        self
    }
    /// The login link in emails.
    pub fn site_url(mut self, url: impl Into<String>) -> Self {
        self.site_url = url.into();
        self
    }
    /// The results link in the confirmation email.
    pub fn results_url(mut self, url: impl Into<String>) -> Self {
        self.results_url = url.into();
        self
    }
    /// Who receives the confirmation email.
    pub fn uploader_email(mut self, email: impl Into<String>) -> Self {
        self.uploader_email = Some(email.into());
        self
    }

    /// Parses JSON settings (snake_case or camelCase keys); unknown keys are refused.
    pub fn from_json(json: &str) -> Result<SettingsBuilder, Error> {
        serde_json::from_str(json)
            .map_err(|e| Error::settings(IssueCode::InvalidSetting, format!("settings: {e}")))
    }

    /// Checks the combination and returns the settings, or the first contradiction.
    pub fn build(self) -> Result<Settings, Error> {
        let default_password = self
            .default_password
            .filter(|p| !p.is_empty())
            .map(Password::new);
        if self.send_invitations {
            // The third way: no password at all, so generate_passwords does not apply.
            if default_password.is_some() {
                return Err(Error::settings(
                    IssueCode::DefaultPasswordWithInvitations,
                    "a default_password was given but send_invitations is on: users choose their own password through their sign-in link",
                ));
            }
            if !self.send_notification_email {
                return Err(Error::settings(
                    IssueCode::NotificationRequiredForInvitations,
                    "send_notification_email cannot be off with send_invitations: the sign-in link reaches its user by email",
                ));
            }
        } else {
            match (&default_password, self.generate_passwords) {
                (None, false) => {
                    return Err(Error::settings(
                        IssueCode::DefaultPasswordRequired,
                        "generate_passwords is off: give a default_password for the users whose password is set",
                    ))
                }
                (Some(_), true) => {
                    return Err(Error::settings(
                        IssueCode::DefaultPasswordWithGenerated,
                        "a default_password was given but generate_passwords is on; turn one of them off",
                    ))
                }
                (Some(p), false) => self.password_policy.check_with(
                    p,
                    &password_context(&self.site_url, self.uploader_email.as_deref()),
                )?,
                (None, true) => {}
            }
        }
        // Checked whatever the password source: the plan carries the length either way.
        self.password_policy.validate()?;
        if self.generate_passwords && !self.send_invitations && !self.send_notification_email {
            return Err(Error::settings(
                IssueCode::NotificationRequiredForGeneratedPasswords,
                "send_notification_email can only be off when generate_passwords is off: a generated password must reach its user",
            ));
        }
        check_url("site_url", &self.site_url)?;
        check_url("results_url", &self.results_url)?;
        let invitation_url = match self.invitation_url.filter(|u| !u.is_empty()) {
            Some(template) => template,
            None => format!(
                "{}/invitations/{{token}}",
                self.site_url.trim_end_matches('/')
            ),
        };
        if self.send_invitations {
            crate::execute::invitation::check_url_template(&invitation_url).map_err(|why| {
                Error::settings(
                    IssueCode::InvalidSetting,
                    format!("invitation_url {invitation_url:?} is not a link template: {why}"),
                )
            })?;
        }
        if self.missing_users_threshold > 100 {
            return Err(Error::settings(
                IssueCode::InvalidSetting,
                format!(
                    "missing_users_threshold is a percentage from 0 to 100, not {}",
                    self.missing_users_threshold
                ),
            ));
        }
        check_uploader_email(self.uploader_email.as_deref())?;
        let mut groups: Vec<String> = Vec::new();
        for group in self.groups.iter().map(|g| g.trim()) {
            if group.is_empty() || group.chars().any(char::is_control) {
                return Err(Error::settings(
                    IssueCode::InvalidSetting,
                    format!("the group name {group:?} is not valid"),
                ));
            }
            if !groups.iter().any(|g| g == group) {
                groups.push(group.to_owned());
            }
        }
        let mut enrolments: Vec<ContentRef> = Vec::new();
        for content in self.enrolments {
            if !enrolments.contains(&content) {
                enrolments.push(content);
            }
        }
        Ok(Settings {
            enrol_existing_users: self.enrol_existing_users,
            update_existing_profiles: self.update_existing_profiles,
            update_existing_passwords: self.update_existing_passwords,
            generate_passwords: self.generate_passwords && !self.send_invitations,
            default_password,
            send_invitations: self.send_invitations,
            invitation_url,
            force_password_reset: self.force_password_reset,
            send_notification_email: self.send_notification_email
                || self.generate_passwords
                || self.send_invitations,
            enrolments,
            groups,
            site_url: self.site_url,
            results_url: self.results_url,
            uploader_email: self.uploader_email,
            password_policy: self.password_policy,
            default_login_method: self
                .default_login_method
                .filter(|m| m != crate::host::store::PASSWORD_LOGIN),
            suspend_missing_users: self.suspend_missing_users,
            missing_users_threshold: self.missing_users_threshold,
            reactivate_suspended_users: self.reactivate_suspended_users,
        })
    }
}

/// Reading a secret setting: a value of the wrong type is refused without quoting it
/// (serde's own message would: "invalid type: integer `12345678`").
mod secret {
    use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
    use std::fmt;

    pub(super) fn optional_string<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<String>, D::Error> {
        deserializer.deserialize_option(Secret)
    }

    struct Secret;

    fn refused<E: de::Error>(shape: &str) -> E {
        E::custom(format!(
            "default_password must be a string, not {shape} (its value is not shown)"
        ))
    }

    impl<'de> Visitor<'de> for Secret {
        type Value = Option<String>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string")
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(Secret)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Some(v.to_owned()))
        }
        fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Err(refused("a boolean"))
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Err(refused("a number"))
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Err(refused("a number"))
        }
        fn visit_i128<E: de::Error>(self, _: i128) -> Result<Self::Value, E> {
            Err(refused("a number"))
        }
        fn visit_u128<E: de::Error>(self, _: u128) -> Result<Self::Value, E> {
            Err(refused("a number"))
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Err(refused("a number"))
        }
        fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<Self::Value, E> {
            Err(refused("bytes"))
        }
        fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
            Err(refused("a list"))
        }
        fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
            Err(refused("an object"))
        }
    }
}

/// The words of the site and the uploader an attacker would try first in a shared password:
/// the site's host name and its labels, the uploader's address and its parts.
fn password_context<'a>(site_url: &'a str, uploader_email: Option<&'a str>) -> Vec<&'a str> {
    let host = site_url
        .split_once("://")
        .map_or(site_url, |(_, rest)| rest)
        .split(['/', ':', '?', '#'])
        .next()
        .unwrap_or("");
    let mut words = vec![host];
    words.extend(host.split('.').filter(|l| l.len() > 2 && *l != "www"));
    if let Some(email) = uploader_email {
        words.push(email);
        words.extend(email.split(['@', '.']).filter(|l| l.len() > 2));
    }
    words
}

/// An http(s) URL without control characters; `results_url` may also be `file://` (a host
/// that writes the results to a shared folder links to them that way).
pub(crate) fn check_url(name: &str, url: &str) -> Result<(), Error> {
    let file_ok = name == "results_url" && url.starts_with("file://");
    if !(url.starts_with("https://") || url.starts_with("http://") || file_ok)
        || url.chars().any(char::is_control)
    {
        return Err(Error::settings(
            IssueCode::InvalidSetting,
            format!("{name} must be an http(s) URL, not {url:?}"),
        ));
    }
    Ok(())
}

/// The uploader's address, when given, is a valid email address.
pub(crate) fn check_uploader_email(email: Option<&str>) -> Result<(), Error> {
    let Some(email) = email else { return Ok(()) };
    check_email(email).map_err(|why| {
        Error::settings(
            IssueCode::InvalidSetting,
            format!("uploader_email {email:?} {why}"),
        )
    })
}
