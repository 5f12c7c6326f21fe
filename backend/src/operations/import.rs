//! `import_customers`: customers from an uploaded CSV file. The file is checked whole when it is
//! uploaded (text, CSV, known columns, at most `MAX_IMPORT_ROWS` rows) and kept in storage; each
//! chunk validates its rows with the API's own `CreateCustomerRequest::parse`, inserts the valid
//! ones and records the others' errors, in one transaction with the checkpoint, so a resumed
//! import inserts no row twice.

use super::csv::{self, Record};
use super::repo::{Locked, Progress};
use super::runner::{Chunk, Memo};
use crate::audit::{self, By};
use crate::customers::repo as customers;
use crate::state::AppState;
use anyhow::Context;
use domain::api::customers::{ContactChannel, CreateCustomerRequest, CreateSiteRequest, CustomerKind, NewCustomer};
use domain::api::operations::{MAX_ROW_ERRORS, RowError};
use domain::{FieldError, FieldErrors, OperationId, OrgId};
use object_store::ObjectStoreExt;
use object_store::path::Path as StorePath;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::PgConnection;

/// The largest file `POST /operations/imports/customers` takes.
pub const IMPORT_MAX_BYTES: usize = 2 * 1024 * 1024;
/// The most rows (after the header) one import takes.
pub const MAX_IMPORT_ROWS: usize = 20_000;
/// Phone numbers in one cell are separated by this.
const PHONE_SEPARATOR: char = ';';

/// The columns a file may have, in the order of the documentation; only `name` is required.
const COLUMNS: [&str; 11] = [
    "kind",
    "name",
    "phones",
    "email",
    "tax_id",
    "notes",
    "preferred_channel",
    "site_label",
    "address",
    "access_notes",
    "zone",
];

/// Where an import's upload is kept until the import ends.
pub fn upload_key(org: OrgId, id: OperationId) -> StorePath {
    StorePath::from(format!("orgs/{org}/operations/{id}/upload.csv"))
}

/// A checked file: which column is which, and the rows after the header.
#[derive(Debug, Clone)]
pub struct Parsed {
    columns: Vec<&'static str>,
    rows: Vec<Record>,
}

impl Parsed {
    pub fn rows(&self) -> usize {
        self.rows.len()
    }
}

fn refuse(code: &str, message: impl Into<String>) -> FieldErrors {
    FieldErrors::single("file", FieldError::new(code, message))
}

/// Checks an uploaded file: UTF-8 text (a byte-order mark is allowed) without control characters
/// beyond line ends and tabs, CSV, a header of known columns naming `name`, and 1 to
/// `MAX_IMPORT_ROWS` rows. Every refusal is under `file`.
pub fn read(bytes: &[u8]) -> Result<Parsed, FieldErrors> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|_| refuse("not_text", "the file is not UTF-8 text"))?;
    if text.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        return Err(refuse("not_text", "the file holds control characters; it is not a CSV text file"));
    }
    let mut records = csv::parse(text).map_err(|error| refuse("malformed", error.to_string()))?.into_iter();
    let header = records.next().ok_or_else(|| refuse("empty", "the file is empty"))?;
    let mut columns = Vec::with_capacity(header.cells.len());
    for cell in &header.cells {
        let name = cell.trim().to_lowercase();
        let Some(column) = COLUMNS.iter().find(|known| **known == name) else {
            return Err(refuse("unknown_column", format!("unknown column {name:?}; known: {}", COLUMNS.join(", "))));
        };
        if columns.contains(column) {
            return Err(refuse("duplicate_column", format!("the column {name:?} appears twice")));
        }
        columns.push(*column);
    }
    if !columns.contains(&"name") {
        return Err(refuse("missing_column", "the header must name the column \"name\""));
    }
    let rows: Vec<Record> = records.collect();
    if rows.is_empty() {
        return Err(refuse("empty", "the file has a header and no rows"));
    }
    if rows.len() > MAX_IMPORT_ROWS {
        return Err(refuse("too_many_rows", format!("at most {MAX_IMPORT_ROWS} rows per file")));
    }
    Ok(Parsed { columns, rows })
}

/// A row as a customer: read as `POST /customers` would receive it and checked by the same
/// parser, or every problem found (a word outside its choices, a site field without an address,
/// and whatever the parser refused), each under the field it concerns.
fn customer(columns: &[&str], row: &Record) -> Result<NewCustomer, Vec<(String, FieldError)>> {
    if row.cells.len() != columns.len() {
        let message = format!("the row has {} cells; the header has {}", row.cells.len(), columns.len());
        return Err(vec![("row".into(), FieldError::new("column_count", message))]);
    }
    let cell = |name: &str| -> Option<String> {
        let index = columns.iter().position(|column| *column == name)?;
        Some(row.cells[index].trim().to_owned()).filter(|value| !value.is_empty())
    };
    let mut errors = Vec::new();
    // A refused kind is reported; `person` stands in so the rest of the row is checked too.
    let kind = cell("kind")
        .and_then(|raw| choice::<CustomerKind>(&raw, "kind", "must be person or company", &mut errors))
        .unwrap_or(CustomerKind::Person);
    let preferred_channel = cell("preferred_channel").and_then(|raw| {
        let message = "must be phone, sms, email, telegram or whatsapp";
        choice::<ContactChannel>(&raw, "preferred_channel", message, &mut errors)
    });
    let site_fields = [cell("site_label"), cell("access_notes"), cell("zone")];
    let sites = match cell("address") {
        Some(address) => {
            let [label, access_notes, zone] = site_fields;
            vec![CreateSiteRequest { label, address, latitude: None, longitude: None, access_notes, zone }]
        }
        None if site_fields.iter().any(Option::is_some) => {
            let message = "a site label, access notes or zone need an address";
            errors.push(("address".into(), FieldError::new("required", message)));
            Vec::new()
        }
        None => Vec::new(),
    };
    let phones = cell("phones")
        .map(|phones| phones.split(PHONE_SEPARATOR).map(|p| p.trim().to_owned()).filter(|p| !p.is_empty()).collect())
        .unwrap_or_default();
    let request = CreateCustomerRequest {
        kind,
        name: cell("name").unwrap_or_default(),
        phones,
        email: cell("email"),
        tax_id: cell("tax_id"),
        notes: cell("notes"),
        preferred_channel,
        sites,
    };
    match request.parse() {
        Ok(customer) if errors.is_empty() => Ok(customer),
        Ok(_) => Err(errors),
        Err(refused) => {
            for (field, field_errors) in refused.fields {
                errors.extend(field_errors.into_iter().map(|error| (field.clone(), error)));
            }
            Err(errors)
        }
    }
}

/// One of a fixed set of words (a serde enum), or an error under `field`.
fn choice<T: DeserializeOwned>(
    raw: &str,
    field: &str,
    message: &str,
    errors: &mut Vec<(String, FieldError)>,
) -> Option<T> {
    let parsed = serde_json::from_value(json!(raw.to_lowercase())).ok();
    if parsed.is_none() {
        errors.push((field.to_owned(), FieldError::new("invalid", message)));
    }
    parsed
}

/// The file's column for a field the customers API named (`phones[1]` → `phones`,
/// `sites[0].label` → `site_label`).
fn column_of(field: &str) -> String {
    match field.split_once('.') {
        Some((_, "label")) => "site_label".into(),
        Some((_, site_field)) => site_field.to_owned(),
        None => field.split('[').next().unwrap_or(field).to_owned(),
    }
}

/// Where the next chunk starts: the index of the next row after the header.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Checkpoint {
    next: usize,
}

/// The kept part of the row errors, and whether more were left out.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Outcome {
    #[serde(default)]
    errors: Vec<RowError>,
    #[serde(default)]
    errors_truncated: bool,
}

pub(super) async fn chunk(
    state: &AppState,
    tx: &mut PgConnection,
    operation: &Locked,
    memo: &mut Memo,
) -> anyhow::Result<Chunk> {
    let parsed = match memo.import.take() {
        Some(parsed) => parsed,
        None => {
            let key = upload_key(operation.org_id, operation.id);
            let bytes = match state.storage.get(&key).await {
                Ok(object) => object.bytes().await?,
                Err(object_store::Error::NotFound { .. }) => {
                    return Ok(Chunk::Failed("the uploaded file is gone".into()));
                }
                Err(error) => return Err(error.into()),
            };
            match read(&bytes) {
                Ok(parsed) => parsed,
                Err(errors) => return Ok(Chunk::Failed(format!("the uploaded file is refused: {errors}"))),
            }
        }
    };
    let checkpoint: Checkpoint = match &operation.checkpoint {
        Some(value) => serde_json::from_value(value.clone()).context("the import's checkpoint")?,
        None => Checkpoint::default(),
    };
    let mut outcome: Outcome = serde_json::from_value(operation.result.clone()).unwrap_or_default();
    let size = usize::try_from(state.settings.operation_chunk_rows).unwrap_or(1);
    let end = (checkpoint.next + size).min(parsed.rows.len());
    let (mut inserted, mut refused) = (0i64, 0i64);
    for row in parsed.rows.get(checkpoint.next..end).unwrap_or_default() {
        let checked = customer(&parsed.columns, row);
        match checked {
            Ok(customer) => {
                customers::insert_with_sites(tx, operation.org_id, &customer).await?;
                inserted += 1;
            }
            Err(errors) => {
                refused += 1;
                for (field, error) in errors {
                    if outcome.errors.len() < MAX_ROW_ERRORS {
                        let field = column_of(&field);
                        outcome.errors.push(RowError {
                            row: row.line,
                            field,
                            code: error.code,
                            message: error.message,
                        });
                    } else {
                        outcome.errors_truncated = true;
                    }
                }
            }
        }
    }
    let by = By { org_id: operation.org_id, user_id: Some(operation.created_by) };
    let details = json!({ "operation_id": operation.id, "rows": end - checkpoint.next, "inserted": inserted });
    audit::record(tx, by, "customers.imported", ("operation", operation.id.0), details).await?;
    let progress = Progress {
        checkpoint: serde_json::to_value(Checkpoint { next: end })?,
        done: inserted,
        failed: refused,
        total: None,
        result: Some(serde_json::to_value(&outcome)?),
    };
    let more = end < parsed.rows.len();
    // Kept for the job's next chunk, so the file is read and checked once per job.
    memo.import = Some(parsed);
    Ok(if more { Chunk::More(progress) } else { Chunk::Last(progress) })
}

/// Deletes an ended import's upload; a failure is logged (the file is then only wasted space).
pub(crate) async fn forget_upload(state: &AppState, org: OrgId, id: OperationId) {
    let key = upload_key(org, id);
    match state.storage.delete(&key).await {
        Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
        Err(error) => tracing::warn!(%error, key = %key, "deleting an import's upload failed"),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn binary_and_foreign_files_are_refused() {
        let code = |bytes: &[u8]| read(bytes).unwrap_err().fields["file"][0].code.clone();
        assert_eq!(code(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), "not_text");
        assert_eq!(code(b"name\nA\0B"), "not_text");
        assert_eq!(code(b"name,colour\nA,red"), "unknown_column");
        assert_eq!(code(b"email\na@b.test"), "missing_column");
        assert_eq!(code(b"name\n"), "empty");
        assert_eq!(code(b"name\n\"open"), "malformed");
        assert_eq!(read(b"\xEF\xBB\xBFName,Phones\nA,+7 916 555 01 01\n").unwrap().rows(), 1);
    }

    #[test]
    fn rows_become_customers_and_errors_name_their_column() {
        let file = "name,phones,kind,address,zone\nA,+7 916 555 01 01;+7 916 555 01 02,company,Moscow,north\n,x,alien,,north\n";
        let parsed = read(file.as_bytes()).unwrap();
        let good = customer(&parsed.columns, &parsed.rows[0]).unwrap();
        assert_eq!(good.phones.len(), 2);
        assert_eq!(good.kind, CustomerKind::Company);
        assert_eq!(good.sites[0].zone.as_ref().map(|zone| zone.as_str()), Some("north"));
        let bad = customer(&parsed.columns, &parsed.rows[1]).unwrap_err();
        let fields: Vec<&str> = bad.iter().map(|(field, _)| field.as_str()).collect();
        assert_eq!(fields, ["kind", "address", "name", "phones[0]"]);
        assert_eq!(column_of("phones[1]"), "phones");
        assert_eq!(column_of("sites[0].label"), "site_label");
        assert_eq!(column_of("sites[0].address"), "address");
    }
}
