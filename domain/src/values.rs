//! Validated values: parse once at the edge, then carry types that cannot be invalid.

use crate::FieldError;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;

/// Declares a string newtype whose only constructor is `parse`.
macro_rules! validated_string {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String))]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl FromStr for $name {
            type Err = FieldError;
            fn from_str(raw: &str) -> Result<Self, FieldError> {
                Self::parse(raw)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(deserializer)?;
                Self::parse(&raw).map_err(|e| serde::de::Error::custom(e.message))
            }
        }

        #[cfg(feature = "sqlx")]
        crate::sqlx_text::text_column!($name);
    };
}

fn trimmed_length(raw: &str, min: usize, max: usize, what: &str) -> Result<String, FieldError> {
    let value = raw.trim();
    let length = value.chars().count();
    if length < min {
        return Err(FieldError::new("too_short", format!("{what} must have at least {min} characters")));
    }
    if length > max {
        return Err(FieldError::new("too_long", format!("{what} must have at most {max} characters")));
    }
    if value.chars().any(char::is_control) {
        return Err(FieldError::new("invalid_characters", format!("{what} must not contain control characters")));
    }
    Ok(value.to_owned())
}

validated_string!(
    /// A login email, trimmed and lower-cased so that one mailbox is one account.
    Email
);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let value = raw.trim().to_lowercase();
        let invalid = || FieldError::new("invalid_email", "must be an email address like name@example.com");
        if value.len() > 254 || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid());
        }
        let (local, domain) = value.split_once('@').ok_or_else(invalid)?;
        let domain_ok = domain.contains('.')
            && !domain.contains('@')
            && domain.split('.').all(|label| !label.is_empty() && label.len() <= 63);
        if local.is_empty() || local.len() > 64 || !domain_ok {
            return Err(invalid());
        }
        Ok(Self(value))
    }
}

validated_string!(
    /// A person's full name as they want it shown.
    PersonName
);

impl PersonName {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        trimmed_length(raw, 1, 120, "name").map(Self)
    }
}

validated_string!(
    /// An organization's display name.
    OrgName
);

impl OrgName {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        trimmed_length(raw, 2, 120, "organization name").map(Self)
    }
}

validated_string!(
    /// A phone number in E.164 form (`+79161234567`). Spaces, dashes, dots and brackets are dropped
    /// on input; a Russian trunk prefix `8` with 11 digits becomes `+7`.
    Phone
);

impl Phone {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let invalid =
            || FieldError::new("invalid_phone", "must be a phone number in international form, like +79161234567");
        let compact: String = raw.chars().filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')')).collect();
        let digits = compact.strip_prefix('+').unwrap_or(&compact);
        if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(invalid());
        }
        let digits = match (compact.starts_with('+'), digits.len(), digits.strip_prefix('8')) {
            (false, 11, Some(rest)) => format!("7{rest}"),
            (true, _, _) => digits.to_owned(),
            _ => return Err(invalid()),
        };
        if !(8..=15).contains(&digits.len()) || digits.starts_with('0') {
            return Err(invalid());
        }
        Ok(Self(format!("+{digits}")))
    }

    /// The digits a search for (part of) a phone number looks for among stored numbers: a whole
    /// number in any notation by its E.164 digits, a fragment by its digits. `None` unless the
    /// query is digits and phone punctuation, with at least one digit.
    pub fn search_digits(query: &str) -> Option<String> {
        let query = query.trim();
        let phone_like = query.chars().all(|c| c.is_ascii_digit() || matches!(c, ' ' | '+' | '-' | '.' | '(' | ')'));
        if !phone_like {
            return None;
        }
        let digits: String = match Phone::parse(query) {
            Ok(phone) => phone.0.trim_start_matches('+').to_owned(),
            Err(_) => query.chars().filter(char::is_ascii_digit).collect(),
        };
        (!digits.is_empty()).then_some(digits)
    }
}

validated_string!(
    /// A skill or zone tag: short, lower-case, no spaces at the ends (`washing_machines`, `north`).
    Tag
);

impl Tag {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let value = trimmed_length(raw, 1, 40, "tag")?.to_lowercase();
        if !value.chars().all(|c| c.is_alphanumeric() || matches!(c, '_' | '-')) {
            return Err(FieldError::new("invalid_tag", "may hold only letters, digits, '_' and '-'"));
        }
        Ok(Self(value))
    }
}

validated_string!(
    /// A calendar colour as `#rrggbb`.
    CalendarColor
);

impl CalendarColor {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let value = raw.trim().to_lowercase();
        let hex = value.strip_prefix('#').unwrap_or("");
        if hex.len() != 6 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(FieldError::new("invalid_color", "must be a colour like #1e88e5"));
        }
        Ok(Self(value))
    }
}

validated_string!(
    /// An IANA time zone name such as `Europe/Moscow`.
    TimeZone
);

impl TimeZone {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        raw.trim()
            .parse::<chrono_tz::Tz>()
            .map(|tz| Self(tz.name().to_owned()))
            .map_err(|_| FieldError::new("invalid_time_zone", "must be an IANA time zone like Europe/Moscow"))
    }

    pub fn tz(&self) -> chrono_tz::Tz {
        self.0.parse().unwrap_or(chrono_tz::UTC)
    }
}

validated_string!(
    /// An ISO 4217 currency code such as `RUB`.
    Currency
);

/// Active ISO 4217 codes; the list changes rarely and only by addition.
const ISO_4217: &str = "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD \
BTN BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS \
GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT \
LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR \
PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL \
THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG";

impl Currency {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let value = raw.trim().to_uppercase();
        if value.len() == 3 && ISO_4217.split(' ').any(|code| code == value) {
            Ok(Self(value))
        } else {
            Err(FieldError::new("invalid_currency", "must be an ISO 4217 currency code like RUB"))
        }
    }
}

validated_string!(
    /// A customer's name: a person's full name or a company's name.
    CustomerName
);

impl CustomerName {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        trimmed_length(raw, 1, 200, "name").map(Self)
    }
}

validated_string!(
    /// A street address as people write it, on one line.
    Address
);

impl Address {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        trimmed_length(raw, 1, 500, "address").map(Self)
    }
}

validated_string!(
    /// A tax identification number (INN, VAT, EIN …): upper-cased, spaces dropped, so one number
    /// has one spelling.
    TaxId
);

impl TaxId {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let value: String = raw.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_uppercase();
        let length = value.chars().count();
        if !(2..=32).contains(&length) || !value.chars().all(|c| c.is_alphanumeric() || matches!(c, '-' | '.' | '/')) {
            return Err(FieldError::new(
                "invalid_tax_id",
                "must be 2 to 32 letters and digits, optionally with '-', '.' or '/'",
            ));
        }
        Ok(Self(value))
    }
}

validated_string!(
    /// A stable machine name such as a service type's code or a checklist item's id
    /// (`washing_machine_repair`). Never normalized: a document that names one means exactly that one.
    Slug
);

impl Slug {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let well_formed = (1..=64).contains(&raw.len())
            && raw.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
            && raw.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-'));
        if !well_formed {
            return Err(FieldError::new(
                "invalid_slug",
                "must be 1 to 64 lower-case latin letters, digits, '_' or '-', starting with a letter or digit",
            ));
        }
        Ok(Self(raw.to_owned()))
    }
}

validated_string!(
    /// A short text on one line: a service type's name, a checklist item's label.
    Label
);

impl Label {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        trimmed_length(raw, 1, 200, "text").map(Self)
    }
}

validated_string!(
    /// Where an organization's webhooks are sent: an absolute `http(s)` URL with a host, without
    /// credentials, at most 2048 characters, kept in its normalized form (`HTTPS://Example.com` is
    /// `https://example.com/`). Which addresses it may reach is checked when it is called.
    WebhookUrl
);

impl WebhookUrl {
    pub const MAX_CHARS: usize = 2048;

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let invalid = |message: &str| FieldError::new("invalid_url", message);
        let url = url::Url::parse(raw.trim()).map_err(|_| invalid("must be an absolute http or https URL"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid("must be an http or https URL"));
        }
        if url.host().is_none() {
            return Err(invalid("must name a host"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid("must not carry a user name or password"));
        }
        let normalized = String::from(url);
        if normalized.chars().count() > Self::MAX_CHARS {
            return Err(FieldError::new("too_long", format!("must have at most {} characters", Self::MAX_CHARS)));
        }
        Ok(Self(normalized))
    }
}

/// A language the product is translated into. Arabic and Hebrew are written right to left.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Locale {
    En,
    Ru,
    Ar,
    He,
}

impl Locale {
    pub fn as_str(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::Ru => "ru",
            Locale::Ar => "ar",
            Locale::He => "he",
        }
    }

    pub fn is_right_to_left(self) -> bool {
        matches!(self, Locale::Ar | Locale::He)
    }

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        match raw.trim().to_lowercase().as_str() {
            "en" => Ok(Locale::En),
            "ru" => Ok(Locale::Ru),
            "ar" => Ok(Locale::Ar),
            "he" => Ok(Locale::He),
            _ => Err(FieldError::new("invalid_locale", "must be one of en, ru, ar, he")),
        }
    }
}

impl fmt::Display for Locale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str((*self).as_str())
    }
}

impl FromStr for Locale {
    type Err = FieldError;
    fn from_str(raw: &str) -> Result<Self, FieldError> {
        Self::parse(raw)
    }
}

#[cfg(feature = "sqlx")]
crate::sqlx_text::text_column!(Locale);

static COMMON_PASSWORDS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("../data/common-passwords.txt")
        .lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .collect()
});

/// A password someone wants to set: 8 to 128 characters and not one of the most common passwords.
/// No composition rules (NIST SP 800-63B). Never serialized, never logged.
#[derive(Clone, PartialEq, Eq)]
pub struct NewPassword(String);

impl NewPassword {
    pub const MIN_CHARS: usize = 8;
    pub const MAX_CHARS: usize = 128;

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let length = raw.chars().count();
        if length < Self::MIN_CHARS {
            return Err(FieldError::new("too_short", "must have at least 8 characters"));
        }
        if length > Self::MAX_CHARS {
            return Err(FieldError::new("too_long", "must have at most 128 characters"));
        }
        if COMMON_PASSWORDS.contains(raw.to_lowercase().as_str()) {
            return Err(FieldError::new("password_too_common", "is one of the most common passwords; choose another"));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_searches_look_for_the_stored_digits() {
        assert_eq!(Phone::search_digits("+7 999 123-45-67").as_deref(), Some("79991234567"));
        assert_eq!(Phone::search_digits("8 (999) 123-45-67").as_deref(), Some("79991234567"));
        assert_eq!(Phone::search_digits(" 123-45 ").as_deref(), Some("12345"));
        assert_eq!(Phone::search_digits("call 123"), None);
        assert_eq!(Phone::search_digits("+ -"), None);
    }

    #[test]
    fn emails_are_normalized_and_checked() {
        assert_eq!(Email::parse("  Ann@Example.COM ").unwrap().as_str(), "ann@example.com");
        for bad in [
            "",
            "ann",
            "ann@",
            "@example.com",
            "ann@example",
            "a b@example.com",
            "ann@@example.com",
            "ann@example..com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn webhook_urls_are_absolute_http_without_credentials() {
        assert_eq!(WebhookUrl::parse(" HTTPS://Hooks.Example.COM ").unwrap().as_str(), "https://hooks.example.com/");
        assert_eq!(WebhookUrl::parse("http://10.0.0.5:8080/in?x=1").unwrap().as_str(), "http://10.0.0.5:8080/in?x=1");
        let long = format!("https://example.com/{}", "a".repeat(WebhookUrl::MAX_CHARS));
        for bad in [
            "",
            "example.com/hook",
            "/hook",
            "ftp://example.com/",
            "https://user:pw@example.com/",
            "https://user@example.com/",
            "file:///etc/passwd",
            "https://",
            long.as_str(),
        ] {
            assert!(WebhookUrl::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn phones_become_e164() {
        assert_eq!(Phone::parse("+7 (916) 123-45-67").unwrap().as_str(), "+79161234567");
        assert_eq!(Phone::parse("8 916 123 45 67").unwrap().as_str(), "+79161234567");
        assert_eq!(Phone::parse("+972-50-123-4567").unwrap().as_str(), "+972501234567");
        for bad in ["", "+", "12345", "phone", "+0123456789", "9161234567"] {
            assert!(Phone::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn passwords_follow_length_and_blocklist_only() {
        assert_eq!(NewPassword::parse("short").unwrap_err().code, "too_short");
        assert_eq!(NewPassword::parse(&"x".repeat(129)).unwrap_err().code, "too_long");
        assert_eq!(NewPassword::parse("password1").unwrap_err().code, "password_too_common");
        assert_eq!(NewPassword::parse("PassWord1").unwrap_err().code, "password_too_common");
        assert!(NewPassword::parse("correct horse battery").is_ok());
        assert!(NewPassword::parse("пароль-мастера").is_ok(), "non-ASCII counts by characters");
        assert!(COMMON_PASSWORDS.len() >= 4_000, "the shipped list is loaded");
    }

    #[test]
    fn zones_currencies_locales_colors() {
        assert_eq!(TimeZone::parse("Europe/Moscow").unwrap().as_str(), "Europe/Moscow");
        assert!(TimeZone::parse("Mars/Olympus").is_err());
        assert_eq!(Currency::parse("rub").unwrap().as_str(), "RUB");
        assert!(Currency::parse("XYZ").is_err());
        assert_eq!(Locale::parse("HE").unwrap(), Locale::He);
        assert!(Locale::He.is_right_to_left() && !Locale::Ru.is_right_to_left());
        assert!(Locale::parse("de").is_err());
        assert_eq!(CalendarColor::parse("#1E88E5").unwrap().as_str(), "#1e88e5");
        assert!(CalendarColor::parse("blue").is_err());
        assert_eq!(Tag::parse(" Washing_Machines ").unwrap().as_str(), "washing_machines");
        assert!(Tag::parse("two words").is_err());
    }
}
