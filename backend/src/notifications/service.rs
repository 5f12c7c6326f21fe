//! Who is told about an order event and how; each person's inbox and preferences; an
//! organization's templates and delivery log.

use super::deliveries_repo::{self as deliveries, Addressee, Planned, Told};
use super::repo::{self, CustomTemplate, Recipient, RecipientQuery};
use super::templates::{self, MessageFacts, Template};
use super::worded::Worded;
use crate::actor::{Actor, Forbidden, UserActor};
use crate::jobs::queues::{self, DeliverQueue};
use crate::state::AppState;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use domain::api::notifications::{
    DeliveryView, ListDeliveriesQuery, ListNotificationsQuery, ListTemplatesQuery, NotificationPreferences,
    NotificationView, Preference, PreviewTemplate, PutTemplate, QuietHours, RenderedMessage, TemplateView, UnreadCount,
    UpdateNotificationPreferences,
};
use domain::notifications::{Channel, NOTIFIED_KINDS, audience, preference_kinds, quiet_until};
use domain::{FieldError, FieldErrors, Locale, NotificationId, Page, PageLimit, Permission};
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum NotificationError {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    #[error("invalid request")]
    Invalid(FieldErrors),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for NotificationError {
    fn from(error: sqlx::Error) -> Self {
        Self::Internal(error.into())
    }
}

fn invalid(field: &str, code: &str, message: impl Into<String>) -> NotificationError {
    NotificationError::Invalid(FieldErrors::single(field, FieldError::new(code, message)))
}

/// The announce job: puts the event in the inbox of everyone its audience names, plans the
/// messages each of them (and the customer, and the organization's webhooks) is owed, and sends
/// those due now. Safe to repeat: rows are keyed by (event, recipient, channel).
/// Answers how many deliveries were planned this time.
pub async fn announce(state: &AppState, queue: &mut DeliverQueue, event_id: i64) -> Result<u64, NotificationError> {
    // Events are never deleted, so a missing one was never committed: nothing to tell.
    let Some(event) = repo::event(&state.db, event_id).await? else { return Ok(0) };
    let audience = audience(&event.kind);
    let offered: Vec<Uuid> = match event.payload.get("technician_ids") {
        Some(ids) if audience.offered => serde_json::from_value(ids.clone()).map_err(anyhow::Error::from)?,
        _ => Vec::new(),
    };
    let query = RecipientQuery {
        org: event.org_id,
        kind: &event.kind,
        actor: event.actor_user_id,
        office: audience.office,
        technician: event.technician_id.filter(|_| audience.technician),
        offered: &offered,
        named: &[],
    };
    let people = if audience.office || audience.technician || audience.offered {
        repo::recipients(&state.db, &query).await?
    } else {
        Vec::new()
    };
    let now = Utc::now();
    let mut planned: Vec<Planned> = people.iter().flat_map(|person| personal_messages(person, now, None)).collect();
    if audience.customer
        && let Some((email, locale)) = repo::customer_address(&state.db, event_id).await?
    {
        let locale = Locale::parse(&locale).unwrap_or(Locale::En);
        planned.push(Planned { channel: Channel::Email, to: Addressee::Email(email), locale, due: now, worded: None });
    }
    for endpoint in crate::webhooks::endpoints_for(&state.db, event.org_id, &event.kind).await? {
        planned.push(Planned {
            channel: Channel::Webhook,
            to: Addressee::Webhook(endpoint),
            locale: Locale::En,
            due: now,
            worded: None,
        });
    }
    let in_app: Vec<_> = people.iter().filter(|person| person.in_app).map(|person| person.id).collect();
    let mut tx = state.db.begin().await?;
    repo::store_in_app(&mut *tx, event.org_id, event_id, &in_app).await?;
    let source = deliveries::event_source(event_id);
    let told = Told { source: &source, event_id: Some(event_id), kind: &event.kind };
    let added = deliveries::plan(&mut *tx, event.org_id, told, &planned).await?;
    tx.commit().await?;
    super::stage_latency("announced", event.created_at);
    // The messages due now are sent by this job; the others (after quiet hours, or planned by an
    // earlier run that could not queue them) go to the deliver queue. A claimed delivery this job
    // does not finish is handed over by the relay once its lease runs out.
    let claimed = deliveries::claim_due_of_source(&state.db, &source, state.settings.job_lease()).await?;
    let later = deliveries::pending_of_source(&state.db, &source).await?;
    queues::push_deliveries(queue, &later).await?;
    repo::finish_outbox(&state.db, event_id).await?;
    super::deliver::attempt_all(state, queue, claimed).await?;
    Ok(added)
}

/// The Telegram, email and web push messages one person is owed, due after their quiet hours;
/// `worded` is the message itself when its sender worded it.
pub(super) fn personal_messages(person: &Recipient, now: DateTime<Utc>, worded: Option<&Worded>) -> Vec<Planned> {
    let zone: Tz = person.time_zone.parse().unwrap_or(Tz::UTC);
    let due = match (person.quiet_hours_start, person.quiet_hours_end) {
        (Some(start), Some(end)) => quiet_until(now, zone, start, end).unwrap_or(now),
        _ => now,
    };
    let locale = Locale::parse(&person.locale).unwrap_or(Locale::En);
    let wanted = [
        (Channel::Telegram, person.telegram && person.telegram_user_id.is_some()),
        (Channel::Email, person.email),
        (Channel::Push, person.push),
    ];
    wanted
        .into_iter()
        .filter(|(_, wanted)| *wanted)
        .map(|(channel, _)| Planned { channel, to: Addressee::User(person.id), locale, due, worded: worded.cloned() })
        .collect()
}

/// Events not yet announced, and the age in seconds of the oldest: the relay's and announcers' lag.
pub async fn outbox_backlog(state: &AppState) -> Result<(i64, f64), NotificationError> {
    Ok(repo::outbox_backlog(&state.db).await?)
}

/// Due deliveries not yet made, and the age in seconds of the oldest.
pub async fn delivery_backlog(state: &AppState) -> Result<(i64, f64), NotificationError> {
    Ok(deliveries::backlog(&state.db).await?)
}

pub async fn inbox(
    state: &AppState,
    user: &UserActor,
    query: &ListNotificationsQuery,
) -> Result<Page<NotificationView>, NotificationError> {
    let limit = PageLimit::new(query.limit);
    let unread_only = query.unread.unwrap_or(false);
    let rows = repo::inbox(&state.db, user.user_id, unread_only, query.cursor.map(|c| c.0), limit.probe()).await?;
    Ok(Page::from_probe(rows, limit, |row| row.id.0))
}

pub async fn unread(state: &AppState, user: &UserActor) -> Result<UnreadCount, NotificationError> {
    Ok(UnreadCount { unread: repo::unread_count(&state.db, user.user_id).await? })
}

pub async fn mark_read(state: &AppState, user: &UserActor, id: NotificationId) -> Result<(), NotificationError> {
    if repo::mark_read(&state.db, user.user_id, id).await? {
        Ok(())
    } else {
        Err(NotificationError::NotFound("notification"))
    }
}

pub async fn mark_all_read(state: &AppState, user: &UserActor) -> Result<UnreadCount, NotificationError> {
    repo::mark_all_read(&state.db, user.user_id).await?;
    unread(state, user).await
}

pub async fn preferences(state: &AppState, user: &UserActor) -> Result<NotificationPreferences, NotificationError> {
    let stored = repo::preferences(&state.db, user.user_id).await?;
    let (start, end) = repo::quiet_hours(&state.db, user.user_id).await?;
    let preferences = preference_kinds()
        .flat_map(|kind| Channel::PERSONAL.map(|channel| (kind, channel)))
        .map(|(kind, channel)| {
            let stored = stored.iter().find(|(k, c, _)| k == kind && c == channel.as_str());
            let enabled = stored.map_or(channel.on_by_default(), |(_, _, enabled)| *enabled);
            Preference { kind: kind.to_owned(), channel, enabled }
        })
        .collect();
    let quiet_hours = start.zip(end).map(|(start, end)| QuietHours { start, end });
    Ok(NotificationPreferences { quiet_hours, preferences })
}

pub async fn update_preferences(
    state: &AppState,
    user: &UserActor,
    update: &UpdateNotificationPreferences,
) -> Result<NotificationPreferences, NotificationError> {
    let mut errors = FieldErrors::default();
    for (index, preference) in update.preferences.iter().enumerate() {
        if !preference_kinds().any(|kind| kind == preference.kind) {
            let names = preference_kinds().collect::<Vec<_>>().join(", ");
            errors.add(
                &format!("preferences[{index}].kind"),
                FieldError::new("invalid_kind", format!("must be one of {names}")),
            );
        }
        if !Channel::PERSONAL.contains(&preference.channel) {
            errors.add(
                &format!("preferences[{index}].channel"),
                FieldError::new("invalid_channel", "must be in_app, telegram, email or push"),
            );
        }
    }
    if let Some(Some(hours)) = update.quiet_hours
        && hours.start == hours.end
    {
        errors.add("quiet_hours", FieldError::new("empty_quiet_hours", "start and end must differ"));
    }
    if !errors.is_empty() {
        return Err(NotificationError::Invalid(errors));
    }
    let mut tx = state.db.begin().await?;
    if let Some(hours) = update.quiet_hours {
        repo::set_quiet_hours(&mut *tx, user.user_id, hours.map(|h| (h.start, h.end))).await?;
    }
    let kinds: Vec<&str> = update.preferences.iter().map(|p| p.kind.as_str()).collect();
    let channels: Vec<&str> = update.preferences.iter().map(|p| p.channel.as_str()).collect();
    let enabled: Vec<bool> = update.preferences.iter().map(|p| p.enabled).collect();
    repo::set_preferences(&mut *tx, user.org_id, user.user_id, &kinds, &channels, &enabled).await?;
    tx.commit().await?;
    preferences(state, user).await
}

fn known_kind(kind: &str) -> Result<(), NotificationError> {
    if NOTIFIED_KINDS.contains(&kind) {
        Ok(())
    } else {
        Err(invalid("kind", "invalid_kind", format!("must be one of {}", NOTIFIED_KINDS.join(", "))))
    }
}

const LOCALES: [Locale; 4] = [Locale::En, Locale::Ru, Locale::Ar, Locale::He];

/// The templates in effect: the organization's where it wrote one, the shipped text elsewhere.
pub async fn list_templates(
    state: &AppState,
    user: &UserActor,
    query: &ListTemplatesQuery,
) -> Result<Vec<TemplateView>, NotificationError> {
    Actor::User(*user).require(Permission::ManageOrganization)?;
    if let Some(kind) = &query.kind {
        known_kind(kind)?;
    }
    let custom = repo::all_custom_templates(&state.db, user.org_id).await?;
    let kinds = NOTIFIED_KINDS.iter().filter(|kind| query.kind.as_deref().is_none_or(|k| k == **kind));
    let views = kinds
        .flat_map(|kind| LOCALES.iter().filter(|l| query.locale.is_none_or(|q| q == **l)).map(move |l| (*kind, *l)))
        .filter_map(|(kind, locale)| {
            let own = custom.iter().find(|t| t.kind == kind && t.locale == locale.as_str());
            let (subject, body) = match own {
                Some(own) => (own.subject.clone(), own.body.clone()),
                None => {
                    let shipped = templates::choose(kind, locale, |_| None)?;
                    (shipped.subject.clone(), shipped.body.clone())
                }
            };
            Some(TemplateView { kind: kind.to_owned(), locale, subject, body, customized: own.is_some() })
        })
        .collect();
    Ok(views)
}

const MAX_SUBJECT_CHARS: usize = 200;
const MAX_BODY_CHARS: usize = 4000;

/// Checks a draft: within the size limits, and it renders with every placeholder known.
fn check_template(subject: &str, body: &str) -> Result<Template, NotificationError> {
    let mut errors = FieldErrors::default();
    for (field, text, max) in [("subject", subject, MAX_SUBJECT_CHARS), ("body", body, MAX_BODY_CHARS)] {
        let chars = text.trim().chars().count();
        if chars == 0 || chars > max {
            errors.add(field, FieldError::new("invalid_length", format!("must be 1 to {max} characters")));
        }
    }
    if !errors.is_empty() {
        return Err(NotificationError::Invalid(errors));
    }
    let template = Template { subject: subject.trim().to_owned(), body: body.trim().to_owned() };
    templates::render(&template, &templates::sample_facts())
        .map_err(|error| invalid("body", "invalid_template", error.to_string()))?;
    Ok(template)
}

pub async fn put_template(
    state: &AppState,
    user: &UserActor,
    kind: &str,
    locale: Locale,
    draft: &PutTemplate,
) -> Result<TemplateView, NotificationError> {
    Actor::User(*user).require(Permission::ManageOrganization)?;
    known_kind(kind)?;
    let template = check_template(&draft.subject, &draft.body)?;
    let stored = CustomTemplate {
        kind: kind.to_owned(),
        locale: locale.as_str().to_owned(),
        subject: template.subject,
        body: template.body,
    };
    repo::put_template(&state.db, user.org_id, &stored).await?;
    Ok(TemplateView { kind: stored.kind, locale, subject: stored.subject, body: stored.body, customized: true })
}

pub async fn delete_template(
    state: &AppState,
    user: &UserActor,
    kind: &str,
    locale: Locale,
) -> Result<(), NotificationError> {
    Actor::User(*user).require(Permission::ManageOrganization)?;
    known_kind(kind)?;
    if repo::delete_template(&state.db, user.org_id, kind, locale.as_str()).await? {
        Ok(())
    } else {
        Err(NotificationError::NotFound("template"))
    }
}

/// Renders a template as its reader would get it: the draft if given, else the one in effect; for
/// one of the organization's orders (its latest event's facts) or for sample data.
pub async fn preview(
    state: &AppState,
    user: &UserActor,
    request: &PreviewTemplate,
) -> Result<RenderedMessage, NotificationError> {
    Actor::User(*user).require(Permission::ManageOrganization)?;
    known_kind(&request.kind)?;
    let mut facts = templates::sample_facts();
    if let Some(order) = request.order_id {
        let event = repo::latest_event_of_order(&state.db, user.org_id, order)
            .await?
            .ok_or(NotificationError::NotFound("order"))?;
        let found = repo::event_facts(&state.db, event).await?.ok_or(NotificationError::NotFound("order"))?;
        facts = MessageFacts {
            org: found.org,
            order_number: found.order_number,
            order_title: found.order_title,
            status: found.status,
            technician: found.technician.unwrap_or_default(),
            actor: found.actor.unwrap_or_default(),
            customer: found.customer,
            link: format!("{}/orders/{}", state.settings.public_url.trim_end_matches('/'), found.order_id.0),
            ..facts
        };
    }
    let rendered = match (&request.subject, &request.body) {
        (Some(subject), Some(body)) => {
            let draft = check_template(subject, body)?;
            templates::render(&draft, &facts).map_err(|e| invalid("body", "invalid_template", e.to_string()))?
        }
        (None, None) => super::deliver::word(state, user.org_id, &request.kind, request.locale, &facts)
            .await?
            .map_err(|error| invalid("kind", "invalid_template", error))?,
        _ => return Err(invalid("body", "incomplete_draft", "give both subject and body, or neither")),
    };
    let html = templates::html(&rendered, request.locale, &facts.link, None);
    Ok(RenderedMessage { subject: rendered.subject, text: rendered.text, html })
}

pub async fn delivery_log(
    state: &AppState,
    user: &UserActor,
    query: &ListDeliveriesQuery,
) -> Result<Page<DeliveryView>, NotificationError> {
    Actor::User(*user).require(Permission::ManageOrganization)?;
    let limit = PageLimit::new(query.limit);
    let rows = deliveries::log(
        &state.db,
        user.org_id,
        query.status,
        query.channel,
        query.order_id,
        query.cursor.map(|c| c.0),
        limit.probe(),
    )
    .await?;
    Ok(Page::from_probe(rows, limit, |row| row.id))
}

/// Sends a dead delivery again, with a fresh set of attempts: the relay's next sweep queues it.
pub async fn redrive(state: &AppState, user: &UserActor, id: Uuid) -> Result<(), NotificationError> {
    Actor::User(*user).require(Permission::ManageOrganization)?;
    if deliveries::redrive(&state.db, user.org_id, id, state.settings.job_lease()).await? {
        Ok(())
    } else {
        Err(NotificationError::NotFound("dead delivery"))
    }
}
