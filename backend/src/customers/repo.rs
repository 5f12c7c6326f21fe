use domain::api::customers::{
    ContactChannel, Coordinates, CustomerChanges, CustomerKind, CustomerSummary, CustomerView, NewCustomer, NewSite,
    SiteChanges, SiteView,
};
use domain::{Address, CustomerId, CustomerName, Email, OrgId, Phone, SiteId, Tag, TaxId};
use sqlx::PgConnection;
use std::collections::HashMap;
use uuid::Uuid;

/// What a search looks for, as `LIKE` patterns with the wildcards of the input escaped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Search {
    /// Matches names and site addresses, case-insensitively.
    text: String,
    /// Matches phone numbers; only when the query looks like (part of) a phone number.
    digits: Option<String>,
}

impl Search {
    /// `None` for a blank query. A query of digits and phone punctuation also searches phones:
    /// a whole number in any notation by its E.164 digits, a fragment by its digits.
    pub fn new(q: &str) -> Option<Self> {
        let q = q.trim();
        if q.is_empty() {
            return None;
        }
        let digits = Phone::search_digits(q);
        Some(Self { text: crate::db::like_contains(q), digits: digits.map(|d| format!("%{d}%")) })
    }
}

/// Which customers to read. Every read goes through [`select`], so there is one column list to keep.
#[derive(Debug, Default)]
pub struct CustomerFilter<'a> {
    pub id: Option<CustomerId>,
    pub include_archived: bool,
    /// Only these customers: the hits of [`search`].
    pub ids: Option<&'a [Uuid]>,
    /// Keyset: only ids after this one.
    pub after: Option<Uuid>,
    pub limit: i64,
}

struct CustomerRow {
    id: CustomerId,
    org_id: OrgId,
    kind: CustomerKind,
    name: CustomerName,
    phones: Vec<Phone>,
    email: Option<Email>,
    tax_id: Option<TaxId>,
    notes: Option<String>,
    preferred_channel: Option<ContactChannel>,
    archived_at: Option<chrono::DateTime<chrono::Utc>>,
    created_at: chrono::DateTime<chrono::Utc>,
    updated_at: chrono::DateTime<chrono::Utc>,
}

/// Customers with their sites, in id order.
pub async fn select(
    conn: &mut PgConnection,
    org: OrgId,
    filter: &CustomerFilter<'_>,
) -> sqlx::Result<Vec<CustomerView>> {
    let rows = sqlx::query_as!(
        CustomerRow,
        r#"SELECT c.id AS "id: CustomerId", c.org_id AS "org_id: OrgId", c.kind AS "kind: CustomerKind",
                  c.name AS "name: CustomerName", c.phones AS "phones: Vec<Phone>", c.email AS "email: Email",
                  c.tax_id AS "tax_id: TaxId", c.notes, c.preferred_channel AS "preferred_channel: ContactChannel",
                  c.archived_at, c.created_at, c.updated_at
           FROM customers c
           WHERE c.org_id = $1
             AND ($2::uuid IS NULL OR c.id = $2)
             AND ($3 OR c.archived_at IS NULL)
             AND ($4::uuid[] IS NULL OR c.id = ANY ($4))
             AND ($5::uuid IS NULL OR c.id > $5)
           ORDER BY c.id
           LIMIT $6"#,
        org.0,
        filter.id.map(|id| id.0),
        filter.include_archived,
        filter.ids,
        filter.after,
        filter.limit,
    )
    .fetch_all(&mut *conn)
    .await?;
    let ids: Vec<Uuid> = rows.iter().map(|row| row.id.0).collect();
    let mut sites: HashMap<CustomerId, Vec<SiteView>> = HashMap::new();
    for site in select_sites(conn, org, &ids, None).await? {
        sites.entry(site.customer_id).or_default().push(site);
    }
    Ok(rows
        .into_iter()
        .map(|row| CustomerView {
            sites: sites.remove(&row.id).unwrap_or_default(),
            id: row.id,
            org_id: row.org_id,
            kind: row.kind,
            name: row.name,
            phones: row.phones,
            email: row.email,
            tax_id: row.tax_id,
            notes: row.notes,
            preferred_channel: row.preferred_channel,
            archived_at: row.archived_at,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
        .collect())
}

/// Ids of the customers a search matches (by name, phone number, or the address of an active site),
/// in id order. Its own query, because a sub-select behind `$n IS NULL OR` cannot become a join:
/// here each arm is a separate scan of its trigram index.
pub async fn search(
    conn: &mut PgConnection,
    org: OrgId,
    search: &Search,
    include_archived: bool,
    after: Option<Uuid>,
    limit: i64,
) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar!(
        r#"SELECT c.id FROM customers c
           WHERE c.org_id = $1
             AND ($2 OR c.archived_at IS NULL)
             AND ($3::uuid IS NULL OR c.id > $3)
             AND c.id IN (
                    SELECT n.id FROM customers n WHERE n.org_id = $1 AND n.name ILIKE $4
                    UNION
                    SELECT p.id FROM customers p
                    WHERE $5::text IS NOT NULL AND p.org_id = $1 AND customer_phones_text(p.phones) LIKE $5
                    UNION
                    SELECT s.customer_id FROM customer_sites s
                    WHERE s.org_id = $1 AND s.archived_at IS NULL AND s.address ILIKE $4)
           ORDER BY c.id
           LIMIT $6"#,
        org.0,
        include_archived,
        after,
        search.text,
        search.digits,
        limit,
    )
    .fetch_all(conn)
    .await
}

pub async fn find(conn: &mut PgConnection, org: OrgId, id: CustomerId) -> sqlx::Result<Option<CustomerView>> {
    let filter = CustomerFilter { id: Some(id), include_archived: true, limit: 1, ..CustomerFilter::default() };
    Ok(select(conn, org, &filter).await?.into_iter().next())
}

/// Sites of the given customers (or one site of them), oldest first. Bounded: a customer has at
/// most `MAX_SITES` sites.
async fn select_sites(
    conn: &mut PgConnection,
    org: OrgId,
    customers: &[Uuid],
    site: Option<SiteId>,
) -> sqlx::Result<Vec<SiteView>> {
    sqlx::query_as!(
        SiteView,
        r#"SELECT id AS "id: SiteId", customer_id AS "customer_id: CustomerId", label,
                  address AS "address: Address", latitude, longitude, access_notes, zone AS "zone: Tag", archived_at,
                  created_at, updated_at
           FROM customer_sites
           WHERE org_id = $1 AND customer_id = ANY ($2) AND ($3::uuid IS NULL OR id = $3)
           ORDER BY id"#,
        org.0,
        customers,
        site.map(|id| id.0),
    )
    .fetch_all(conn)
    .await
}

pub async fn find_site(
    conn: &mut PgConnection,
    org: OrgId,
    customer: CustomerId,
    id: SiteId,
) -> sqlx::Result<Option<SiteView>> {
    Ok(select_sites(conn, org, &[customer.0], Some(id)).await?.into_iter().next())
}

/// Active customers of the organization with any of these phone numbers, except one.
pub async fn phone_matches(
    conn: &mut PgConnection,
    org: OrgId,
    phones: &[Phone],
    except: CustomerId,
    limit: i64,
) -> sqlx::Result<Vec<CustomerSummary>> {
    sqlx::query_as!(
        CustomerSummary,
        r#"SELECT id AS "id: CustomerId", kind AS "kind: CustomerKind", name AS "name: CustomerName",
                  phones AS "phones: Vec<Phone>"
           FROM customers
           WHERE org_id = $1 AND archived_at IS NULL AND phones && $2::text[] AND id <> $3
           ORDER BY id
           LIMIT $4"#,
        org.0,
        phones as &[Phone],
        except.0,
        limit,
    )
    .fetch_all(conn)
    .await
}

pub async fn insert(conn: &mut PgConnection, org: OrgId, id: CustomerId, customer: &NewCustomer) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO customers (id, org_id, kind, name, phones, email, tax_id, notes, preferred_channel)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        id.0,
        org.0,
        customer.kind as CustomerKind,
        customer.name.as_str(),
        &customer.phones as &[Phone],
        customer.email.as_ref().map(Email::as_str),
        customer.tax_id.as_ref().map(TaxId::as_str),
        customer.notes.as_deref(),
        customer.preferred_channel as Option<ContactChannel>,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Stores a new customer with their sites (a created customer, or a row of an import).
pub async fn insert_with_sites(
    conn: &mut PgConnection,
    org: OrgId,
    customer: &NewCustomer,
) -> sqlx::Result<CustomerId> {
    let id = CustomerId::new_v7();
    insert(conn, org, id, customer).await?;
    for site in &customer.sites {
        insert_site(conn, org, id, SiteId::new_v7(), site).await?;
    }
    Ok(id)
}

/// Applies changes; false when no such customer is in the organization.
pub async fn update(
    conn: &mut PgConnection,
    org: OrgId,
    id: CustomerId,
    changes: &CustomerChanges,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "UPDATE customers SET
            kind = COALESCE($3, kind),
            name = COALESCE($4, name),
            phones = COALESCE($5, phones),
            email = CASE WHEN $6 THEN $7 ELSE email END,
            tax_id = CASE WHEN $8 THEN $9 ELSE tax_id END,
            notes = CASE WHEN $10 THEN $11 ELSE notes END,
            preferred_channel = CASE WHEN $12 THEN $13 ELSE preferred_channel END,
            updated_at = now()
         WHERE org_id = $1 AND id = $2",
        org.0,
        id.0,
        changes.kind as Option<CustomerKind>,
        changes.name.as_ref().map(CustomerName::as_str),
        changes.phones.as_deref() as Option<&[Phone]>,
        changes.email.is_some(),
        changes.email.as_ref().and_then(|e| e.as_ref().map(Email::as_str)),
        changes.tax_id.is_some(),
        changes.tax_id.as_ref().and_then(|t| t.as_ref().map(TaxId::as_str)),
        changes.notes.is_some(),
        changes.notes.as_ref().and_then(Option::as_deref),
        changes.preferred_channel.is_some(),
        changes.preferred_channel.flatten() as Option<ContactChannel>,
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Archives (`true`) or restores a customer; false when it was already so, or is not found.
pub async fn set_archived(conn: &mut PgConnection, org: OrgId, id: CustomerId, archived: bool) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "UPDATE customers SET archived_at = CASE WHEN $3 THEN now() END, updated_at = now()
         WHERE org_id = $1 AND id = $2 AND (archived_at IS NULL) = $3",
        org.0,
        id.0,
        archived,
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Locks the customer row, so sites added at the same time are counted one after the other;
/// answers how many sites it has, or `None` when no such customer is in the organization.
pub async fn lock_and_count_sites(conn: &mut PgConnection, org: OrgId, id: CustomerId) -> sqlx::Result<Option<i64>> {
    let found = sqlx::query_scalar!("SELECT id FROM customers WHERE org_id = $1 AND id = $2 FOR UPDATE", org.0, id.0)
        .fetch_optional(&mut *conn)
        .await?;
    if found.is_none() {
        return Ok(None);
    }
    let count = sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!" FROM customer_sites WHERE org_id = $1 AND customer_id = $2"#,
        org.0,
        id.0,
    )
    .fetch_one(conn)
    .await?;
    Ok(Some(count))
}

pub async fn insert_site(
    conn: &mut PgConnection,
    org: OrgId,
    customer: CustomerId,
    id: SiteId,
    site: &NewSite,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO customer_sites (id, org_id, customer_id, label, address, latitude, longitude, access_notes, zone)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        id.0,
        org.0,
        customer.0,
        site.label.as_deref(),
        site.address.as_str(),
        site.coordinates.map(|c| c.latitude),
        site.coordinates.map(|c| c.longitude),
        site.access_notes.as_deref(),
        site.zone.as_ref().map(ToString::to_string),
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Applies changes to a site of the customer; false when there is no such site.
pub async fn update_site(
    conn: &mut PgConnection,
    org: OrgId,
    customer: CustomerId,
    id: SiteId,
    changes: &SiteChanges,
) -> sqlx::Result<bool> {
    let coordinates: Option<Coordinates> = changes.coordinates.flatten();
    let done = sqlx::query!(
        "UPDATE customer_sites SET
            label = CASE WHEN $4 THEN $5 ELSE label END,
            address = COALESCE($6, address),
            latitude = CASE WHEN $7 THEN $8 ELSE latitude END,
            longitude = CASE WHEN $7 THEN $9 ELSE longitude END,
            access_notes = CASE WHEN $10 THEN $11 ELSE access_notes END,
            zone = CASE WHEN $12 THEN $13 ELSE zone END,
            updated_at = now()
         WHERE org_id = $1 AND customer_id = $2 AND id = $3",
        org.0,
        customer.0,
        id.0,
        changes.label.is_some(),
        changes.label.as_ref().and_then(Option::as_deref),
        changes.address.as_ref().map(Address::as_str),
        changes.coordinates.is_some(),
        coordinates.map(|c| c.latitude),
        coordinates.map(|c| c.longitude),
        changes.access_notes.is_some(),
        changes.access_notes.as_ref().and_then(Option::as_deref),
        changes.zone.is_some(),
        changes.zone.as_ref().and_then(Option::as_ref).map(ToString::to_string),
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Archives a site of the customer; false when it was already archived or is not found.
pub async fn archive_site(conn: &mut PgConnection, org: OrgId, customer: CustomerId, id: SiteId) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "UPDATE customer_sites SET archived_at = now(), updated_at = now()
         WHERE org_id = $1 AND customer_id = $2 AND id = $3 AND archived_at IS NULL",
        org.0,
        customer.0,
        id.0,
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
