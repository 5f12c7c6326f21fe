use crate::{Currency, FieldError, FieldErrors, Locale, OrgId, OrgName, TimeZone, Validator};
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
    /// Kept free between two jobs of one technician when slots are searched.
    pub travel_buffer_minutes: i32,
    /// A declined order is offered to the next candidates automatically.
    pub auto_dispatch: bool,
    /// How many technicians one offer round goes to.
    pub offer_fanout: i32,
    /// How long an offer stays open before the dispatcher is alerted.
    pub offer_timeout_minutes: i32,
    /// How many days ahead recurring plans create their orders.
    pub recurring_horizon_days: i32,
    /// The hour (0–23, in the organization's time zone) the office gets the daily summary; `null`
    /// sends none.
    pub daily_summary_hour: Option<i32>,
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
    /// 0 to 240.
    pub travel_buffer_minutes: Option<i32>,
    pub auto_dispatch: Option<bool>,
    /// 1 to 20.
    pub offer_fanout: Option<i32>,
    /// 1 to 1440.
    pub offer_timeout_minutes: Option<i32>,
    /// 1 to 365.
    pub recurring_horizon_days: Option<i32>,
    /// 0 to 23, in the organization's time zone; `null` turns the daily summary off.
    #[serde(default, deserialize_with = "super::patch")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i32>))]
    pub daily_summary_hour: Option<Option<i32>>,
}

/// A validated `PATCH /org`; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OrgChanges {
    pub name: Option<OrgName>,
    pub time_zone: Option<TimeZone>,
    pub locale: Option<Locale>,
    pub currency: Option<Currency>,
    pub travel_buffer_minutes: Option<i32>,
    pub auto_dispatch: Option<bool>,
    pub offer_fanout: Option<i32>,
    pub offer_timeout_minutes: Option<i32>,
    pub recurring_horizon_days: Option<i32>,
    /// `Some(None)` turns the daily summary off.
    pub daily_summary_hour: Option<Option<i32>>,
}

/// A number setting within its bounds.
fn bounded(v: &mut Validator, field: &str, value: Option<i32>, min: i32, max: i32) -> Option<Option<i32>> {
    match value {
        Some(n) if !(min..=max).contains(&n) => {
            v.add(field, FieldError::new("out_of_range", format!("must be {min} to {max}")));
            None
        }
        other => Some(other),
    }
}

impl UpdateOrgRequest {
    pub fn parse(&self) -> Result<OrgChanges, FieldErrors> {
        let mut v = Validator::default();
        let name = v.check_opt("name", self.name.as_deref().map(OrgName::parse));
        let time_zone = v.check_opt("time_zone", self.time_zone.as_deref().map(TimeZone::parse));
        let locale = v.check_opt("locale", self.locale.as_deref().map(Locale::parse));
        let currency = v.check_opt("currency", self.currency.as_deref().map(Currency::parse));
        let buffer = bounded(&mut v, "travel_buffer_minutes", self.travel_buffer_minutes, 0, 240);
        let fanout = bounded(&mut v, "offer_fanout", self.offer_fanout, 1, 20);
        let timeout = bounded(&mut v, "offer_timeout_minutes", self.offer_timeout_minutes, 1, 1440);
        let horizon = bounded(&mut v, "recurring_horizon_days", self.recurring_horizon_days, 1, 365);
        let summary_hour = match self.daily_summary_hour {
            Some(hour) => bounded(&mut v, "daily_summary_hour", hour, 0, 23).map(Some),
            None => Some(None),
        };
        v.finish(|| {
            Some(OrgChanges {
                name: name?,
                time_zone: time_zone?,
                locale: locale?,
                currency: currency?,
                travel_buffer_minutes: buffer?,
                auto_dispatch: self.auto_dispatch,
                offer_fanout: fanout?,
                offer_timeout_minutes: timeout?,
                recurring_horizon_days: horizon?,
                daily_summary_hour: summary_hour?,
            })
        })
    }
}
