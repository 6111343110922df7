//! Default email templates and their rendering (`{{name}}` placeholders, HTML-escaped values).

use crate::error::{Error, ErrorKind};
use crate::host::mailer::{Message, MessageFields, MessageKind};
use crate::issue::IssueCode;

/// The placeholders a template may use.
pub const PLACEHOLDERS: &[&str] = &[
    "first_name",
    "last_name",
    "login",
    "site_url",
    "password",
    "invitation_url",
    "results_url",
    "counts",
];

/// One template: subject, text body and HTML body.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Template {
    /// The subject line (newlines are removed after rendering).
    pub subject: String,
    /// The plain-text body.
    pub text: String,
    /// The HTML body; values are HTML-escaped when inserted.
    pub html: String,
}

impl Template {
    /// A template, checked: every `{{placeholder}}` must be one of [`PLACEHOLDERS`].
    pub fn new(subject: &str, text: &str, html: &str) -> Result<Template, Error> {
        for part in [subject, text, html] {
            for name in placeholders(part) {
                if !PLACEHOLDERS.contains(&name) {
                    return Err(Error::new(
                        ErrorKind::Settings,
                        IssueCode::InvalidTemplate,
                        format!(
                            "the template uses {{{{{name}}}}}; known placeholders are {}",
                            PLACEHOLDERS.join(", ")
                        ),
                    ));
                }
            }
        }
        Ok(Template {
            subject: subject.into(),
            text: text.into(),
            html: html.into(),
        })
    }
}

fn placeholders(text: &str) -> impl Iterator<Item = &str> {
    text.split("{{")
        .skip(1)
        .filter_map(|part| part.split_once("}}").map(|(name, _)| name.trim()))
}

/// The templates: welcome with a generated password, welcome without (default password:
/// never tell it), welcome with a sign-in link, welcome for a user on another login method
/// (single sign-on: the link only), password changed (with a generated password, without,
/// with a sign-in link), upload complete, undo complete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Templates {
    /// `welcome` when the password was generated.
    pub welcome_with_password: Template,
    /// `welcome` with a default password: login and link, never the password.
    pub welcome: Template,
    /// `welcome` with a sign-in link (`{{invitation_url}}`) where the user chooses their
    /// password; there is no password to tell.
    pub welcome_with_invitation: Template,
    /// `password_changed` when the password was generated.
    pub password_changed_with_password: Template,
    /// `password_changed` with a default password.
    pub password_changed: Template,
    /// `password_changed` with a sign-in link: the user chooses their new password there.
    pub password_changed_with_invitation: Template,
    /// `welcome` for a user who signs in another way than by password (single sign-on).
    pub welcome_sso: Template,
    /// `upload_complete`, to the uploader.
    pub upload_complete: Template,
    /// `undo_complete`, to the uploader of an undo.
    pub undo_complete: Template,
}

const HTML_HEAD: &str = "<!doctype html><html><body style=\"font-family:sans-serif\">";
const HTML_TAIL: &str = "</body></html>";

fn t(subject: &str, text: &str, html_body: &str) -> Template {
    Template {
        subject: subject.into(),
        text: text.into(),
        html: format!("{HTML_HEAD}{html_body}{HTML_TAIL}"),
    }
}

impl Default for Templates {
    fn default() -> Self {
        Templates {
            welcome_with_password: t(
                "Your new account",
                "Hello {{first_name}},\n\nAn account has been created for you.\n\nLogin: {{login}}\nPassword: {{password}}\n\nSign in at {{site_url}}\n",
                "<p>Hello {{first_name}},</p><p>An account has been created for you.</p><p>Login: <b>{{login}}</b><br>Password: <code>{{password}}</code></p><p><a href=\"{{site_url}}\">Sign in</a></p>",
            ),
            welcome: t(
                "Your new account",
                "Hello {{first_name}},\n\nAn account has been created for you.\n\nLogin: {{login}}\nYour administrator will give you your password.\n\nSign in at {{site_url}}\n",
                "<p>Hello {{first_name}},</p><p>An account has been created for you.</p><p>Login: <b>{{login}}</b><br>Your administrator will give you your password.</p><p><a href=\"{{site_url}}\">Sign in</a></p>",
            ),
            welcome_with_invitation: t(
                "Your new account: choose your password",
                "Hello {{first_name}},\n\nAn account has been created for you.\n\nLogin: {{login}}\n\nChoose your password with this personal link (it works once, for a limited time):\n{{invitation_url}}\n\nThen sign in at {{site_url}}\n",
                "<p>Hello {{first_name}},</p><p>An account has been created for you.</p><p>Login: <b>{{login}}</b></p><p><a href=\"{{invitation_url}}\">Choose your password</a> (this personal link works once, for a limited time).</p><p>Then sign in at <a href=\"{{site_url}}\">{{site_url}}</a></p>",
            ),
            password_changed_with_invitation: t(
                "Choose a new password",
                "Hello {{first_name}},\n\nYour administrator asks you to choose a new password.\n\nLogin: {{login}}\n\nChoose it with this personal link (it works once, for a limited time):\n{{invitation_url}}\n\nThen sign in at {{site_url}}\n",
                "<p>Hello {{first_name}},</p><p>Your administrator asks you to choose a new password.</p><p>Login: <b>{{login}}</b></p><p><a href=\"{{invitation_url}}\">Choose your new password</a> (this personal link works once, for a limited time).</p><p>Then sign in at <a href=\"{{site_url}}\">{{site_url}}</a></p>",
            ),
            password_changed_with_password: t(
                "Your password has been changed",
                "Hello {{first_name}},\n\nYour password has been changed.\n\nLogin: {{login}}\nPassword: {{password}}\n\nSign in at {{site_url}}\n",
                "<p>Hello {{first_name}},</p><p>Your password has been changed.</p><p>Login: <b>{{login}}</b><br>Password: <code>{{password}}</code></p><p><a href=\"{{site_url}}\">Sign in</a></p>",
            ),
            password_changed: t(
                "Your password has been changed",
                "Hello {{first_name}},\n\nYour password has been changed by your administrator, who will give you the new one.\n\nLogin: {{login}}\n\nSign in at {{site_url}}\n",
                "<p>Hello {{first_name}},</p><p>Your password has been changed by your administrator, who will give you the new one.</p><p>Login: <b>{{login}}</b></p><p><a href=\"{{site_url}}\">Sign in</a></p>",
            ),
            welcome_sso: t(
                "Your new account",
                "Hello {{first_name}},\n\nAn account has been created for you.\n\nLogin: {{login}}\nSign in with your organisation's account (no password is needed here).\n\nSign in at {{site_url}}\n",
                "<p>Hello {{first_name}},</p><p>An account has been created for you.</p><p>Login: <b>{{login}}</b><br>Sign in with your organisation's account (no password is needed here).</p><p><a href=\"{{site_url}}\">Sign in</a></p>",
            ),
            undo_complete: t(
                "Bulk upload undone",
                "The undo of your bulk upload is complete.\n\n{{counts}}\n\nResults: {{results_url}}\n",
                "<p>The undo of your bulk upload is complete.</p><pre>{{counts}}</pre><p><a href=\"{{results_url}}\">See the results</a></p>",
            ),
            upload_complete: t(
                "Bulk upload complete",
                "Your bulk upload is complete.\n\n{{counts}}\n\nResults: {{results_url}}\n",
                "<p>Your bulk upload is complete.</p><pre>{{counts}}</pre><p><a href=\"{{results_url}}\">See the results</a></p>",
            ),
        }
    }
}

impl Templates {
    fn pick(&self, kind: MessageKind, fields: &MessageFields) -> &Template {
        let sso = fields.login_method.is_some();
        let invited = fields.invitation_url.is_some();
        match (kind, fields.password.is_some()) {
            (MessageKind::Welcome, _) if sso => &self.welcome_sso,
            (MessageKind::Welcome, _) if invited => &self.welcome_with_invitation,
            (MessageKind::PasswordChanged, _) if invited => &self.password_changed_with_invitation,
            (MessageKind::Welcome, true) => &self.welcome_with_password,
            (MessageKind::Welcome, false) => &self.welcome,
            (MessageKind::PasswordChanged, true) => &self.password_changed_with_password,
            (MessageKind::PasswordChanged, false) => &self.password_changed,
            (MessageKind::UploadComplete, _) => &self.upload_complete,
            (MessageKind::UndoComplete, _) => &self.undo_complete,
        }
    }

    /// Renders a message to `to` from `fields`.
    pub fn render(&self, kind: MessageKind, to: &str, fields: MessageFields) -> Message {
        let template = self.pick(kind, &fields);
        let mut subject = fill(&template.subject, &fields, false);
        if subject.chars().any(char::is_control) {
            subject = subject
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect();
        }
        let to = if to.chars().any(char::is_control) {
            to.chars().filter(|c| !c.is_control()).collect()
        } else {
            to.to_owned()
        };
        Message {
            kind,
            to,
            subject,
            text: fill(&template.text, &fields, false),
            html: fill(&template.html, &fields, true),
            fields,
        }
    }
}

fn value<'a>(fields: &'a MessageFields, name: &str, counts: &'a str) -> &'a str {
    match name {
        "first_name" => &fields.first_name,
        "last_name" => &fields.last_name,
        "login" => &fields.login,
        "site_url" => &fields.site_url,
        "password" => fields.password.as_ref().map_or("", |p| p.expose()),
        "invitation_url" => fields.invitation_url.as_ref().map_or("", |p| p.expose()),
        "results_url" => &fields.results_url,
        "counts" => counts,
        _ => "",
    }
}

fn fill(template: &str, fields: &MessageFields, html: bool) -> String {
    let counts: String = fields
        .counts
        .iter()
        .map(|(name, n)| format!("{name}: {n}\n"))
        .collect();
    let counts = counts.trim_end();
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(start) = doubled(rest, b'{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match doubled(after, b'}') {
            Some(end) => {
                let v = value(fields, after[..end].trim(), counts);
                if html {
                    escape_html(v, &mut out);
                } else {
                    out.push_str(v);
                }
                rest = &after[end + 2..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// Where the next `{{` (or `}}`) starts: a byte search (a substring searcher set up on
/// every call costs more than the search in a short template). `c` is ASCII, so the index
/// is a character boundary.
fn doubled(text: &str, c: u8) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(i) = bytes[from..].iter().position(|&b| b == c) {
        let at = from + i;
        if bytes.get(at + 1) == Some(&c) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// `text` with `&`, `<`, `>`, `"` and `'` as entities: the runs between them copied whole
/// (the five are ASCII, so every cut is a character boundary).
fn escape_html(text: &str, out: &mut String) {
    let mut run = 0;
    for (i, b) in text.bytes().enumerate() {
        let entity = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#39;",
            _ => continue,
        };
        out.push_str(&text[run..i]);
        out.push_str(entity);
        run = i + 1;
    }
    out.push_str(&text[run..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_values_are_escaped_and_subjects_stay_on_one_line() {
        let fields = MessageFields {
            first_name: "<script>alert(1)</script>".into(),
            login: "a@example.com".into(),
            ..Default::default()
        };
        let mut templates = Templates::default();
        templates.welcome.subject = "Hi {{first_name}}\r\nBcc: evil@example.com".into();
        let message = templates.render(MessageKind::Welcome, "a@example.com\r\nBcc: x@y.z", fields);
        assert!(message.html.contains("&lt;script&gt;"));
        assert!(!message.html.contains("<script>"));
        assert!(!message.subject.contains('\n') && !message.subject.contains('\r'));
        assert!(!message.to.contains('\n'));
    }

    #[test]
    fn every_special_character_is_escaped_wherever_it_stands() {
        let mut out = String::new();
        escape_html("&<>\"'x&é'<", &mut out);
        assert_eq!(out, "&amp;&lt;&gt;&quot;&#39;x&amp;é&#39;&lt;");
        out.clear();
        escape_html("Zoë O'Brien", &mut out);
        assert_eq!(out, "Zoë O&#39;Brien");
        out.clear();
        escape_html("", &mut out);
        assert_eq!(out, "");
    }

    #[test]
    fn control_characters_leave_the_recipient_and_become_spaces_in_the_subject() {
        let mut templates = Templates::default();
        templates.welcome.subject = "a\tb\u{7f}c".into();
        let fields = MessageFields::default();
        let m = templates.render(MessageKind::Welcome, "a\u{0}b@example.org", fields.clone());
        assert_eq!(m.to, "ab@example.org");
        assert_eq!(m.subject, "a b c");
        let m = templates.render(MessageKind::Welcome, "ab@example.org", fields);
        assert_eq!(m.to, "ab@example.org");
        assert_eq!(m.subject, "a b c");
    }

    #[test]
    fn unknown_placeholders_are_refused() {
        assert_eq!(
            Template::new("{{nope}}", "", "").unwrap_err().code(),
            IssueCode::InvalidTemplate
        );
        Template::new("Hi {{first_name}}", "{{password}}", "").unwrap();
    }
}
