//! One attempt at one delivery: claim it, word the message for its reader, send it on its channel,
//! and record the outcome: sent, skipped, retried later with backoff, or dead after the last try.

use super::deliveries_repo::{self as deliveries, Claimed, Unclaimed};
use super::repo::EventFacts;
use super::templates::{self, MessageFacts, Rendered, Template};
use super::{repo, unsubscribe};
use crate::html::escape;
use crate::jobs::queues::{self, DeliverQueue, Due};
use crate::mail::MailError;
use crate::push::PushOutcome;
use crate::state::AppState;
use crate::telegram::{InlineButton, TelegramError, TelegramMessage};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use domain::api::notifications::DeliveryStatus;
use domain::notifications::{Channel, MAX_DELIVERY_ATTEMPTS, retry_delay};
use domain::{Locale, OrgId};
use std::time::Duration;
use uuid::Uuid;

/// How an attempt ended, short of an error of our own (the database or Redis failing), which
/// fails the job so the queue runs it again.
#[derive(Debug)]
enum Outcome {
    Sent,
    /// The reader turned this off, or can no longer be reached on this channel; not a failure.
    Skipped(&'static str),
    /// Will fail again: the address is refused for good.
    Permanent(String),
    /// May pass later; `after` is the wait the other side asked for, if any.
    Retry {
        after: Option<Duration>,
        error: String,
    },
}

/// The deliver job: claims one delivery and makes an attempt at it.
pub async fn attempt(state: &AppState, queue: &mut DeliverQueue, id: Uuid) -> anyhow::Result<()> {
    let claimed = match deliveries::claim(&state.db, id, state.settings.job_lease()).await? {
        Ok(claimed) => claimed,
        Err(Unclaimed::NotYet(at)) => return queues::push_deliveries(queue, &[Due { id, at }]).await,
        Err(Unclaimed::Finished | Unclaimed::Held) => return Ok(()),
    };
    let wording = Wording::of(state, &claimed).await?;
    attempt_claimed(state, queue, claimed, &wording).await
}

/// Makes an attempt at each of an event's claimed deliveries at once, its facts and templates read
/// once for all of them. Every outcome is recorded before the first error of our own is answered.
pub async fn attempt_all(state: &AppState, queue: &DeliverQueue, claimed: Vec<Claimed>) -> anyhow::Result<()> {
    let Some(first) = claimed.first() else { return Ok(()) };
    let wording = Wording::of(state, first).await?;
    let attempts = claimed.into_iter().map(|delivery| {
        let (mut queue, wording) = (queue.clone(), &wording);
        async move { attempt_claimed(state, &mut queue, delivery, wording).await }
    });
    futures_util::future::join_all(attempts).await.into_iter().collect()
}

async fn attempt_claimed(
    state: &AppState,
    queue: &mut DeliverQueue,
    claimed: Claimed,
    wording: &Wording,
) -> anyhow::Result<()> {
    let id = claimed.id;
    let outcome = if claimed.attempts > MAX_DELIVERY_ATTEMPTS {
        // Only attempts that never reported back get here: their worker died on this message.
        Outcome::Permanent(format!("gave up after {} attempts that did not finish", claimed.attempts - 1))
    } else {
        send(state, &claimed, wording).await?
    };
    metrics::counter!("deliveries_total", "channel" => channel_label(&claimed.channel), "outcome" => outcome_label(&outcome))
        .increment(1);
    match outcome {
        Outcome::Sent => {
            deliveries::finish(&state.db, id, DeliveryStatus::Sent, None).await?;
            if let Some(recorded) = wording.recorded_at() {
                crate::notifications::stage_latency("sent", recorded);
            }
        }
        Outcome::Skipped(why) => deliveries::finish(&state.db, id, DeliveryStatus::Skipped, Some(why)).await?,
        Outcome::Permanent(error) => deliveries::finish(&state.db, id, DeliveryStatus::Dead, Some(&error)).await?,
        Outcome::Retry { error, .. } if claimed.attempts >= MAX_DELIVERY_ATTEMPTS => {
            let error = format!("{error} (attempt {} of {MAX_DELIVERY_ATTEMPTS}; no more)", claimed.attempts);
            deliveries::finish(&state.db, id, DeliveryStatus::Dead, Some(&error)).await?;
        }
        Outcome::Retry { after, error } => {
            let failed = u32::try_from(claimed.attempts).unwrap_or(1);
            let wait = after.unwrap_or_else(|| retry_delay(failed, rand::random::<f64>()));
            let at = Utc::now() + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::hours(1));
            deliveries::retry_at(&state.db, id, &error, at).await?;
            queues::push_deliveries(queue, &[Due { id, at }]).await?;
        }
    }
    Ok(())
}

/// What an event's messages are worded from, read once per event: its facts and the
/// organization's templates of its kind. Empty for a message its sender worded.
#[derive(Debug, Default)]
pub struct Wording {
    facts: Option<EventFacts>,
    custom: Vec<(Locale, Template)>,
}

impl Wording {
    async fn of(state: &AppState, delivery: &Claimed) -> anyhow::Result<Self> {
        let worded = delivery.subject.is_some() && delivery.body.is_some();
        let Some(event_id) = delivery.event_id.filter(|_| !worded) else { return Ok(Self::default()) };
        Ok(Self {
            facts: repo::event_facts(&state.db, event_id).await?,
            custom: custom_templates(state, delivery.org_id, &delivery.kind).await?,
        })
    }

    /// When the event was recorded: where its messages' latency is counted from.
    fn recorded_at(&self) -> Option<DateTime<Utc>> {
        self.facts.as_ref().map(|facts| facts.recorded_at)
    }
}

fn channel_label(channel: &str) -> &'static str {
    Channel::parse(channel).map_or("unknown", Channel::as_str)
}

fn outcome_label(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::Sent => "sent",
        Outcome::Skipped(_) => "skipped",
        Outcome::Permanent(_) => "dead",
        Outcome::Retry { .. } => "retry",
    }
}

async fn send(state: &AppState, delivery: &Claimed, wording: &Wording) -> anyhow::Result<Outcome> {
    match (Channel::parse(&delivery.channel), delivery.webhook_id, delivery.event_id) {
        (Some(Channel::Webhook), Some(endpoint), Some(event_id)) => {
            Ok(match crate::webhooks::deliver_event(state, endpoint, event_id, delivery.id).await {
                Ok(()) => Outcome::Sent,
                Err(error) if error.is_retryable() => Outcome::Retry { after: None, error: error.message().to_owned() },
                Err(error) => Outcome::Permanent(error.message().to_owned()),
            })
        }
        (Some(channel @ (Channel::Telegram | Channel::Email | Channel::Push)), None, _) => {
            to_person(state, delivery, channel, wording).await
        }
        _ => Ok(Outcome::Permanent(format!("cannot deliver on channel {:?}", delivery.channel))),
    }
}

/// Where a person is reached, once it is certain they still want this message.
enum Address {
    Chat(i64),
    Mailbox(String),
    Browser(Vec<crate::push::Browser>),
}

/// The reader of a delivery: a member of staff, or a customer by email.
struct Reader {
    address: Address,
    /// A member of staff's own zone; a customer reads times in the organization's.
    zone: Option<Tz>,
}

impl Reader {
    fn is_customer(&self) -> bool {
        self.zone.is_none()
    }
}

/// A message ready to go: its words, where its link leads, and what can be done from it.
struct Composed {
    rendered: Rendered,
    link: String,
    buttons: Vec<Vec<InlineButton>>,
}

async fn to_person(
    state: &AppState,
    delivery: &Claimed,
    channel: Channel,
    wording: &Wording,
) -> anyhow::Result<Outcome> {
    let locale = Locale::parse(&delivery.locale).unwrap_or(Locale::En);
    let reader = match reader(state, delivery, channel).await? {
        Ok(reader) => reader,
        Err(outcome) => return Ok(outcome),
    };
    let composed = match compose(state, delivery, &reader, locale, wording) {
        Ok(composed) => composed,
        Err(outcome) => return Ok(outcome),
    };
    let Composed { rendered, link, buttons } = composed;
    Ok(match reader.address {
        Address::Chat(chat) => {
            let mut text = format!("<b>{}</b>\n{}", escape(&rendered.subject), escape(&rendered.text));
            if !link.is_empty() {
                text.push_str(&format!("\n{}", escape(&link)));
            }
            let message = TelegramMessage { chat_id: chat, text, buttons, photo_url: None };
            match state.telegram.send(&message).await {
                Ok(()) => Outcome::Sent,
                Err(TelegramError::RetryLater(after)) => {
                    Outcome::Retry { after: Some(after), error: "Telegram asked to wait".into() }
                }
                Err(TelegramError::Permanent(error)) => Outcome::Permanent(format!("Telegram: {error}")),
                Err(TelegramError::Transient(error)) => {
                    Outcome::Retry { after: None, error: format!("Telegram: {error:#}") }
                }
            }
        }
        Address::Mailbox(to) => {
            let mail = templates::email(to, rendered, locale, &link, unsubscribe::url(state, delivery.id));
            match state.mailer.send(mail).await {
                Ok(()) => Outcome::Sent,
                Err(MailError::Permanent(error)) => Outcome::Permanent(error),
                Err(MailError::Transient(error)) => Outcome::Retry { after: None, error },
            }
        }
        Address::Browser(browsers) => {
            // The link names the order (or the sender's page): a newer message about it replaces this one.
            let tag = if link.is_empty() { delivery.id.to_string() } else { link.clone() };
            let urgency = crate::push::Urgency::of_kind(&delivery.kind);
            let message =
                crate::push::Message { title: rendered.subject, body: rendered.text, url: link, tag, urgency };
            match crate::push::send(state, &browsers, &message).await? {
                PushOutcome::Accepted => Outcome::Sent,
                PushOutcome::NotConfigured => Outcome::Skipped("web push is not configured"),
                PushOutcome::NoBrowser => Outcome::Skipped("no browser subscribed"),
                PushOutcome::RetryLater { after, error } => Outcome::Retry { after, error },
                PushOutcome::Refused(error) => Outcome::Permanent(error),
            }
        }
    })
}

/// Finds the delivery's reader, or the outcome when they can no longer be told (gone, turned this
/// off, unsubscribed, no address on this channel).
async fn reader(state: &AppState, delivery: &Claimed, channel: Channel) -> anyhow::Result<Result<Reader, Outcome>> {
    Ok(match (delivery.user_id, &delivery.email) {
        (Some(user), _) => {
            let Some(person) = repo::user_address(&state.db, user, &delivery.kind, channel).await? else {
                return Ok(Err(Outcome::Skipped("the person no longer exists")));
            };
            if !person.active || !person.wants {
                return Ok(Err(Outcome::Skipped("turned off by the recipient")));
            }
            let address = match (channel, person.telegram_user_id) {
                (Channel::Telegram, Some(chat)) => Address::Chat(chat),
                (Channel::Telegram, None) => return Ok(Err(Outcome::Skipped("no linked Telegram account"))),
                (Channel::Push, _) => match crate::push::repo::browsers_of(&state.db, user).await? {
                    browsers if browsers.is_empty() => return Ok(Err(Outcome::Skipped("no browser subscribed"))),
                    browsers => Address::Browser(browsers),
                },
                _ => Address::Mailbox(person.email),
            };
            Ok(Reader { address, zone: Some(person.time_zone.parse().unwrap_or(Tz::UTC)) })
        }
        (None, Some(email))
            if repo::customer_unsubscribed(&state.db, delivery.org_id, email, &delivery.kind).await? =>
        {
            Err(Outcome::Skipped("unsubscribed"))
        }
        (None, Some(email)) => Ok(Reader { address: Address::Mailbox(email.clone()), zone: None }),
        (None, None) => Err(Outcome::Permanent("the delivery names no recipient".into())),
    })
}

/// Words the message: as its sender did, or from the order event with the organization's template.
fn compose(
    state: &AppState,
    delivery: &Claimed,
    reader: &Reader,
    locale: Locale,
    wording: &Wording,
) -> Result<Composed, Outcome> {
    if let (Some(subject), Some(body)) = (&delivery.subject, &delivery.body) {
        let rendered = Rendered { subject: subject.clone(), text: body.clone() };
        return Ok(Composed { rendered, link: delivery.link.clone().unwrap_or_default(), buttons: Vec::new() });
    }
    if delivery.event_id.is_none() {
        return Err(Outcome::Permanent("the delivery names no event and no message".into()));
    }
    let Some(facts) = &wording.facts else {
        return Err(Outcome::Permanent("the event no longer exists".into()));
    };
    let zone = reader.zone.unwrap_or_else(|| facts.org_time_zone.parse().unwrap_or(Tz::UTC));
    let link = if reader.is_customer() {
        format!("{}/t/{}", public_url(state), facts.tracking_token)
    } else {
        format!("{}/orders/{}", public_url(state), facts.order_id.0)
    };
    let message_facts = MessageFacts {
        org: facts.org.clone(),
        order_number: facts.order_number.clone(),
        order_title: facts.order_title.clone(),
        status: facts.status.clone(),
        window: window(facts.scheduled_start, facts.scheduled_end, zone),
        technician: facts.technician.clone().unwrap_or_default(),
        actor: facts.actor.clone().unwrap_or_default(),
        customer: facts.customer.clone(),
        reason: facts.reason.clone().unwrap_or_default(),
        link: link.clone(),
    };
    let rendered = word_with(&wording.custom, &delivery.kind, locale, &message_facts).map_err(Outcome::Permanent)?;
    let buttons = if reader.is_customer() { Vec::new() } else { buttons(&delivery.kind, facts.order_id.0, locale) };
    Ok(Composed { rendered, link, buttons })
}

fn public_url(state: &AppState) -> &str {
    state.settings.public_url.trim_end_matches('/')
}

/// Words a message with the organization's template, or the shipped one. A template that does not
/// render is answered as a permanent failure (its text is in the delivery log).
pub async fn word(
    state: &AppState,
    org: OrgId,
    kind: &str,
    locale: Locale,
    facts: &MessageFacts,
) -> anyhow::Result<Result<Rendered, String>> {
    Ok(word_with(&custom_templates(state, org, kind).await?, kind, locale, facts))
}

/// The organization's own templates of `kind`, by language.
async fn custom_templates(state: &AppState, org: OrgId, kind: &str) -> sqlx::Result<Vec<(Locale, Template)>> {
    Ok(repo::custom_templates(&state.db, org, kind)
        .await?
        .into_iter()
        .filter_map(|t| Some((Locale::parse(&t.locale).ok()?, Template { subject: t.subject, body: t.body })))
        .collect())
}

fn word_with(
    custom: &[(Locale, Template)],
    kind: &str,
    locale: Locale,
    facts: &MessageFacts,
) -> Result<Rendered, String> {
    let chosen =
        templates::choose(kind, locale, |language| custom.iter().find(|(l, _)| *l == language).map(|(_, t)| t));
    let Some(template) = chosen else { return Err(format!("no template for {kind}")) };
    templates::render(template, facts).map_err(|error| format!("template of {kind}: {error}"))
}

/// `2026-11-23 09:00–11:00` in the reader's time zone (both dates when the window spans days).
fn window(start: Option<DateTime<Utc>>, end: Option<DateTime<Utc>>, zone: Tz) -> String {
    let (Some(start), Some(end)) = (start, end) else { return String::new() };
    let (start, end) = (start.with_timezone(&zone), end.with_timezone(&zone));
    if start.date_naive() == end.date_naive() {
        format!("{}–{}", start.format("%Y-%m-%d %H:%M"), end.format("%H:%M"))
    } else {
        format!("{} – {}", start.format("%Y-%m-%d %H:%M"), end.format("%Y-%m-%d %H:%M"))
    }
}

/// What a technician may do right from the message; the bot acts on the callback data.
fn buttons(kind: &str, order: Uuid, locale: Locale) -> Vec<Vec<InlineButton>> {
    let (accept, decline) = match locale {
        Locale::En => ("Accept", "Decline"),
        Locale::Ru => ("Принять", "Отказаться"),
        Locale::Ar => ("قبول", "رفض"),
        Locale::He => ("קבלה", "דחייה"),
    };
    let prefix = match kind {
        "assign" | "reassign" => "order",
        "offered" => "offer",
        _ => return Vec::new(),
    };
    let order = order.simple();
    vec![vec![
        InlineButton { text: accept.into(), callback_data: format!("{prefix}:{order}:accept") },
        InlineButton { text: decline.into(), callback_data: format!("{prefix}:{order}:decline") },
    ]]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_reads_in_the_readers_zone() {
        let start = "2026-11-23T08:00:00Z".parse().ok();
        let end = "2026-11-23T10:00:00Z".parse().ok();
        assert_eq!(window(start, end, chrono_tz::Europe::Berlin), "2026-11-23 09:00–11:00");
        assert_eq!(window(start, end, chrono_tz::Asia::Tokyo), "2026-11-23 17:00–19:00");
        assert_eq!(window(start, None, Tz::UTC), "");
    }

    #[test]
    fn assignments_and_offers_carry_buttons_that_fit_telegram() {
        let order = Uuid::now_v7();
        let rows = buttons("offered", order, Locale::Ru);
        assert_eq!(rows[0][0].text, "Принять");
        assert!(rows[0].iter().all(|b| b.callback_data.len() <= 64 && b.callback_data.starts_with("offer:")));
        assert!(buttons("complete", order, Locale::En).is_empty());
    }
}
