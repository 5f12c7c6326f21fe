use super::users::{CreateUserRequest, NewUser, UserView, parse_new_user};
use super::{Money, PasswordInput};
use crate::{CalendarColor, Cursor, FieldError, FieldErrors, Role, Tag, UserStatus, Validator, WorkingHours};
use serde::{Deserialize, Serialize};

/// A technician: their user account and their dispatch profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TechnicianView {
    pub user: UserView,
    pub skills: Vec<Tag>,
    pub zones: Vec<Tag>,
    pub hourly_rate: Money,
    pub max_jobs_per_day: u16,
    pub working_hours: WorkingHours,
    pub calendar_color: CalendarColor,
}

/// The dispatch profile of a technician, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct TechnicianProfile {
    pub skills: Vec<Tag>,
    pub zones: Vec<Tag>,
    pub hourly_rate_minor: i64,
    pub max_jobs_per_day: u16,
    pub working_hours: WorkingHours,
    pub calendar_color: CalendarColor,
}

impl TechnicianProfile {
    pub const DEFAULT_MAX_JOBS_PER_DAY: u16 = 8;
    pub const DEFAULT_COLOR: &str = "#1e88e5";
}

/// `POST /technicians`: a new user with the technician role and their profile.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateTechnicianRequest {
    pub email: String,
    pub full_name: String,
    pub phone: Option<String>,
    pub locale: Option<String>,
    pub time_zone: Option<String>,
    pub password: Option<PasswordInput>,
    #[serde(default)]
    pub skills: Vec<String>,
    #[serde(default)]
    pub zones: Vec<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 100_000_000))]
    pub hourly_rate_minor: i64,
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 50))]
    pub max_jobs_per_day: Option<u16>,
    #[serde(default)]
    pub working_hours: WorkingHours,
    pub calendar_color: Option<String>,
}

/// `PATCH /technicians/{id}`; absent fields stay as they are.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateTechnicianRequest {
    pub skills: Option<Vec<String>>,
    pub zones: Option<Vec<String>>,
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 100_000_000))]
    pub hourly_rate_minor: Option<i64>,
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 50))]
    pub max_jobs_per_day: Option<u16>,
    pub working_hours: Option<WorkingHours>,
    pub calendar_color: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct TechnicianChanges {
    pub skills: Option<Vec<Tag>>,
    pub zones: Option<Vec<Tag>>,
    pub hourly_rate_minor: Option<i64>,
    pub max_jobs_per_day: Option<u16>,
    pub working_hours: Option<WorkingHours>,
    pub calendar_color: Option<CalendarColor>,
}

/// Query of `GET /technicians`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams, utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct ListTechniciansQuery {
    pub status: Option<UserStatus>,
    /// Only technicians with this skill.
    pub skill: Option<String>,
    /// Only technicians serving this zone.
    pub zone: Option<String>,
    pub cursor: Option<Cursor>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<u32>,
}

fn parse_tags(v: &mut Validator, field: &str, raw: &[String]) -> Option<Vec<Tag>> {
    if raw.len() > 50 {
        v.add(field, FieldError::new("too_many", "at most 50 entries"));
        return None;
    }
    let mut tags: Vec<Tag> = Vec::with_capacity(raw.len());
    let mut ok = true;
    for (index, item) in raw.iter().enumerate() {
        match v.check(&format!("{field}[{index}]"), Tag::parse(item)) {
            Some(tag) if !tags.contains(&tag) => tags.push(tag),
            Some(_) => {}
            None => ok = false,
        }
    }
    ok.then_some(tags)
}

fn check_rate(v: &mut Validator, rate: i64) -> Option<i64> {
    v.check(
        "hourly_rate_minor",
        if (0..=100_000_000).contains(&rate) {
            Ok(rate)
        } else {
            Err(FieldError::new("out_of_range", "must be between 0 and 100000000 minor units"))
        },
    )
}

fn check_max_jobs(v: &mut Validator, max: u16) -> Option<u16> {
    v.check(
        "max_jobs_per_day",
        if (1..=50).contains(&max) {
            Ok(max)
        } else {
            Err(FieldError::new("out_of_range", "must be between 1 and 50"))
        },
    )
}

fn check_hours(v: &mut Validator, hours: &WorkingHours) -> Option<WorkingHours> {
    let mut errors = FieldErrors::default();
    hours.check("working_hours", &mut errors);
    let ok = errors.is_empty();
    for (field, list) in errors.fields {
        for error in list {
            v.add(&field, error);
        }
    }
    ok.then(|| hours.clone())
}

impl CreateTechnicianRequest {
    pub fn parse(&self) -> Result<(NewUser, TechnicianProfile), FieldErrors> {
        let mut v = Validator::default();
        let account = CreateUserRequest {
            email: self.email.clone(),
            full_name: self.full_name.clone(),
            role: Role::Technician,
            phone: self.phone.clone(),
            locale: self.locale.clone(),
            time_zone: self.time_zone.clone(),
            password: self.password.clone(),
        };
        let user = parse_new_user(&mut v, &account, Role::Technician);
        let skills = parse_tags(&mut v, "skills", &self.skills);
        let zones = parse_tags(&mut v, "zones", &self.zones);
        let rate = check_rate(&mut v, self.hourly_rate_minor);
        let max_jobs =
            check_max_jobs(&mut v, self.max_jobs_per_day.unwrap_or(TechnicianProfile::DEFAULT_MAX_JOBS_PER_DAY));
        let hours = check_hours(&mut v, &self.working_hours);
        let color = v.check(
            "calendar_color",
            CalendarColor::parse(self.calendar_color.as_deref().unwrap_or(TechnicianProfile::DEFAULT_COLOR)),
        );
        v.finish(|| {
            Some((
                user?,
                TechnicianProfile {
                    skills: skills?,
                    zones: zones?,
                    hourly_rate_minor: rate?,
                    max_jobs_per_day: max_jobs?,
                    working_hours: hours?,
                    calendar_color: color?,
                },
            ))
        })
    }
}

impl UpdateTechnicianRequest {
    pub fn parse(&self) -> Result<TechnicianChanges, FieldErrors> {
        let mut v = Validator::default();
        let skills = match &self.skills {
            None => Some(None),
            Some(raw) => parse_tags(&mut v, "skills", raw).map(Some),
        };
        let zones = match &self.zones {
            None => Some(None),
            Some(raw) => parse_tags(&mut v, "zones", raw).map(Some),
        };
        let rate = match self.hourly_rate_minor {
            None => Some(None),
            Some(rate) => check_rate(&mut v, rate).map(Some),
        };
        let max_jobs = match self.max_jobs_per_day {
            None => Some(None),
            Some(max) => check_max_jobs(&mut v, max).map(Some),
        };
        let hours = match &self.working_hours {
            None => Some(None),
            Some(hours) => check_hours(&mut v, hours).map(Some),
        };
        let color = v.check_opt("calendar_color", self.calendar_color.as_deref().map(CalendarColor::parse));
        v.finish(|| {
            Some(TechnicianChanges {
                skills: skills?,
                zones: zones?,
                hourly_rate_minor: rate?,
                max_jobs_per_day: max_jobs?,
                working_hours: hours?,
                calendar_color: color?,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_fields_are_validated_with_paths() {
        let req: UpdateTechnicianRequest = serde_json::from_value(serde_json::json!({
            "skills": ["hvac", "two words"], "max_jobs_per_day": 0, "hourly_rate_minor": -1,
            "working_hours": {"mon": [{"start": "18:00", "end": "09:00"}]}, "calendar_color": "red"
        }))
        .unwrap();
        let errors = req.parse().unwrap_err();
        let fields: Vec<&str> = errors.fields.keys().map(String::as_str).collect();
        assert_eq!(
            fields,
            ["calendar_color", "hourly_rate_minor", "max_jobs_per_day", "skills[1]", "working_hours.mon[0]"]
        );
    }

    #[test]
    fn duplicate_tags_collapse_and_defaults_apply() {
        let req: CreateTechnicianRequest = serde_json::from_value(serde_json::json!({
            "email": "t@example.com", "full_name": "Ivan", "skills": ["HVAC", "hvac"]
        }))
        .unwrap();
        let (user, profile) = req.parse().unwrap();
        assert_eq!(user.role, Role::Technician);
        assert_eq!(profile.skills.len(), 1);
        assert_eq!(profile.max_jobs_per_day, 8);
        assert_eq!(profile.calendar_color.as_str(), "#1e88e5");
    }
}
