use super::patch;
use crate::{
    Address, Cursor, CustomerId, CustomerName, Email, FieldError, FieldErrors, OrgId, Phone, SiteId, Tag, TaxId,
    Validator,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Whether a customer is a private person or a company.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "sqlx", derive(sqlx::Type), sqlx(type_name = "customer_kind", rename_all = "snake_case"))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CustomerKind {
    Person,
    Company,
}

/// How a customer prefers to be contacted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "sqlx", derive(sqlx::Type), sqlx(type_name = "contact_channel", rename_all = "snake_case"))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ContactChannel {
    Phone,
    Sms,
    Email,
    Telegram,
    Whatsapp,
}

/// At most this many phone numbers per customer.
pub const MAX_PHONES: usize = 10;
/// At most this many sites (archived ones included) per customer, so a customer with its sites is a
/// bounded answer.
pub const MAX_SITES: usize = 100;

/// A customer with all their sites, archived ones included (each says so), oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CustomerView {
    pub id: CustomerId,
    pub org_id: OrgId,
    pub kind: CustomerKind,
    pub name: CustomerName,
    /// E.164.
    pub phones: Vec<Phone>,
    pub email: Option<Email>,
    pub tax_id: Option<TaxId>,
    pub notes: Option<String>,
    pub preferred_channel: Option<ContactChannel>,
    /// Set while the customer is archived: hidden from lists, still readable by id.
    pub archived_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub sites: Vec<SiteView>,
}

/// A place where work is done for a customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SiteView {
    pub id: SiteId,
    pub customer_id: CustomerId,
    /// A short name people use for it ("Office", "Dacha").
    pub label: Option<String>,
    pub address: Address,
    /// Both or neither.
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// Entrance, door code, floor, parking, dog.
    pub access_notes: Option<String>,
    /// The territory it lies in; technicians serve zones.
    pub zone: Option<Tag>,
    pub archived_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Just enough of a customer to recognize them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CustomerSummary {
    pub id: CustomerId,
    pub kind: CustomerKind,
    pub name: CustomerName,
    pub phones: Vec<Phone>,
}

/// Answer of `POST /customers`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedCustomer {
    pub customer: CustomerView,
    /// Active customers of the organization that already had one of the new customer's phone
    /// numbers (at most 10): likely the same customer entered twice. A hint; nothing was refused.
    pub phone_matches: Vec<CustomerSummary>,
}

/// `POST /customers`, optionally with sites.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateCustomerRequest {
    pub kind: CustomerKind,
    pub name: String,
    /// Any common notation; stored in E.164. Duplicates collapse.
    #[serde(default)]
    pub phones: Vec<String>,
    pub email: Option<String>,
    pub tax_id: Option<String>,
    pub notes: Option<String>,
    pub preferred_channel: Option<ContactChannel>,
    #[serde(default)]
    pub sites: Vec<CreateSiteRequest>,
}

/// `POST /customers/{id}/sites`, and each of `sites` in `POST /customers`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateSiteRequest {
    pub label: Option<String>,
    pub address: String,
    /// -90 to 90; given together with `longitude` or not at all.
    pub latitude: Option<f64>,
    /// -180 to 180.
    pub longitude: Option<f64>,
    pub access_notes: Option<String>,
    pub zone: Option<String>,
}

/// `PATCH /customers/{id}`: absent fields stay as they are, `null` clears an optional one.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateCustomerRequest {
    pub kind: Option<CustomerKind>,
    pub name: Option<String>,
    /// Replaces the whole list.
    pub phones: Option<Vec<String>>,
    #[serde(default, deserialize_with = "patch")]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch")]
    pub tax_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch")]
    pub notes: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch")]
    pub preferred_channel: Option<Option<ContactChannel>>,
}

/// `PATCH /customers/{id}/sites/{site_id}`: absent fields stay, `null` clears. Coordinates change
/// together: both given, both `null`, or both absent.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateSiteRequest {
    #[serde(default, deserialize_with = "patch")]
    pub label: Option<Option<String>>,
    pub address: Option<String>,
    #[serde(default, deserialize_with = "patch")]
    pub latitude: Option<Option<f64>>,
    #[serde(default, deserialize_with = "patch")]
    pub longitude: Option<Option<f64>>,
    #[serde(default, deserialize_with = "patch")]
    pub access_notes: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch")]
    pub zone: Option<Option<String>>,
}

/// Query of `GET /customers`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams, utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct ListCustomersQuery {
    /// Part of a name, of a phone number (digits in any notation) or of a site's address,
    /// case-insensitively.
    pub q: Option<String>,
    /// Archived customers too (default: only active ones).
    #[serde(default)]
    pub include_archived: bool,
    pub cursor: Option<Cursor>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<u32>,
}

/// A point on the globe in degrees (WGS 84).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Coordinates {
    pub latitude: f64,
    pub longitude: f64,
}

/// A validated new customer.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCustomer {
    pub kind: CustomerKind,
    pub name: CustomerName,
    pub phones: Vec<Phone>,
    pub email: Option<Email>,
    pub tax_id: Option<TaxId>,
    pub notes: Option<String>,
    pub preferred_channel: Option<ContactChannel>,
    pub sites: Vec<NewSite>,
}

/// A validated new site.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSite {
    pub label: Option<String>,
    pub address: Address,
    pub coordinates: Option<Coordinates>,
    pub access_notes: Option<String>,
    pub zone: Option<Tag>,
}

/// Validated customer changes; `None` leaves a field as it is, `Some(None)` clears it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CustomerChanges {
    pub kind: Option<CustomerKind>,
    pub name: Option<CustomerName>,
    pub phones: Option<Vec<Phone>>,
    pub email: Option<Option<Email>>,
    pub tax_id: Option<Option<TaxId>>,
    pub notes: Option<Option<String>>,
    pub preferred_channel: Option<Option<ContactChannel>>,
}

/// Validated site changes; `None` leaves a field as it is, `Some(None)` clears it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SiteChanges {
    pub label: Option<Option<String>>,
    pub address: Option<Address>,
    pub coordinates: Option<Option<Coordinates>>,
    pub access_notes: Option<Option<String>>,
    pub zone: Option<Option<Tag>>,
}

const MAX_NOTES: usize = 4000;
const MAX_ACCESS_NOTES: usize = 2000;
const MAX_LABEL: usize = 80;

/// Free text that may span lines: trimmed, blank means none.
fn free_text(raw: &str, max: usize) -> Result<Option<String>, FieldError> {
    let value = raw.trim();
    if value.chars().count() > max {
        return Err(FieldError::new("too_long", format!("must have at most {max} characters")));
    }
    if value.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\t')) {
        return Err(FieldError::new("invalid_characters", "must not contain control characters"));
    }
    Ok((!value.is_empty()).then(|| value.to_owned()))
}

/// A one-line label: trimmed, blank means none.
fn label(raw: &str) -> Result<Option<String>, FieldError> {
    let value = free_text(raw, MAX_LABEL)?;
    if value.as_deref().is_some_and(|v| v.contains(['\n', '\t'])) {
        return Err(FieldError::new("invalid_characters", "must be one line"));
    }
    Ok(value)
}

fn parse_phones(v: &mut Validator, raw: &[String]) -> Option<Vec<Phone>> {
    if raw.len() > MAX_PHONES {
        v.add("phones", FieldError::new("too_many", format!("at most {MAX_PHONES} phone numbers")));
        return None;
    }
    let mut phones: Vec<Phone> = Vec::with_capacity(raw.len());
    let mut ok = true;
    for (index, item) in raw.iter().enumerate() {
        match v.check(&format!("phones[{index}]"), Phone::parse(item)) {
            Some(phone) if !phones.contains(&phone) => phones.push(phone),
            Some(_) => {}
            None => ok = false,
        }
    }
    ok.then_some(phones)
}

fn check_range(value: f64, range: std::ops::RangeInclusive<f64>) -> Result<f64, FieldError> {
    if range.contains(&value) {
        Ok(value)
    } else {
        Err(FieldError::new("out_of_range", format!("must be between {} and {}", range.start(), range.end())))
    }
}

fn incomplete() -> FieldError {
    FieldError::new("coordinates_incomplete", "latitude and longitude are given together, or neither")
}

/// Both coordinates or neither; `prefix` is the path of the object holding them (`sites[0].`).
fn parse_coordinates(
    v: &mut Validator,
    prefix: &str,
    latitude: Option<f64>,
    longitude: Option<f64>,
) -> Option<Option<Coordinates>> {
    let lat = v.check_opt(&format!("{prefix}latitude"), latitude.map(|l| check_range(l, -90.0..=90.0)));
    let lon = v.check_opt(&format!("{prefix}longitude"), longitude.map(|l| check_range(l, -180.0..=180.0)));
    match (lat?, lon?) {
        (Some(latitude), Some(longitude)) => Some(Some(Coordinates { latitude, longitude })),
        (None, None) => Some(None),
        (Some(_), None) => {
            v.add(&format!("{prefix}longitude"), incomplete());
            None
        }
        (None, Some(_)) => {
            v.add(&format!("{prefix}latitude"), incomplete());
            None
        }
    }
}

fn parse_site(v: &mut Validator, prefix: &str, req: &CreateSiteRequest) -> Option<NewSite> {
    let label = v.check_opt(&format!("{prefix}label"), req.label.as_deref().map(label));
    let address = v.check(&format!("{prefix}address"), Address::parse(&req.address));
    let coordinates = parse_coordinates(v, prefix, req.latitude, req.longitude);
    let access_notes = v.check_opt(
        &format!("{prefix}access_notes"),
        req.access_notes.as_deref().map(|n| free_text(n, MAX_ACCESS_NOTES)),
    );
    let zone = v.check_opt(&format!("{prefix}zone"), req.zone.as_deref().map(Tag::parse));
    Some(NewSite {
        label: label?.flatten(),
        address: address?,
        coordinates: coordinates?,
        access_notes: access_notes?.flatten(),
        zone: zone?,
    })
}

impl CreateCustomerRequest {
    pub fn parse(&self) -> Result<NewCustomer, FieldErrors> {
        let mut v = Validator::default();
        let name = v.check("name", CustomerName::parse(&self.name));
        let phones = parse_phones(&mut v, &self.phones);
        let email = v.check_opt("email", self.email.as_deref().map(Email::parse));
        let tax_id = v.check_opt("tax_id", self.tax_id.as_deref().map(TaxId::parse));
        let notes = v.check_opt("notes", self.notes.as_deref().map(|n| free_text(n, MAX_NOTES)));
        let sites = if self.sites.len() > MAX_SITES {
            v.add("sites", FieldError::new("too_many", format!("at most {MAX_SITES} sites")));
            None
        } else {
            let parsed: Vec<Option<NewSite>> = self
                .sites
                .iter()
                .enumerate()
                .map(|(index, site)| parse_site(&mut v, &format!("sites[{index}]."), site))
                .collect();
            parsed.into_iter().collect::<Option<Vec<NewSite>>>()
        };
        v.finish(|| {
            Some(NewCustomer {
                kind: self.kind,
                name: name?,
                phones: phones?,
                email: email?,
                tax_id: tax_id?,
                notes: notes?.flatten(),
                preferred_channel: self.preferred_channel,
                sites: sites?,
            })
        })
    }
}

impl CreateSiteRequest {
    pub fn parse(&self) -> Result<NewSite, FieldErrors> {
        let mut v = Validator::default();
        let site = parse_site(&mut v, "", self);
        v.finish(|| site)
    }
}

impl UpdateCustomerRequest {
    pub fn parse(&self) -> Result<CustomerChanges, FieldErrors> {
        let mut v = Validator::default();
        let name = v.check_opt("name", self.name.as_deref().map(CustomerName::parse));
        let phones = match &self.phones {
            None => Some(None),
            Some(raw) => parse_phones(&mut v, raw).map(Some),
        };
        let email = patch_field(&mut v, "email", self.email.as_ref(), |raw| Email::parse(raw).map(Some));
        let tax_id = patch_field(&mut v, "tax_id", self.tax_id.as_ref(), |raw| TaxId::parse(raw).map(Some));
        let notes = patch_field(&mut v, "notes", self.notes.as_ref(), |raw| free_text(raw, MAX_NOTES));
        v.finish(|| {
            Some(CustomerChanges {
                kind: self.kind,
                name: name?,
                phones: phones?,
                email: email?,
                tax_id: tax_id?,
                notes: notes?,
                preferred_channel: self.preferred_channel,
            })
        })
    }
}

impl UpdateSiteRequest {
    pub fn parse(&self) -> Result<SiteChanges, FieldErrors> {
        let mut v = Validator::default();
        let label = patch_field(&mut v, "label", self.label.as_ref(), label);
        let address = v.check_opt("address", self.address.as_deref().map(Address::parse));
        let coordinates = match (self.latitude, self.longitude) {
            (None, None) => Some(None),
            (Some(None), None) => {
                v.add("longitude", incomplete());
                None
            }
            (None, Some(None)) => {
                v.add("latitude", incomplete());
                None
            }
            (latitude, longitude) => parse_coordinates(&mut v, "", latitude.flatten(), longitude.flatten()).map(Some),
        };
        let access_notes =
            patch_field(&mut v, "access_notes", self.access_notes.as_ref(), |raw| free_text(raw, MAX_ACCESS_NOTES));
        let zone = patch_field(&mut v, "zone", self.zone.as_ref(), |raw| Tag::parse(raw).map(Some));
        v.finish(|| {
            Some(SiteChanges {
                label: label?,
                address: address?,
                coordinates: coordinates?,
                access_notes: access_notes?,
                zone: zone?,
            })
        })
    }
}

/// A PATCH field that may be cleared: absent stays absent, `null` clears, a value is parsed
/// (and may itself mean "none", like blank notes).
fn patch_field<T>(
    v: &mut Validator,
    field: &str,
    raw: Option<&Option<String>>,
    parse: impl FnOnce(&str) -> Result<Option<T>, FieldError>,
) -> Option<Option<Option<T>>> {
    match raw {
        None => Some(None),
        Some(None) => Some(Some(None)),
        Some(Some(raw)) => v.check(field, parse(raw)).map(Some),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(errors: &FieldErrors) -> Vec<&str> {
        errors.fields.keys().map(String::as_str).collect()
    }

    #[test]
    fn a_customer_is_normalized_and_every_bad_field_is_named() {
        let good: CreateCustomerRequest = serde_json::from_value(json!({
            "kind": "company", "name": "  ООО Ромашка ", "phones": ["8 (916) 123-45-67", "+79161234567", "+972 50 123 4567"],
            "email": " Office@Romashka.RU ", "tax_id": "77 0708 3893", "notes": "  ", "preferred_channel": "whatsapp",
            "sites": [{ "address": " Moscow, Tverskaya 1 ", "label": "Office", "latitude": 55.76, "longitude": 37.61 }]
        }))
        .unwrap();
        let customer = good.parse().unwrap();
        assert_eq!(customer.name.as_str(), "ООО Ромашка");
        let phones: Vec<&str> = customer.phones.iter().map(Phone::as_str).collect();
        assert_eq!(phones, ["+79161234567", "+972501234567"]);
        assert_eq!(customer.email.unwrap().as_str(), "office@romashka.ru");
        assert_eq!(customer.tax_id.unwrap().as_str(), "7707083893");
        assert_eq!(customer.notes, None, "blank notes are no notes");
        assert_eq!(customer.sites[0].address.as_str(), "Moscow, Tverskaya 1");
        assert_eq!(customer.sites[0].coordinates, Some(Coordinates { latitude: 55.76, longitude: 37.61 }));

        let bad: CreateCustomerRequest = serde_json::from_value(json!({
            "kind": "person", "name": " ", "phones": ["+79161234567", "12"], "email": "nope", "tax_id": "!",
            "sites": [
                { "address": "Fine street 1" },
                { "address": "", "latitude": 91.0, "longitude": 37.0 },
                { "address": "Half", "latitude": 55.0 },
                { "address": "Other half", "longitude": -181.0, "label": "a\nb" }
            ]
        }))
        .unwrap();
        let errors = bad.parse().unwrap_err();
        assert_eq!(
            fields(&errors),
            [
                "email",
                "name",
                "phones[1]",
                "sites[1].address",
                "sites[1].latitude",
                "sites[2].longitude",
                "sites[3].label",
                "sites[3].longitude",
                "tax_id"
            ]
        );
        assert_eq!(errors.fields["sites[2].longitude"][0].code, "coordinates_incomplete");
        assert_eq!(errors.fields["sites[1].latitude"][0].code, "out_of_range");
    }

    #[test]
    fn lists_are_bounded() {
        let req = CreateCustomerRequest {
            kind: CustomerKind::Person,
            name: "Ann".into(),
            phones: (0..11).map(|n| format!("+7916123450{n}")).collect(),
            email: None,
            tax_id: None,
            notes: None,
            preferred_channel: None,
            sites: vec![
                CreateSiteRequest {
                    label: None,
                    address: "Street 1".into(),
                    latitude: None,
                    longitude: None,
                    access_notes: None,
                    zone: None,
                };
                MAX_SITES + 1
            ],
        };
        assert_eq!(fields(&req.parse().unwrap_err()), ["phones", "sites"]);
    }

    #[test]
    fn patches_tell_absent_from_null_and_move_coordinates_together() {
        let absent: UpdateCustomerRequest = serde_json::from_str("{}").unwrap();
        assert_eq!(absent.parse().unwrap(), CustomerChanges::default());
        let cleared: UpdateCustomerRequest =
            serde_json::from_value(json!({ "email": null, "tax_id": null, "notes": null, "preferred_channel": null }))
                .unwrap();
        let changes = cleared.parse().unwrap();
        assert_eq!(
            (changes.email, changes.tax_id, changes.notes, changes.preferred_channel),
            (Some(None), Some(None), Some(None), Some(None))
        );

        let site: UpdateSiteRequest = serde_json::from_value(json!({ "latitude": null, "longitude": null })).unwrap();
        assert_eq!(site.parse().unwrap().coordinates, Some(None));
        let moved: UpdateSiteRequest =
            serde_json::from_value(json!({ "latitude": -33.9, "longitude": 151.2 })).unwrap();
        assert_eq!(moved.parse().unwrap().coordinates, Some(Some(Coordinates { latitude: -33.9, longitude: 151.2 })));
        for half in
            [json!({ "latitude": 10.0 }), json!({ "latitude": 10.0, "longitude": null }), json!({ "latitude": null })]
        {
            let req: UpdateSiteRequest = serde_json::from_value(half.clone()).unwrap();
            assert_eq!(fields(&req.parse().unwrap_err()), ["longitude"], "{half}");
        }
        let untouched: UpdateSiteRequest = serde_json::from_value(json!({ "label": "Home" })).unwrap();
        assert_eq!(untouched.parse().unwrap().coordinates, None);
    }
}
