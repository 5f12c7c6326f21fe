use crate::{Currency, FieldErrors, Locale, OrgId, OrgName, TimeZone, Validator};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrgView {
    pub id: OrgId,
    pub name: OrgName,
    pub time_zone: TimeZone,
    pub locale: Locale,
    pub currency: Currency,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateOrgRequest {
    pub name: Option<String>,
    pub time_zone: Option<String>,
    pub locale: Option<String>,
    pub currency: Option<String>,
}

/// A validated `PATCH /org`; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OrgChanges {
    pub name: Option<OrgName>,
    pub time_zone: Option<TimeZone>,
    pub locale: Option<Locale>,
    pub currency: Option<Currency>,
}

impl UpdateOrgRequest {
    pub fn parse(&self) -> Result<OrgChanges, FieldErrors> {
        let mut v = Validator::default();
        let name = v.check_opt("name", self.name.as_deref().map(OrgName::parse));
        let time_zone = v.check_opt("time_zone", self.time_zone.as_deref().map(TimeZone::parse));
        let locale = v.check_opt("locale", self.locale.as_deref().map(Locale::parse));
        let currency = v.check_opt("currency", self.currency.as_deref().map(Currency::parse));
        v.finish(|| Some(OrgChanges { name: name?, time_zone: time_zone?, locale: locale?, currency: currency? }))
    }
}
