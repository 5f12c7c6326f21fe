use super::repo::{self, NewPlan};
use super::rule::Recurrence;
use crate::actor::Actor;
use crate::orders::booking;
use crate::orders::repo::{self as orders_repo, NewEvent};
use crate::orders::service::{check_customer_site, insert_new, invalid};
use crate::orders::{OrderError, OrderError::Invalid};
use crate::scheduling::repo as schedule_repo;
use crate::state::AppState;
use crate::{audit, orgs};
use chrono::{DateTime, Duration, Utc};
use domain::api::orders::{EventChannel, NewOrder, OrderSource};
use domain::api::scheduling::{
    CreateRecurringPlanRequest, GenerationReport, RecurringPlanView, RecurringPlansQuery, UpdateRecurringPlanRequest,
};
use domain::orders::OrderStatus;
use domain::{
    FieldError, FieldErrors, OrderId, OrgId, Page, PageLimit, Permission, Priority, RecurringPlanId, TimeZone,
    Validator,
};
use serde_json::json;
use sqlx::Acquire;
use std::collections::HashSet;

pub async fn create(
    state: &AppState,
    actor: &Actor,
    request: &CreateRecurringPlanRequest,
) -> Result<RecurringPlanView, OrderError> {
    actor.require(Permission::ManageSchedule)?;
    let org = orgs::repo::find(&state.db, actor.org_id()).await?.ok_or(OrderError::NotFound)?;
    let mut v = Validator::default();
    let title = v.check("title", plan_title(&request.title));
    let time_zone = match &request.time_zone {
        Some(raw) => v.check("time_zone", TimeZone::parse(raw)),
        None => Some(org.time_zone.clone()),
    };
    let recurrence = time_zone
        .as_ref()
        .and_then(|tz| v.check("rrule", Recurrence::parse(&request.rrule, request.starts_local, tz.tz())));
    if request.duration_minutes.is_some_and(|d| !(1..=1440).contains(&d)) {
        v.add("duration_minutes", FieldError::new("out_of_range", "must be 1 to 1440 minutes"));
    }
    let (title, time_zone) = v.finish(|| Some((title?, recurrence.and(time_zone)?))).map_err(Invalid)?;

    let mut tx = state.db.begin().await?;
    let priority = request.priority.unwrap_or(Priority::Normal);
    check_customer_site(&mut tx, org.id, request.customer_id, request.site_id).await?;
    let defaults = orders_repo::service_type_defaults(&mut *tx, org.id, request.service_type_id, priority)
        .await?
        .ok_or_else(|| invalid("service_type_id", "unknown_service_type", "no such service type"))?;
    if let Some(technician) = request.technician_id {
        booking::technician(&mut tx, org.id, technician).await?;
    }
    let plan = NewPlan {
        customer_id: request.customer_id,
        site_id: request.site_id,
        service_type_id: request.service_type_id,
        technician_id: request.technician_id,
        title,
        priority,
        rrule: request.rrule.trim().trim_start_matches("RRULE:"),
        starts_local: request.starts_local,
        time_zone: &time_zone,
        duration_minutes: request.duration_minutes.unwrap_or(defaults.duration_minutes),
    };
    let id = repo::insert(&mut tx, org.id, &plan).await?;
    audit::record(&mut tx, actor, "recurring_plan.created", ("recurring_plan", id.0), json!({ "rrule": plan.rrule }))
        .await?;
    let view = find(&mut *tx, org.id, id).await?;
    tx.commit().await?;
    Ok(view)
}

/// A plan's title: 1 to 200 characters once trimmed.
fn plan_title(raw: &str) -> Result<&str, FieldError> {
    let title = raw.trim();
    if !(1..=200).contains(&title.chars().count()) {
        return Err(FieldError::new("length", "must have 1 to 200 characters"));
    }
    Ok(title)
}

async fn find(db: impl sqlx::PgExecutor<'_>, org: OrgId, id: RecurringPlanId) -> Result<RecurringPlanView, OrderError> {
    repo::select(db, org, Some(id), None, 1).await?.into_iter().next().ok_or(OrderError::NotFound)
}

pub async fn get(state: &AppState, actor: &Actor, id: RecurringPlanId) -> Result<RecurringPlanView, OrderError> {
    actor.require(Permission::ManageSchedule)?;
    find(&state.db, actor.org_id(), id).await
}

pub async fn list(
    state: &AppState,
    actor: &Actor,
    query: &RecurringPlansQuery,
) -> Result<Page<RecurringPlanView>, OrderError> {
    actor.require(Permission::ManageSchedule)?;
    let limit = PageLimit::new(query.limit);
    let rows = repo::select(&state.db, actor.org_id(), None, query.cursor.map(|c| c.0), limit.probe()).await?;
    Ok(Page::from_probe(rows, limit, |p| p.id.0))
}

pub async fn update(
    state: &AppState,
    actor: &Actor,
    id: RecurringPlanId,
    request: &UpdateRecurringPlanRequest,
) -> Result<RecurringPlanView, OrderError> {
    actor.require(Permission::ManageSchedule)?;
    let title =
        request.title.as_deref().map(plan_title).transpose().map_err(|e| Invalid(FieldErrors::single("title", e)))?;
    let org = actor.org_id();
    let mut tx = state.db.begin().await?;
    if let Some(Some(technician)) = request.technician_id {
        booking::technician(&mut tx, org, technician).await?;
    }
    if !repo::update(&mut tx, org, id, request.active, request.technician_id, title).await? {
        return Err(OrderError::NotFound);
    }
    audit::record(
        &mut tx,
        actor,
        "recurring_plan.updated",
        ("recurring_plan", id.0),
        json!({ "active": request.active }),
    )
    .await?;
    let view = find(&mut *tx, org, id).await?;
    tx.commit().await?;
    Ok(view)
}

/// Runs the generator for the caller's organization now.
pub async fn generate_now(state: &AppState, actor: &Actor) -> Result<GenerationReport, OrderError> {
    actor.require(Permission::ManageSchedule)?;
    generate(state, Some(actor.org_id()), Utc::now()).await
}

/// Creates the orders of every active plan's occurrences from `now` to its organization's horizon.
/// Each plan is worked on under its row lock and each occurrence is recorded with its order, so
/// running this any number of times, even concurrently, creates each order once.
pub async fn generate(
    state: &AppState,
    org: Option<OrgId>,
    now: DateTime<Utc>,
) -> Result<GenerationReport, OrderError> {
    let mut report = GenerationReport::default();
    for (org, plan, horizon_days) in repo::active(&state.db, org).await? {
        let mut tx = state.db.begin().await?;
        if !repo::lock(&mut tx, plan).await? {
            continue;
        }
        let view = find(&mut *tx, org, plan).await?;
        let recurrence = Recurrence::parse(&view.rrule, view.starts_local, view.time_zone.tz())
            .map_err(|e| OrderError::Internal(anyhow::anyhow!("stored rule of plan {plan} broke: {}", e.message)))?;
        let done: HashSet<DateTime<Utc>> = repo::generated_since(&mut tx, plan, now).await?.into_iter().collect();
        let actor = Actor::System { org_id: org };
        for occurs_at in recurrence.between(now, now + Duration::days(i64::from(horizon_days))) {
            if done.contains(&occurs_at) {
                continue;
            }
            let window = (occurs_at, occurs_at + Duration::minutes(i64::from(view.duration_minutes)));
            let new = NewOrder {
                customer_id: view.customer_id,
                site_id: view.site_id,
                service_type_id: view.service_type_id,
                title: view.title.clone(),
                description: String::new(),
                priority: view.priority,
                window: Some(window),
                estimated_cost_minor: None,
            };
            let order = insert_new(&mut tx, &actor, &new, OrderSource::Recurring, EventChannel::System).await?;
            repo::record_occurrence(&mut tx, org, plan, occurs_at, order).await?;
            report.orders_created += 1;
            if let Some(technician) = view.technician_id
                && !assign_preferred(&mut tx, org, order, technician, window).await?
            {
                report.left_unassigned += 1;
            }
        }
        tx.commit().await?;
        report.plans += 1;
    }
    Ok(report)
}

/// Books the plan's technician for the new order when they work then and are free; otherwise the
/// order waits for a dispatcher. A savepoint keeps a refused booking from undoing the order.
async fn assign_preferred(
    conn: &mut sqlx::PgConnection,
    org: OrgId,
    order: OrderId,
    technician: domain::UserId,
    window: (DateTime<Utc>, DateTime<Utc>),
) -> Result<bool, OrderError> {
    let mut savepoint = conn.begin().await?;
    match booking::check_available(&mut savepoint, org, technician, window, false).await {
        Ok(_) => {}
        Err(OrderError::Unavailable(_) | Invalid(_)) => return Ok(false),
        Err(error) => return Err(error),
    }
    orders_repo::apply_transition(&mut savepoint, org, order, OrderStatus::Assigned, None, None).await?;
    match schedule_repo::set_booking(&mut savepoint, org, order, technician, window, false).await {
        Ok(()) => {}
        Err(error) if booking::is_double_booking(&error) => {
            savepoint.rollback().await?;
            return Ok(false);
        }
        Err(error) => return Err(error.into()),
    }
    let event = NewEvent {
        org,
        order,
        technician: Some(technician),
        kind: "assign",
        actor: None,
        channel: EventChannel::System,
        payload: json!({ "from": OrderStatus::New, "to": OrderStatus::Assigned, "technician_id": technician }),
    };
    orders_repo::insert_event(&mut savepoint, &event).await?;
    savepoint.commit().await?;
    Ok(true)
}
