//! The daily summary: at the hour an organization chose (`daily_summary_hour`, in its time zone),
//! its office (admins, dispatchers, managers) gets yesterday's figures and today's, worded in each
//! reader's language, through the inbox and the channels each reader chose for `daily_summary`.

use super::repo::Subscriber;
use crate::dashboard::repo::activity;
use crate::dashboard::service::counters_at;
use crate::jobs::queues::DeliverQueue;
use crate::notifications::templates::{self, Template};
use crate::notifications::worded::{Worded, WordedFor, send_worded};
use crate::state::AppState;
use chrono::{DateTime, Days, Timelike, Utc};
use chrono_tz::Tz;
use domain::Locale;
use domain::schedule::local_day;
use serde::Serialize;

/// The notification kind of the summary: readers turn its channels on and off like any other.
pub const KIND: &str = "daily_summary";

/// The figures of one organization's summary, and what its templates may say.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SummaryFacts {
    pub org: String,
    /// Today, in the organization's time zone (`2026-11-21`).
    pub date: String,
    /// Orders created, completed and cancelled yesterday, and those due yesterday that missed it.
    pub created: i64,
    pub completed: i64,
    pub cancelled: i64,
    pub sla_breached: i64,
    /// Visits scheduled today; open orders with nobody assigned; open orders past their due time.
    pub scheduled_today: u64,
    pub unassigned: u64,
    pub overdue: u64,
    /// The web app.
    pub link: String,
}

/// Sends the summaries due at `now`: to every organization whose hour it is in its time zone and
/// which did not get today's yet. Answers how many organizations were sent one. Safe to repeat:
/// `send_worded` sends once per source (`summary:{org}:{local date}`), reader and channel.
pub async fn send_due(state: &AppState, queue: &mut DeliverQueue, now: DateTime<Utc>) -> anyhow::Result<usize> {
    let subscribers = super::repo::summary_subscribers(&state.db).await?;
    let mut sent = 0;
    for org in subscribers {
        let tz: Tz = org.time_zone.parse().unwrap_or(Tz::UTC);
        let local = now.with_timezone(&tz);
        let today = local.date_naive();
        if i64::from(local.hour()) != i64::from(org.hour) || org.last_sent == Some(today) {
            continue;
        }
        let facts = figures(state, &org, tz, now).await?;
        let readers = crate::users::repo::office(&state.db, org.id).await?;
        let to: Vec<WordedFor> = readers
            .into_iter()
            .map(|(user, locale)| WordedFor { user, locale, message: word(&facts, locale) })
            .collect();
        let source = format!("summary:{}:{today}", org.id);
        send_worded(state, queue, org.id, &source, KIND, &to).await?;
        super::repo::record_summary(&state.db, org.id, today, now).await?;
        sent += 1;
    }
    Ok(sent)
}

/// The organization's figures as of `now`: yesterday's activity and today's counters, by its clock.
async fn figures(state: &AppState, org: &Subscriber, tz: Tz, now: DateTime<Utc>) -> anyhow::Result<SummaryFacts> {
    let today = now.with_timezone(&tz).date_naive();
    let yesterday = today.checked_sub_days(Days::new(1)).unwrap_or(today);
    let done = activity(&state.db, org.id, local_day(tz, yesterday)).await?;
    let counters = counters_at(&state.db, org.id, tz, now).await?;
    Ok(SummaryFacts {
        org: org.name.clone(),
        date: today.to_string(),
        created: done.created,
        completed: done.completed,
        cancelled: done.cancelled,
        sla_breached: done.sla_breached,
        scheduled_today: counters.scheduled_today,
        unassigned: counters.unassigned,
        overdue: counters.overdue,
        link: state.settings.public_url.trim_end_matches('/').to_owned(),
    })
}

const SHIPPED_SOURCES: [(Locale, &str); 4] = [
    (Locale::En, include_str!("../../templates/summary/en.yaml")),
    (Locale::Ru, include_str!("../../templates/summary/ru.yaml")),
    (Locale::Ar, include_str!("../../templates/summary/ar.yaml")),
    (Locale::He, include_str!("../../templates/summary/he.yaml")),
];

/// The summary's template in `locale`, or in English when that one is missing or unreadable (a
/// build defect the unit tests catch).
fn template(locale: Locale) -> Option<Template> {
    [locale, Locale::En].into_iter().find_map(|language| {
        let (_, source) = SHIPPED_SOURCES.iter().find(|(l, _)| *l == language)?;
        serde_yaml_ng::from_str(source)
            .inspect_err(|error| tracing::error!(%error, locale = language.as_str(), "summary template unreadable"))
            .ok()
    })
}

/// The summary in the reader's language. Should even English fail to render, the figures still go,
/// plainly.
pub fn word(facts: &SummaryFacts, locale: Locale) -> Worded {
    let rendered = template(locale).and_then(|t| templates::render(&t, facts).ok());
    let (subject, body) = match rendered {
        Some(rendered) => (rendered.subject, rendered.text),
        None => (format!("{} {}", facts.org, facts.date), format!("{facts:?}")),
    };
    Worded { subject, body, link: Some(facts.link.clone()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_is_worded_in_every_language_with_its_figures() {
        let facts = SummaryFacts {
            org: "Acme".into(),
            date: "2026-11-21".into(),
            created: 11,
            completed: 7,
            cancelled: 2,
            sla_breached: 3,
            scheduled_today: 5,
            unassigned: 4,
            overdue: 6,
            link: "https://fieldflow.example".into(),
        };
        for locale in [Locale::En, Locale::Ru, Locale::Ar, Locale::He] {
            let rendered = templates::render(&template(locale).unwrap(), &facts).unwrap();
            assert!(rendered.subject.contains("Acme") && rendered.subject.contains("2026-11-21"), "{locale}");
            for figure in ["11", "7", "2", "3", "5", "4", "6"] {
                assert!(rendered.text.contains(figure), "{locale} {figure}: {}", rendered.text);
            }
        }
        assert!(word(&facts, Locale::Ru).body.contains("Вчера"));
    }
}
