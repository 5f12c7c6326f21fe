//! Messages not about one order event, worded by whoever sends them: a broadcast to technicians, a
//! daily summary. They reach people like order events do (the inbox, then Telegram and email as each
//! reader's preferences for the kind and quiet hours allow) and are kept with their deliveries.

use super::deliveries_repo::{self as deliveries, Planned, Told};
use super::repo::{self, RecipientQuery};
use super::service::personal_messages;
use crate::jobs::queues::{self, DeliverQueue};
use crate::state::AppState;
use anyhow::ensure;
use chrono::Utc;
use domain::notifications::WORDED_KINDS;
use domain::{FieldError, FieldErrors, Locale, OrgId, UserId};
use std::collections::HashMap;
use uuid::Uuid;

pub use deliveries::withdraw;

/// A message as its sender worded it, in plain text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Worded {
    pub subject: String,
    pub body: String,
    pub link: Option<String>,
}

impl Worded {
    pub const SUBJECT_MAX: usize = 200;
    pub const BODY_MAX: usize = 4000;

    /// What is wrong with it, per field (`subject`, `body`): empty, or longer than a message may be.
    pub fn problems(&self) -> FieldErrors {
        let mut errors = FieldErrors::default();
        for (field, text, max) in [("subject", &self.subject, Self::SUBJECT_MAX), ("body", &self.body, Self::BODY_MAX)]
        {
            let length = text.trim().chars().count();
            if length == 0 {
                errors.add(field, FieldError::new("required", "must not be empty"));
            } else if text.chars().count() > max {
                errors.add(field, FieldError::new("too_long", format!("must be at most {max} characters")));
            }
        }
        errors
    }
}

/// One reader's message, in the language it was worded in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WordedFor {
    pub user: UserId,
    pub locale: Locale,
    pub message: Worded,
}

/// Tells each named person of `org` their message: an inbox entry and the deliveries their
/// preferences for `kind` ask for, handed to the deliver queue. Safe to repeat: each reader gets a
/// source's message once per channel. People of other organizations or no longer active are
/// passed over. Answers how many inbox entries and deliveries were added this time.
pub async fn send_worded(
    state: &AppState,
    queue: &mut DeliverQueue,
    org: OrgId,
    source: &str,
    kind: &str,
    to: &[WordedFor],
) -> anyhow::Result<u64> {
    ensure!(WORDED_KINDS.contains(&kind), "{kind} is not a kind of worded message");
    let named: Vec<Uuid> = to.iter().map(|w| w.user.0).collect();
    let query = RecipientQuery { org, kind, actor: None, office: false, technician: None, offered: &[], named: &named };
    let people = repo::recipients(&state.db, &query).await?;
    let messages: HashMap<UserId, &WordedFor> = to.iter().map(|w| (w.user, w)).collect();
    let now = Utc::now();
    let mut planned: Vec<Planned> = Vec::new();
    let mut in_app: Vec<&WordedFor> = Vec::new();
    for person in &people {
        let Some(message) = messages.get(&person.id) else { continue };
        if person.in_app {
            in_app.push(message);
        }
        planned.extend(
            personal_messages(person, now, Some(&message.message))
                .into_iter()
                .map(|p| Planned { locale: message.locale, ..p }),
        );
    }
    let mut tx = state.db.begin().await?;
    let stored = repo::store_worded_in_app(&mut *tx, org, source, kind, &in_app).await?;
    let told = Told { source, event_id: None, kind };
    let added = deliveries::plan(&mut *tx, org, told, &planned).await?;
    tx.commit().await?;
    // Including any an earlier call planned but could not queue.
    let due = deliveries::pending_of_source(&state.db, source).await?;
    queues::push_deliveries(queue, &due).await?;
    Ok(stored + added)
}
