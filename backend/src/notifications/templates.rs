//! Message wording: the shipped templates (one YAML file per language), an organization's own
//! versions, and rendering. Lookup order: the organization's text in the reader's language, the
//! shipped text in that language, then the same two in English, so a message is never empty.

use crate::html::escape;
use crate::mail::Mail;
use domain::Locale;
use minijinja::{Environment, UndefinedBehavior};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::LazyLock;

/// A subject line and a body with `{{ placeholders }}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Template {
    pub subject: String,
    pub body: String,
}

/// What templates may say: every field is always present (empty when unknown), so a placeholder
/// that is not one of these is an error when an organization saves its template.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MessageFacts {
    pub org: String,
    pub order_number: String,
    pub order_title: String,
    pub status: String,
    /// The scheduled window in the reader's time zone, e.g. `2026-11-23 09:00–11:00`.
    pub window: String,
    pub technician: String,
    pub actor: String,
    pub customer: String,
    pub reason: String,
    /// Where the reader follows the order: the web app for staff, the tracking page for customers.
    pub link: String,
}

/// The rendered text of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct TemplateError(String);

const SHIPPED_SOURCES: [(Locale, &str); 4] = [
    (Locale::En, include_str!("../../templates/notifications/en.yaml")),
    (Locale::Ru, include_str!("../../templates/notifications/ru.yaml")),
    (Locale::Ar, include_str!("../../templates/notifications/ar.yaml")),
    (Locale::He, include_str!("../../templates/notifications/he.yaml")),
];

/// Shipped templates of one family (notifications, account emails), by language and kind.
#[derive(Debug)]
pub struct Shipped(HashMap<(Locale, String), Template>);

impl Shipped {
    /// Parses one YAML file per language (`kind: {subject, body}`). A file that does not parse is a
    /// build defect the unit tests catch; at run time it only leaves that language to the English
    /// fallback.
    pub fn parse(family: &str, sources: &[(Locale, &str)]) -> Self {
        let mut catalog = HashMap::new();
        for &(locale, source) in sources {
            match serde_yaml_ng::from_str::<HashMap<String, Template>>(source) {
                Ok(templates) => catalog.extend(templates.into_iter().map(|(kind, t)| ((locale, kind), t))),
                Err(error) => tracing::error!(%error, family, locale = locale.as_str(), "shipped templates unreadable"),
            }
        }
        Self(catalog)
    }

    pub fn get(&self, locale: Locale, kind: &str) -> Option<&Template> {
        self.0.get(&(locale, kind.to_owned()))
    }
}

static SHIPPED: LazyLock<Shipped> = LazyLock::new(|| Shipped::parse("notifications", &SHIPPED_SOURCES));

pub fn shipped(locale: Locale, kind: &str) -> Option<&'static Template> {
    SHIPPED.get(locale, kind)
}

/// Picks the template to use from the organization's versions (`custom`, by language) and the
/// shipped ones, falling back to English.
pub fn choose<'a>(kind: &str, locale: Locale, custom: impl Fn(Locale) -> Option<&'a Template>) -> Option<&'a Template> {
    [locale, Locale::En].into_iter().find_map(|language| custom(language).or_else(|| shipped(language, kind)))
}

/// Bounds the work an organization's template may ask for (loops over nothing large exist, but a
/// template is user input).
const RENDER_FUEL: u64 = 50_000;

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_fuel(Some(RENDER_FUEL));
    env
}

/// Renders a template with `facts`: an order event's [`MessageFacts`], or the figures of another
/// message (the daily summary's).
pub fn render(template: &Template, facts: &impl Serialize) -> Result<Rendered, TemplateError> {
    let env = environment();
    let render = |source: &str| env.render_str(source, facts).map_err(|error| TemplateError(error.to_string()));
    let subject = render(&template.subject)?.lines().map(str::trim).collect::<Vec<_>>().join(" ");
    Ok(Rendered { subject, text: render(&template.body)? })
}

/// An email of a rendered message: the text with the link (and the unsubscribe line) under it,
/// and the same as HTML. `unsubscribe_url` makes it unsubscribable in one click.
pub fn email(to: String, rendered: Rendered, locale: Locale, link: &str, unsubscribe_url: Option<String>) -> Mail {
    let label = unsubscribe_label(locale);
    let html = html(&rendered, locale, link, unsubscribe_url.as_deref().map(|url| (label, url)));
    let mut body = format!("{}\n", rendered.text);
    if !link.is_empty() {
        body.push_str(&format!("\n{link}\n"));
    }
    if let Some(url) = &unsubscribe_url {
        body.push_str(&format!("\n{label}: {url}\n"));
    }
    Mail { to, subject: rendered.subject, body, html, unsubscribe_url }
}

/// The HTML part of an email: the text, escaped, in a plain layout that reads right to left for
/// Arabic and Hebrew, with the order's link and, when given, the unsubscribe link.
pub fn html(rendered: &Rendered, locale: Locale, link: &str, unsubscribe: Option<(&str, &str)>) -> String {
    let direction = if locale.is_right_to_left() { "rtl" } else { "ltr" };
    let paragraphs: String =
        rendered.text.lines().map(|line| format!("<p style=\"margin:0 0 8px\">{}</p>", escape(line))).collect();
    let open = if link.is_empty() {
        String::new()
    } else {
        format!("<p><a href=\"{0}\" style=\"color:#1e88e5\">{0}</a></p>", escape(link))
    };
    let footer = unsubscribe
        .map(|(label, url)| {
            format!(
                "<p style=\"color:#777;font-size:12px\"><a href=\"{}\" style=\"color:#777\">{}</a></p>",
                escape(url),
                escape(label)
            )
        })
        .unwrap_or_default();
    format!(
        "<!doctype html><html lang=\"{lang}\" dir=\"{direction}\"><head><meta charset=\"utf-8\"><title>{title}</title></head>\
         <body style=\"font-family:sans-serif;line-height:1.4\"><h2 style=\"font-size:18px\">{title}</h2>{paragraphs}{open}{footer}</body></html>",
        lang = locale.as_str(),
        title = escape(&rendered.subject),
    )
}

/// The unsubscribe line of an email footer, per language.
pub fn unsubscribe_label(locale: Locale) -> &'static str {
    match locale {
        Locale::En => "Unsubscribe from these messages",
        Locale::Ru => "Отписаться от этих сообщений",
        Locale::Ar => "إلغاء الاشتراك في هذه الرسائل",
        Locale::He => "הסרה מרשימת התפוצה של הודעות אלה",
    }
}

/// Made-up facts for previews and for checking an organization's template before it is saved.
pub fn sample_facts() -> MessageFacts {
    MessageFacts {
        org: "Acme Repairs".into(),
        order_number: "A-1042".into(),
        order_title: "Washing machine leaks".into(),
        status: "scheduled".into(),
        window: "2026-11-23 09:00–11:00".into(),
        technician: "Ivan Petrov".into(),
        actor: "Dana Dispatcher".into(),
        customer: "Maria Lopez".into(),
        reason: "Part on order".into(),
        link: "https://fieldflow.example/orders/A-1042".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::notifications::NOTIFIED_KINDS;

    #[test]
    fn every_kind_has_a_shipped_template_in_every_language_that_renders() {
        for locale in [Locale::En, Locale::Ru, Locale::Ar, Locale::He] {
            for kind in NOTIFIED_KINDS {
                let template = shipped(locale, kind).unwrap_or_else(|| panic!("{locale} {kind} missing"));
                let rendered = render(template, &sample_facts()).unwrap();
                assert!(!rendered.subject.is_empty() && !rendered.text.is_empty(), "{locale} {kind}");
                assert!(!rendered.subject.contains("{{"), "{locale} {kind}");
            }
        }
    }

    #[test]
    fn a_missing_translation_falls_back_to_english_and_custom_text_wins() {
        let custom = Template { subject: "Ours {{ order_number }}".into(), body: "b".into() };
        assert_eq!(choose("assign", Locale::Ru, |_| None), shipped(Locale::Ru, "assign"));
        assert_eq!(choose("assign", Locale::Ru, |l| (l == Locale::Ru).then_some(&custom)), Some(&custom));
        assert_eq!(choose("no_such_kind", Locale::He, |l| (l == Locale::En).then_some(&custom)), Some(&custom));
        assert_eq!(choose("no_such_kind", Locale::He, |_| None), None);
    }

    #[test]
    fn an_unknown_placeholder_is_an_error_and_html_is_escaped_and_directed() {
        let typo = Template { subject: "{{ order_nubmer }}".into(), body: "x".into() };
        assert!(render(&typo, &sample_facts()).is_err());
        let rendered = Rendered { subject: "A <b>".into(), text: "x & y\nz".into() };
        let page = html(&rendered, Locale::He, "https://x/o?a=1&b=2", Some(("off", "https://x/u")));
        assert!(page.contains("dir=\"rtl\"") && page.contains("A &lt;b&gt;") && page.contains("x &amp; y"));
        assert!(page.contains("a=1&amp;b=2") && page.contains("https://x/u"));
    }
}
