//! Service types: the organization's workflow templates. One body, [`ServiceTypeSpec`], is what
//! `POST /service-types` takes and what the YAML document holds on import and export, so an exported
//! template imports unchanged.

use super::{Money, patch};
use crate::{Cursor, FieldError, FieldErrors, Label, Priority, ServiceTypeId, Slug, Tag, Validator};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A service type as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServiceTypeView {
    pub id: ServiceTypeId,
    /// Stable identity within the organization; the YAML import matches templates by it.
    pub code: Slug,
    pub name: Label,
    pub description: Option<String>,
    pub default_duration_minutes: u32,
    /// In the organization's currency.
    pub default_price: Money,
    pub required_skills: Vec<Tag>,
    pub checklist: Vec<ChecklistItem>,
    pub required_photos: RequiredPhotos,
    pub approval_required: bool,
    pub sla_minutes: SlaTargets,
    pub archived_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl ServiceTypeView {
    pub fn template(&self) -> ServiceTypeTemplate {
        ServiceTypeTemplate {
            code: self.code.clone(),
            name: self.name.clone(),
            description: self.description.clone(),
            default_duration_minutes: self.default_duration_minutes,
            default_price_minor: self.default_price.amount_minor,
            required_skills: self.required_skills.clone(),
            checklist: self.checklist.clone(),
            required_photos: self.required_photos,
            approval_required: self.approval_required,
            sla_minutes: self.sla_minutes,
        }
    }
}

/// One step a technician ticks off when completing an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChecklistItem {
    /// Unique within its checklist, so completed items stay matched when labels change.
    pub id: Slug,
    pub label: Label,
    pub required: bool,
}

/// How many photos completion needs, taken before and after the work.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RequiredPhotos {
    pub before: u16,
    pub after: u16,
}

/// Minutes from an order's creation to its resolution, per priority; absent: no target.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SlaTargets {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub urgent: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub high: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub normal: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub low: Option<u32>,
}

impl SlaTargets {
    pub fn minutes(&self, priority: Priority) -> Option<u32> {
        match priority {
            Priority::Urgent => self.urgent,
            Priority::High => self.high,
            Priority::Normal => self.normal,
            Priority::Low => self.low,
        }
    }
}

/// A validated template: what a service type is, without its identity and history.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceTypeTemplate {
    pub code: Slug,
    pub name: Label,
    pub description: Option<String>,
    pub default_duration_minutes: u32,
    pub default_price_minor: i64,
    pub required_skills: Vec<Tag>,
    pub checklist: Vec<ChecklistItem>,
    pub required_photos: RequiredPhotos,
    pub approval_required: bool,
    pub sla_minutes: SlaTargets,
}

/// The template body as written: `POST /service-types` and one entry of the YAML document.
/// Numbers are wide and signed so that a negative or huge value is reported by `parse`, with its
/// field, instead of failing deserialization. The field order is the export's key order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ServiceTypeSpec {
    /// Lower-case letters, digits, `_` and `-`; unique within the organization.
    pub code: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// 1 to 10080 (a week).
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 10080))]
    pub default_duration_minutes: i64,
    /// Minor units of the organization's currency.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 100_000_000_000_i64))]
    pub default_price_minor: i64,
    /// Each must be a skill some technician of the organization has.
    #[serde(default)]
    pub required_skills: Vec<String>,
    #[serde(default)]
    pub checklist: Vec<ChecklistItemSpec>,
    #[serde(default)]
    pub required_photos: RequiredPhotosSpec,
    #[serde(default)]
    pub approval_required: bool,
    #[serde(default)]
    pub sla_minutes: SlaSpec,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChecklistItemSpec {
    pub id: String,
    pub label: String,
    /// Items are required unless they say otherwise.
    #[serde(default = "required_by_default")]
    pub required: bool,
}

fn required_by_default() -> bool {
    true
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RequiredPhotosSpec {
    #[serde(default)]
    pub before: i64,
    #[serde(default)]
    pub after: i64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SlaSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub urgent: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub high: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub normal: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub low: Option<i64>,
}

/// The export writes templates back in the form they are imported in.
impl From<&ServiceTypeTemplate> for ServiceTypeSpec {
    fn from(template: &ServiceTypeTemplate) -> Self {
        let sla = template.sla_minutes;
        ServiceTypeSpec {
            code: template.code.to_string(),
            name: template.name.to_string(),
            description: template.description.clone(),
            default_duration_minutes: i64::from(template.default_duration_minutes),
            default_price_minor: template.default_price_minor,
            required_skills: template.required_skills.iter().map(Tag::to_string).collect(),
            checklist: template
                .checklist
                .iter()
                .map(|item| ChecklistItemSpec {
                    id: item.id.to_string(),
                    label: item.label.to_string(),
                    required: item.required,
                })
                .collect(),
            required_photos: RequiredPhotosSpec {
                before: i64::from(template.required_photos.before),
                after: i64::from(template.required_photos.after),
            },
            approval_required: template.approval_required,
            sla_minutes: SlaSpec {
                urgent: sla.urgent.map(i64::from),
                high: sla.high.map(i64::from),
                normal: sla.normal.map(i64::from),
                low: sla.low.map(i64::from),
            },
        }
    }
}

/// The YAML document of `GET /service-types/export` and `POST /service-types/import`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceTypeDocument {
    /// The format's version; see [`ServiceTypeDocument::VERSION`].
    pub version: u32,
    pub service_types: Vec<ServiceTypeSpec>,
}

impl ServiceTypeDocument {
    pub const VERSION: u32 = 1;
    /// Templates one document may hold.
    pub const MAX_SERVICE_TYPES: usize = 500;
}

/// `PATCH /service-types/{id}`; absent fields stay as they are, given lists and objects replace
/// the stored ones whole.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateServiceTypeRequest {
    pub code: Option<String>,
    pub name: Option<String>,
    /// `null` removes the description.
    #[serde(default, deserialize_with = "patch")]
    pub description: Option<Option<String>>,
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 10080))]
    pub default_duration_minutes: Option<i64>,
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 100_000_000_000_i64))]
    pub default_price_minor: Option<i64>,
    pub required_skills: Option<Vec<String>>,
    pub checklist: Option<Vec<ChecklistItemSpec>>,
    pub required_photos: Option<RequiredPhotosSpec>,
    pub approval_required: Option<bool>,
    pub sla_minutes: Option<SlaSpec>,
}

/// Validated changes; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServiceTypeChanges {
    pub code: Option<Slug>,
    pub name: Option<Label>,
    pub description: Option<Option<String>>,
    pub default_duration_minutes: Option<u32>,
    pub default_price_minor: Option<i64>,
    pub required_skills: Option<Vec<Tag>>,
    pub checklist: Option<Vec<ChecklistItem>>,
    pub required_photos: Option<RequiredPhotos>,
    pub approval_required: Option<bool>,
    pub sla_minutes: Option<SlaTargets>,
}

impl ServiceTypeChanges {
    /// The template with these changes made.
    pub fn apply(self, template: ServiceTypeTemplate) -> ServiceTypeTemplate {
        ServiceTypeTemplate {
            code: self.code.unwrap_or(template.code),
            name: self.name.unwrap_or(template.name),
            description: self.description.unwrap_or(template.description),
            default_duration_minutes: self.default_duration_minutes.unwrap_or(template.default_duration_minutes),
            default_price_minor: self.default_price_minor.unwrap_or(template.default_price_minor),
            required_skills: self.required_skills.unwrap_or(template.required_skills),
            checklist: self.checklist.unwrap_or(template.checklist),
            required_photos: self.required_photos.unwrap_or(template.required_photos),
            approval_required: self.approval_required.unwrap_or(template.approval_required),
            sla_minutes: self.sla_minutes.unwrap_or(template.sla_minutes),
        }
    }
}

/// Query of `GET /service-types`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams, utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct ListServiceTypesQuery {
    /// Also list archived service types (default false).
    pub include_archived: Option<bool>,
    pub cursor: Option<Cursor>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<u32>,
}

/// What `POST /service-types/import` did, by template.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportSummary {
    pub created: u32,
    pub updated: u32,
    /// Already exactly as in the document; not touched.
    pub unchanged: u32,
}

pub const MAX_DURATION_MINUTES: i64 = 7 * 24 * 60;
pub const MAX_PRICE_MINOR: i64 = 100_000_000_000;
pub const MAX_PHOTOS: i64 = 50;
pub const MAX_SLA_MINUTES: i64 = 365 * 24 * 60;
pub const MAX_SKILLS: usize = 50;
pub const MAX_CHECKLIST_ITEMS: usize = 100;
pub const MAX_DESCRIPTION_CHARS: usize = 2000;

impl ServiceTypeSpec {
    pub fn parse(&self) -> Result<ServiceTypeTemplate, FieldErrors> {
        let mut v = Validator::default();
        let template = self.parse_at(&mut v, "");
        v.finish(|| template)
    }

    /// Validates with every field path prefixed (`service_types[2].` in a document).
    pub fn parse_at(&self, v: &mut Validator, prefix: &str) -> Option<ServiceTypeTemplate> {
        let code = v.check(&format!("{prefix}code"), Slug::parse(&self.code));
        let name = v.check(&format!("{prefix}name"), Label::parse(&self.name));
        let description = check_description(v, &format!("{prefix}description"), self.description.as_deref());
        let duration = check_duration(v, &format!("{prefix}default_duration_minutes"), self.default_duration_minutes);
        let price = check_price(v, &format!("{prefix}default_price_minor"), self.default_price_minor);
        let skills = parse_skills(v, &format!("{prefix}required_skills"), &self.required_skills);
        let checklist = parse_checklist(v, &format!("{prefix}checklist"), &self.checklist);
        let photos = check_photos(v, &format!("{prefix}required_photos"), self.required_photos);
        let sla = check_sla(v, &format!("{prefix}sla_minutes"), self.sla_minutes);
        Some(ServiceTypeTemplate {
            code: code?,
            name: name?,
            description: description?,
            default_duration_minutes: duration?,
            default_price_minor: price?,
            required_skills: skills?,
            checklist: checklist?,
            required_photos: photos?,
            approval_required: self.approval_required,
            sla_minutes: sla?,
        })
    }
}

impl UpdateServiceTypeRequest {
    pub fn parse(&self) -> Result<ServiceTypeChanges, FieldErrors> {
        let mut v = Validator::default();
        let code = v.check_opt("code", self.code.as_deref().map(Slug::parse));
        let name = v.check_opt("name", self.name.as_deref().map(Label::parse));
        let description = match &self.description {
            None => Some(None),
            Some(raw) => check_description(&mut v, "description", raw.as_deref()).map(Some),
        };
        let duration = match self.default_duration_minutes {
            None => Some(None),
            Some(raw) => check_duration(&mut v, "default_duration_minutes", raw).map(Some),
        };
        let price = match self.default_price_minor {
            None => Some(None),
            Some(raw) => check_price(&mut v, "default_price_minor", raw).map(Some),
        };
        let skills = match &self.required_skills {
            None => Some(None),
            Some(raw) => parse_skills(&mut v, "required_skills", raw).map(Some),
        };
        let checklist = match &self.checklist {
            None => Some(None),
            Some(raw) => parse_checklist(&mut v, "checklist", raw).map(Some),
        };
        let photos = match self.required_photos {
            None => Some(None),
            Some(raw) => check_photos(&mut v, "required_photos", raw).map(Some),
        };
        let sla = match self.sla_minutes {
            None => Some(None),
            Some(raw) => check_sla(&mut v, "sla_minutes", raw).map(Some),
        };
        v.finish(|| {
            Some(ServiceTypeChanges {
                code: code?,
                name: name?,
                description: description?,
                default_duration_minutes: duration?,
                default_price_minor: price?,
                required_skills: skills?,
                checklist: checklist?,
                required_photos: photos?,
                approval_required: self.approval_required,
                sla_minutes: sla?,
            })
        })
    }
}

/// Trimmed, `\r\n` as `\n`, empty as absent; line breaks and tabs are the only control characters.
fn check_description(v: &mut Validator, path: &str, raw: Option<&str>) -> Option<Option<String>> {
    let Some(raw) = raw else { return Some(None) };
    let text = raw.replace("\r\n", "\n").trim().to_owned();
    let checked = if text.chars().count() > MAX_DESCRIPTION_CHARS {
        Err(FieldError::new("too_long", format!("must have at most {MAX_DESCRIPTION_CHARS} characters")))
    } else if text.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\t')) {
        Err(FieldError::new("invalid_characters", "must not contain control characters other than line breaks"))
    } else {
        Ok((!text.is_empty()).then_some(text))
    };
    v.check(path, checked)
}

fn out_of_range(message: impl Into<String>) -> FieldError {
    FieldError::new("out_of_range", message)
}

fn check_duration(v: &mut Validator, path: &str, raw: i64) -> Option<u32> {
    let checked = match raw {
        ..=0 => Err(out_of_range("must be positive")),
        1..=MAX_DURATION_MINUTES => u32::try_from(raw).map_err(|_| out_of_range("is too large")),
        _ => Err(out_of_range(format!("must be at most {MAX_DURATION_MINUTES} minutes (a week)"))),
    };
    v.check(path, checked)
}

fn check_price(v: &mut Validator, path: &str, raw: i64) -> Option<i64> {
    let checked = match raw {
        ..0 => Err(out_of_range("must not be negative")),
        0..=MAX_PRICE_MINOR => Ok(raw),
        _ => Err(out_of_range(format!("must be at most {MAX_PRICE_MINOR} minor units"))),
    };
    v.check(path, checked)
}

fn check_count(v: &mut Validator, path: &str, raw: i64) -> Option<u16> {
    let checked = match raw {
        ..0 => Err(out_of_range("must not be negative")),
        0..=MAX_PHOTOS => u16::try_from(raw).map_err(|_| out_of_range("is too large")),
        _ => Err(out_of_range(format!("must be at most {MAX_PHOTOS}"))),
    };
    v.check(path, checked)
}

fn check_photos(v: &mut Validator, path: &str, raw: RequiredPhotosSpec) -> Option<RequiredPhotos> {
    let before = check_count(v, &format!("{path}.before"), raw.before);
    let after = check_count(v, &format!("{path}.after"), raw.after);
    Some(RequiredPhotos { before: before?, after: after? })
}

fn check_target(v: &mut Validator, path: &str, raw: Option<i64>) -> Option<Option<u32>> {
    let Some(raw) = raw else { return Some(None) };
    let checked = match raw {
        ..=0 => Err(out_of_range("must be positive")),
        1..=MAX_SLA_MINUTES => u32::try_from(raw).map(Some).map_err(|_| out_of_range("is too large")),
        _ => Err(out_of_range(format!("must be at most {MAX_SLA_MINUTES} minutes (a year)"))),
    };
    v.check(path, checked)
}

fn check_sla(v: &mut Validator, path: &str, raw: SlaSpec) -> Option<SlaTargets> {
    let urgent = check_target(v, &format!("{path}.urgent"), raw.urgent);
    let high = check_target(v, &format!("{path}.high"), raw.high);
    let normal = check_target(v, &format!("{path}.normal"), raw.normal);
    let low = check_target(v, &format!("{path}.low"), raw.low);
    Some(SlaTargets { urgent: urgent?, high: high?, normal: normal?, low: low? })
}

/// Skills in the order given; a repeated skill counts once.
fn parse_skills(v: &mut Validator, path: &str, raw: &[String]) -> Option<Vec<Tag>> {
    if raw.len() > MAX_SKILLS {
        v.add(path, FieldError::new("too_many", format!("at most {MAX_SKILLS} skills")));
        return None;
    }
    let mut skills: Vec<Tag> = Vec::with_capacity(raw.len());
    let mut ok = true;
    for (index, item) in raw.iter().enumerate() {
        match v.check(&format!("{path}[{index}]"), Tag::parse(item)) {
            Some(skill) if !skills.contains(&skill) => skills.push(skill),
            Some(_) => {}
            None => ok = false,
        }
    }
    ok.then_some(skills)
}

fn parse_checklist(v: &mut Validator, path: &str, raw: &[ChecklistItemSpec]) -> Option<Vec<ChecklistItem>> {
    if raw.len() > MAX_CHECKLIST_ITEMS {
        v.add(path, FieldError::new("too_many", format!("at most {MAX_CHECKLIST_ITEMS} checklist items")));
        return None;
    }
    let mut items: Vec<ChecklistItem> = Vec::with_capacity(raw.len());
    let mut ok = true;
    for (index, item) in raw.iter().enumerate() {
        let id_path = format!("{path}[{index}].id");
        let id = v.check(&id_path, Slug::parse(&item.id));
        let label = v.check(&format!("{path}[{index}].label"), Label::parse(&item.label));
        if let Some(id) = &id
            && items.iter().any(|earlier| earlier.id == *id)
        {
            v.add(&id_path, FieldError::new("duplicate_id", format!("duplicate checklist id \"{id}\"")));
            ok = false;
            continue;
        }
        match (id, label) {
            (Some(id), Some(label)) => items.push(ChecklistItem { id, label, required: item.required }),
            _ => ok = false,
        }
    }
    ok.then_some(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(json: serde_json::Value) -> ServiceTypeSpec {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn every_bad_field_is_reported_with_its_path() {
        let spec = spec(serde_json::json!({
            "code": "Washing Machine", "name": " ", "default_duration_minutes": -5, "default_price_minor": -1,
            "required_skills": ["ok", "two words"],
            "checklist": [{"id": "a", "label": "A"}, {"id": "a", "label": "Again"}, {"id": "b", "label": ""}],
            "required_photos": {"before": -1, "after": 51},
            "sla_minutes": {"urgent": 0, "low": 600000}
        }));
        let mut v = Validator::default();
        assert!(spec.parse_at(&mut v, "service_types[3].").is_none());
        let errors = v.finish(|| Some(())).unwrap_err();
        let fields: Vec<&str> = errors.fields.keys().map(String::as_str).collect();
        assert_eq!(
            fields,
            [
                "service_types[3].checklist[1].id",
                "service_types[3].checklist[2].label",
                "service_types[3].code",
                "service_types[3].default_duration_minutes",
                "service_types[3].default_price_minor",
                "service_types[3].name",
                "service_types[3].required_photos.after",
                "service_types[3].required_photos.before",
                "service_types[3].required_skills[1]",
                "service_types[3].sla_minutes.low",
                "service_types[3].sla_minutes.urgent",
            ]
        );
        let duplicate = &errors.fields["service_types[3].checklist[1].id"][0];
        assert_eq!(
            (duplicate.code.as_str(), duplicate.message.as_str()),
            ("duplicate_id", "duplicate checklist id \"a\"")
        );
        assert_eq!(errors.fields["service_types[3].default_duration_minutes"][0].message, "must be positive");
    }

    #[test]
    fn a_valid_spec_round_trips_through_the_template() {
        let raw = spec(serde_json::json!({
            "code": "ac_install", "name": "  AC installation ", "description": "Line one\r\nline two\n",
            "default_duration_minutes": 180, "default_price_minor": 1_200_000,
            "required_skills": ["air_conditioners", "electrical", "air_conditioners"],
            "checklist": [{"id": "mount", "label": "Mount the unit"}, {"id": "test", "label": "Test", "required": false}],
            "required_photos": {"after": 2}, "approval_required": true, "sla_minutes": {"urgent": 240}
        }));
        let template = raw.parse().unwrap();
        assert_eq!(template.name.as_str(), "AC installation");
        assert_eq!(template.description.as_deref(), Some("Line one\nline two"));
        assert_eq!(template.required_skills.len(), 2, "a repeated skill counts once");
        assert!(template.checklist[0].required, "items are required by default");
        assert_eq!(template.required_photos, RequiredPhotos { before: 0, after: 2 });
        assert_eq!(template.sla_minutes.minutes(Priority::Urgent), Some(240));
        assert_eq!(template.sla_minutes.minutes(Priority::Low), None);
        let again = ServiceTypeSpec::from(&template);
        assert_eq!(again.parse().unwrap(), template, "the normalized form parses to itself");
    }

    #[test]
    fn changes_apply_over_the_stored_template() {
        let template =
            spec(serde_json::json!({"code": "x", "name": "X", "default_duration_minutes": 60})).parse().unwrap();
        let request: UpdateServiceTypeRequest =
            serde_json::from_value(serde_json::json!({"name": "Y", "description": null, "approval_required": true}))
                .unwrap();
        let changed = request.parse().unwrap().apply(template.clone());
        assert_eq!(changed.name.as_str(), "Y");
        assert!(changed.approval_required);
        assert_eq!(changed.default_duration_minutes, 60);
        let bad: UpdateServiceTypeRequest =
            serde_json::from_value(serde_json::json!({"code": "", "default_duration_minutes": 0})).unwrap();
        let fields: Vec<String> = bad.parse().unwrap_err().fields.into_keys().collect();
        assert_eq!(fields, ["code", "default_duration_minutes"]);
    }

    #[test]
    fn slugs_are_strict() {
        for good in ["a", "washing_machine_repair", "ac-install", "2024_check"] {
            assert!(Slug::parse(good).is_ok(), "{good:?} was refused");
        }
        for bad in ["", "Upper", "two words", "_lead", "é", &"a".repeat(65)] {
            assert!(Slug::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
