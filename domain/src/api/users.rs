use super::{PasswordInput, patch};
use crate::{
    Cursor, Email, FieldErrors, Locale, NewPassword, OrgId, PersonName, Phone, Role, TimeZone, UserId, UserStatus,
    Validator,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A user as the API shows them (`GET /me`, `/users`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserView {
    pub id: UserId,
    pub org_id: OrgId,
    pub email: Email,
    pub full_name: PersonName,
    pub phone: Option<Phone>,
    pub locale: Locale,
    pub time_zone: TimeZone,
    pub role: Role,
    pub status: UserStatus,
    pub telegram_linked: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// `POST /users`. Without a password the user is emailed an invitation link to set one.
/// `locale` and `time_zone` default to the organization's.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    pub email: String,
    pub full_name: String,
    pub role: Role,
    pub phone: Option<String>,
    pub locale: Option<String>,
    pub time_zone: Option<String>,
    pub password: Option<PasswordInput>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewUser {
    pub email: Email,
    pub full_name: PersonName,
    pub role: Role,
    pub phone: Option<Phone>,
    pub locale: Option<Locale>,
    pub time_zone: Option<TimeZone>,
    pub password: Option<NewPassword>,
}

impl CreateUserRequest {
    pub fn parse(&self) -> Result<NewUser, FieldErrors> {
        let mut v = Validator::default();
        let user = parse_new_user(&mut v, self, self.role);
        v.finish(|| user)
    }
}

/// Shared by `POST /users` and `POST /technicians`, which differ only in where the role comes from.
pub(crate) fn parse_new_user(v: &mut Validator, req: &CreateUserRequest, role: Role) -> Option<NewUser> {
    let email = v.check("email", Email::parse(&req.email));
    let full_name = v.check("full_name", PersonName::parse(&req.full_name));
    let phone = v.check_opt("phone", req.phone.as_deref().map(Phone::parse));
    let locale = v.check_opt("locale", req.locale.as_deref().map(Locale::parse));
    let time_zone = v.check_opt("time_zone", req.time_zone.as_deref().map(TimeZone::parse));
    let password = v.check_opt("password", req.password.as_ref().map(|p| NewPassword::parse(&p.0)));
    Some(NewUser {
        email: email?,
        full_name: full_name?,
        role,
        phone: phone?,
        locale: locale?,
        time_zone: time_zone?,
        password: password?,
    })
}

/// `PATCH /me`: what a user may change about themselves.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateMeRequest {
    pub full_name: Option<String>,
    /// `null` removes the phone number.
    #[serde(default, deserialize_with = "patch")]
    pub phone: Option<Option<String>>,
    pub locale: Option<String>,
    pub time_zone: Option<String>,
}

/// `PATCH /users/{id}`: the profile fields plus the role.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateUserRequest {
    pub full_name: Option<String>,
    #[serde(default, deserialize_with = "patch")]
    pub phone: Option<Option<String>>,
    pub locale: Option<String>,
    pub time_zone: Option<String>,
    pub role: Option<Role>,
}

/// Validated profile changes; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProfileChanges {
    pub full_name: Option<PersonName>,
    pub phone: Option<Option<Phone>>,
    pub locale: Option<Locale>,
    pub time_zone: Option<TimeZone>,
}

impl ProfileChanges {
    fn parse(
        v: &mut Validator,
        full_name: Option<&str>,
        phone: Option<Option<&str>>,
        locale: Option<&str>,
        time_zone: Option<&str>,
    ) -> Option<Self> {
        let full_name = v.check_opt("full_name", full_name.map(PersonName::parse));
        let phone = match phone {
            None => Some(None),
            Some(None) => Some(Some(None)),
            Some(Some(raw)) => v.check("phone", Phone::parse(raw)).map(|p| Some(Some(p))),
        };
        let locale = v.check_opt("locale", locale.map(Locale::parse));
        let time_zone = v.check_opt("time_zone", time_zone.map(TimeZone::parse));
        Some(Self { full_name: full_name?, phone: phone?, locale: locale?, time_zone: time_zone? })
    }
}

impl UpdateMeRequest {
    pub fn parse(&self) -> Result<ProfileChanges, FieldErrors> {
        let mut v = Validator::default();
        let changes = ProfileChanges::parse(
            &mut v,
            self.full_name.as_deref(),
            self.phone.as_ref().map(Option::as_deref),
            self.locale.as_deref(),
            self.time_zone.as_deref(),
        );
        v.finish(|| changes)
    }
}

impl UpdateUserRequest {
    pub fn parse(&self) -> Result<(ProfileChanges, Option<Role>), FieldErrors> {
        let mut v = Validator::default();
        let changes = ProfileChanges::parse(
            &mut v,
            self.full_name.as_deref(),
            self.phone.as_ref().map(Option::as_deref),
            self.locale.as_deref(),
            self.time_zone.as_deref(),
        );
        v.finish(|| Some((changes?, self.role)))
    }
}

/// Query of `GET /users`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams, utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct ListUsersQuery {
    pub role: Option<Role>,
    pub status: Option<UserStatus>,
    /// Matches the start of a name or an email, case-insensitively.
    pub q: Option<String>,
    pub cursor: Option<Cursor>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<u32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bad_field_is_reported_at_once() {
        let req: CreateUserRequest = serde_json::from_value(serde_json::json!({
            "email": "nope", "full_name": "", "role": "dispatcher", "phone": "123", "password": "password"
        }))
        .unwrap();
        let errors = req.parse().unwrap_err();
        let fields: Vec<&str> = errors.fields.keys().map(String::as_str).collect();
        assert_eq!(fields, ["email", "full_name", "password", "phone"]);
    }

    #[test]
    fn patch_tells_absent_from_null() {
        let absent: UpdateMeRequest = serde_json::from_str("{}").unwrap();
        assert_eq!(absent.parse().unwrap().phone, None);
        let cleared: UpdateMeRequest = serde_json::from_str(r#"{"phone":null}"#).unwrap();
        assert_eq!(cleared.parse().unwrap().phone, Some(None));
        let set: UpdateMeRequest = serde_json::from_str(r#"{"phone":"+7 916 123 45 67"}"#).unwrap();
        assert_eq!(set.parse().unwrap().phone, Some(Some(Phone::parse("+79161234567").unwrap())));
    }
}
