//! SQL of an order's work: its checklist, the photo rules it keeps, and the work report.

use chrono::{DateTime, Utc};
use domain::api::orders::{ChecklistItemChange, ChecklistItemState, ChecklistItemView, WorkReport};
use domain::orders::report::ReportTotals;
use domain::{AttachmentId, Currency, OrderId, OrgId, UserId};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

/// Copies each order's service type checklist and photo rules into the order, so later template
/// edits leave the order's rules alone. An order written already completed (the seeded past) gets
/// its checklist done by its technician when it was completed.
pub async fn copy_work_rules(conn: &mut PgConnection, org: OrgId, orders: &[Uuid]) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO order_checklist_items (org_id, order_id, item_id, position, label, required, state, updated_by,
                                            updated_at)
         SELECT o.org_id, o.id, item ->> 'id', (t.ordinality - 1)::integer, item ->> 'label',
                COALESCE((item ->> 'required')::boolean, true),
                CASE WHEN o.completed_at IS NULL THEN 'pending' ELSE 'done' END::checklist_item_state,
                CASE WHEN o.completed_at IS NOT NULL THEN o.technician_id END, COALESCE(o.completed_at, now())
         FROM orders o JOIN service_types s ON s.org_id = o.org_id AND s.id = o.service_type_id,
              jsonb_array_elements(s.checklist) WITH ORDINALITY AS t (item, ordinality)
         WHERE o.org_id = $1 AND o.id = ANY($2)",
        org.0,
        orders,
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "UPDATE orders o SET required_photos_before = s.required_photos_before,
                             required_photos_after = s.required_photos_after
         FROM service_types s
         WHERE o.org_id = $1 AND o.id = ANY($2) AND s.org_id = o.org_id AND s.id = o.service_type_id",
        org.0,
        orders,
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn checklist(db: impl PgExecutor<'_>, org: OrgId, order: OrderId) -> sqlx::Result<Vec<ChecklistItemView>> {
    sqlx::query_as!(
        ChecklistItemView,
        r#"SELECT item_id, position, label, required, state AS "state: ChecklistItemState", note,
                  updated_by AS "updated_by: UserId", updated_at
           FROM order_checklist_items WHERE org_id = $1 AND order_id = $2
           ORDER BY position"#,
        org.0,
        order.0,
    )
    .fetch_all(db)
    .await
}

/// Sets one item's state and note; `None` when the order has no such item.
pub async fn update_checklist_item(
    conn: &mut PgConnection,
    org: OrgId,
    order: OrderId,
    item_id: &str,
    change: &ChecklistItemChange,
    by: Option<UserId>,
) -> sqlx::Result<Option<ChecklistItemView>> {
    sqlx::query_as!(
        ChecklistItemView,
        r#"UPDATE order_checklist_items SET state = $4, note = $5, updated_by = $6, updated_at = now()
           WHERE org_id = $1 AND order_id = $2 AND item_id = $3
           RETURNING item_id, position, label, required, state AS "state: ChecklistItemState", note,
                     updated_by AS "updated_by: UserId", updated_at"#,
        org.0,
        order.0,
        item_id,
        change.state as ChecklistItemState,
        change.note.as_deref(),
        by.map(|id| id.0),
    )
    .fetch_optional(conn)
    .await
}

/// What completing the order needs and has, apart from its checklist.
#[derive(Debug)]
pub struct ProofCounts {
    pub required_photos_before: i32,
    pub required_photos_after: i32,
    pub photos_before: i64,
    pub photos_after: i64,
    /// The assigned technician's; 0 when they have no profile.
    pub hourly_rate_minor: i64,
}

pub async fn proof_counts(conn: &mut PgConnection, org: OrgId, order: OrderId) -> sqlx::Result<Option<ProofCounts>> {
    sqlx::query_as!(
        ProofCounts,
        r#"SELECT o.required_photos_before, o.required_photos_after,
                  (SELECT count(*) FROM order_attachments a
                   WHERE a.org_id = o.org_id AND a.order_id = o.id AND a.kind = 'before') AS "photos_before!",
                  (SELECT count(*) FROM order_attachments a
                   WHERE a.org_id = o.org_id AND a.order_id = o.id AND a.kind = 'after') AS "photos_after!",
                  COALESCE(p.hourly_rate_minor, 0) AS "hourly_rate_minor!"
           FROM orders o
           LEFT JOIN technician_profiles p ON p.org_id = o.org_id AND p.user_id = o.technician_id
           WHERE o.org_id = $1 AND o.id = $2"#,
        org.0,
        order.0,
    )
    .fetch_optional(conn)
    .await
}

/// Whether the attachment is a signature attached to this order.
pub async fn is_signature_of(
    conn: &mut PgConnection,
    org: OrgId,
    order: OrderId,
    attachment: AttachmentId,
) -> sqlx::Result<bool> {
    let found = sqlx::query_scalar!(
        "SELECT id FROM order_attachments WHERE org_id = $1 AND order_id = $2 AND id = $3 AND kind = 'signature'",
        org.0,
        order.0,
        attachment.0,
    )
    .fetch_optional(conn)
    .await?;
    Ok(found.is_some())
}

/// A work report to store with its computed totals.
#[derive(Debug)]
pub struct StoredReport<'a> {
    pub order: OrderId,
    pub report: &'a WorkReport,
    pub totals: &'a ReportTotals,
    pub by: Option<UserId>,
    pub at: DateTime<Utc>,
}

/// Stores reports and their parts, replacing those of an earlier `complete` of the same orders.
pub async fn store_reports(
    conn: &mut PgConnection,
    org: OrgId,
    currency: &Currency,
    reports: &[StoredReport<'_>],
) -> sqlx::Result<()> {
    let orders: Vec<Uuid> = reports.iter().map(|r| r.order.0).collect();
    let summaries: Vec<&str> = reports.iter().map(|r| r.report.summary.as_str()).collect();
    let labour: Vec<i32> = reports.iter().map(|r| i32::try_from(r.report.labour_minutes).unwrap_or(i32::MAX)).collect();
    let parts_totals: Vec<i64> = reports.iter().map(|r| r.totals.parts_minor).collect();
    let labour_totals: Vec<i64> = reports.iter().map(|r| r.totals.labour_minor).collect();
    let totals: Vec<i64> = reports.iter().map(|r| r.totals.total_minor).collect();
    let signatures: Vec<Option<Uuid>> =
        reports.iter().map(|r| r.report.signature_attachment_id.map(|id| id.0)).collect();
    let by: Vec<Option<Uuid>> = reports.iter().map(|r| r.by.map(|id| id.0)).collect();
    let at: Vec<DateTime<Utc>> = reports.iter().map(|r| r.at).collect();
    sqlx::query!(
        "INSERT INTO order_reports (order_id, org_id, summary, labour_minutes, parts_total_minor, labour_total_minor,
                                    total_minor, currency, signature_attachment_id, submitted_by, submitted_at)
         SELECT u.order_id, $1, u.summary, u.labour, u.parts_total, u.labour_total, u.total, $2, u.signature, u.by, u.at
         FROM UNNEST($3::uuid[], $4::text[], $5::int[], $6::bigint[], $7::bigint[], $8::bigint[], $9::uuid[],
                     $10::uuid[], $11::timestamptz[])
              AS u(order_id, summary, labour, parts_total, labour_total, total, signature, by, at)
         ON CONFLICT (order_id) DO UPDATE SET
            summary = EXCLUDED.summary, labour_minutes = EXCLUDED.labour_minutes,
            parts_total_minor = EXCLUDED.parts_total_minor, labour_total_minor = EXCLUDED.labour_total_minor,
            total_minor = EXCLUDED.total_minor, currency = EXCLUDED.currency,
            signature_attachment_id = EXCLUDED.signature_attachment_id,
            submitted_by = EXCLUDED.submitted_by, submitted_at = EXCLUDED.submitted_at",
        org.0,
        currency.as_str(),
        &orders,
        &summaries as &[&str],
        &labour,
        &parts_totals,
        &labour_totals,
        &totals,
        &signatures as &[Option<Uuid>],
        &by as &[Option<Uuid>],
        &at,
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!("DELETE FROM order_report_parts WHERE org_id = $1 AND order_id = ANY($2)", org.0, &orders)
        .execute(&mut *conn)
        .await?;
    let mut part_orders = Vec::new();
    let mut positions = Vec::new();
    let mut names = Vec::new();
    let mut quantities = Vec::new();
    let mut prices = Vec::new();
    let mut line_totals = Vec::new();
    for stored in reports {
        for (position, (part, line_total)) in
            stored.report.parts.iter().zip(&stored.totals.line_totals_minor).enumerate()
        {
            part_orders.push(stored.order.0);
            positions.push(i32::try_from(position).unwrap_or(i32::MAX));
            names.push(part.name.as_str());
            quantities.push(part.quantity_thousandths);
            prices.push(part.unit_price_minor);
            line_totals.push(*line_total);
        }
    }
    sqlx::query!(
        "INSERT INTO order_report_parts (org_id, order_id, position, name, quantity, unit_price_minor, line_total_minor)
         SELECT $1, t.order_id, t.position, t.name, t.quantity::numeric / 1000, t.price, t.line_total
         FROM unnest($2::uuid[], $3::int[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[])
              AS t (order_id, position, name, quantity, price, line_total)",
        org.0,
        &part_orders,
        &positions,
        &names as &[&str],
        &quantities,
        &prices,
        &line_totals,
    )
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug)]
pub struct ReportRow {
    pub summary: String,
    pub labour_minutes: i32,
    pub parts_total_minor: i64,
    pub labour_total_minor: i64,
    pub total_minor: i64,
    pub currency: Currency,
    pub signature_attachment_id: Option<AttachmentId>,
    pub submitted_by: Option<UserId>,
    pub submitted_at: DateTime<Utc>,
}

pub async fn report(db: impl PgExecutor<'_>, org: OrgId, order: OrderId) -> sqlx::Result<Option<ReportRow>> {
    sqlx::query_as!(
        ReportRow,
        r#"SELECT summary, labour_minutes, parts_total_minor, labour_total_minor, total_minor,
                  currency AS "currency: Currency", signature_attachment_id AS "signature_attachment_id: AttachmentId",
                  submitted_by AS "submitted_by: UserId", submitted_at
           FROM order_reports WHERE org_id = $1 AND order_id = $2"#,
        org.0,
        order.0,
    )
    .fetch_optional(db)
    .await
}

#[derive(Debug)]
pub struct PartRow {
    pub name: String,
    pub quantity_thousandths: i64,
    pub unit_price_minor: i64,
    pub line_total_minor: i64,
}

/// A report's part lines in the order they were written (at most 100).
pub async fn report_parts(db: impl PgExecutor<'_>, org: OrgId, order: OrderId) -> sqlx::Result<Vec<PartRow>> {
    sqlx::query_as!(
        PartRow,
        r#"SELECT name, (quantity * 1000)::bigint AS "quantity_thousandths!", unit_price_minor, line_total_minor
           FROM order_report_parts WHERE org_id = $1 AND order_id = $2
           ORDER BY position"#,
        org.0,
        order.0,
    )
    .fetch_all(db)
    .await
}
