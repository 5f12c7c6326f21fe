use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Why one field was refused: a stable code for clients and a message for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldError {
    pub code: String,
    pub message: String,
}

impl FieldError {
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        Self { code: code.to_owned(), message: message.into() }
    }
}

/// Every refused field of one request, keyed by its path (`email`, `working_hours.mon[0]`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldErrors {
    pub fields: BTreeMap<String, Vec<FieldError>>,
}

impl FieldErrors {
    pub fn single(field: &str, error: FieldError) -> Self {
        let mut errors = Self::default();
        errors.add(field, error);
        errors
    }

    pub fn add(&mut self, field: &str, error: FieldError) {
        self.fields.entry(field.to_owned()).or_default().push(error);
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }
}

impl std::fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.fields.keys().map(String::as_str).collect();
        write!(f, "invalid fields: {}", names.join(", "))
    }
}

/// Collects field errors while a request is parsed into validated values, so a client learns about
/// every bad field at once instead of one per round trip.
///
/// ```
/// # use fieldflow_domain::{Validator, Email, PersonName};
/// let mut v = Validator::default();
/// let email = v.check("email", Email::parse("not-an-email"));
/// let name = v.check("full_name", PersonName::parse("Ann"));
/// let result = v.finish(|| Some((email?, name?)));
/// assert_eq!(result.unwrap_err().fields.len(), 1);
/// ```
#[derive(Debug, Default)]
pub struct Validator {
    errors: FieldErrors,
}

impl Validator {
    pub fn check<T>(&mut self, field: &str, parsed: Result<T, FieldError>) -> Option<T> {
        match parsed {
            Ok(value) => Some(value),
            Err(error) => {
                self.errors.add(field, error);
                None
            }
        }
    }

    /// Like [`Validator::check`] for a field that may be absent.
    pub fn check_opt<T>(&mut self, field: &str, parsed: Option<Result<T, FieldError>>) -> Option<Option<T>> {
        match parsed {
            None => Some(None),
            Some(parsed) => self.check(field, parsed).map(Some),
        }
    }

    /// Reports an error found by a rule that spans fields.
    pub fn add(&mut self, field: &str, error: FieldError) {
        self.errors.add(field, error);
    }

    /// Builds the validated value when no field failed. `build` returns `None` only when a checked
    /// field failed, which has then been recorded.
    pub fn finish<T>(self, build: impl FnOnce() -> Option<T>) -> Result<T, FieldErrors> {
        match build() {
            Some(value) if self.errors.is_empty() => Ok(value),
            _ => Err(self.errors),
        }
    }
}
