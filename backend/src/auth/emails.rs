//! The account emails (password reset, invitation), worded from `backend/templates/account/` in the
//! reader's language and sent with a text and an HTML part like every other email.

use super::repo::ResetPurpose;
use crate::mail::Mail;
use crate::notifications::templates::{self, Rendered, Shipped};
use domain::{Email, Locale};
use std::sync::LazyLock;

const SOURCES: [(Locale, &str); 4] = [
    (Locale::En, include_str!("../../templates/account/en.yaml")),
    (Locale::Ru, include_str!("../../templates/account/ru.yaml")),
    (Locale::Ar, include_str!("../../templates/account/ar.yaml")),
    (Locale::He, include_str!("../../templates/account/he.yaml")),
];

static SHIPPED: LazyLock<Shipped> = LazyLock::new(|| Shipped::parse("account", &SOURCES));

fn kind(purpose: ResetPurpose) -> &'static str {
    match purpose {
        ResetPurpose::Reset => "password_reset",
        ResetPurpose::Invite => "invite",
    }
}

/// The email carrying a reset or invitation link, in `locale` (English when that text is missing).
pub fn password_link(to: &Email, purpose: ResetPurpose, locale: Locale, link: &str) -> Mail {
    let template = [locale, Locale::En].into_iter().find_map(|language| SHIPPED.get(language, kind(purpose)));
    // The texts hold no placeholders: the link follows them. Should even English be missing (a
    // build defect the unit test catches), the link still goes.
    let rendered = template.map_or_else(
        || Rendered { subject: "Fieldflow".into(), text: String::new() },
        |t| Rendered { subject: t.subject.clone(), text: t.body.clone() },
    );
    templates::email(to.to_string(), rendered, locale, link, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_account_email_is_written_in_every_language() {
        let to = Email::parse("dana@example.com").unwrap();
        for locale in [Locale::En, Locale::Ru, Locale::Ar, Locale::He] {
            for purpose in [ResetPurpose::Reset, ResetPurpose::Invite] {
                let template = SHIPPED.get(locale, kind(purpose));
                assert!(template.is_some_and(|t| !t.subject.is_empty() && !t.body.is_empty()), "{locale} {purpose:?}");
                let mail = password_link(&to, purpose, locale, "https://x/reset-password?token=t");
                assert!(mail.body.ends_with("https://x/reset-password?token=t\n"), "{}", mail.body);
                assert!(mail.html.contains(&format!("lang=\"{locale}\"")), "{}", mail.html);
            }
        }
    }
}
