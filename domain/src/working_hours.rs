use crate::{FieldError, FieldErrors};
use chrono::NaiveTime;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One working interval within a day, `start` before `end`, in the technician's time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Shift {
    #[serde(with = "clock")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "09:00"))]
    pub start: NaiveTime,
    #[serde(with = "clock")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "18:00"))]
    pub end: NaiveTime,
}

/// Working hours per weekday (`mon` … `sun`); a missing day is a day off.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct WorkingHours {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mon: Vec<Shift>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tue: Vec<Shift>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub wed: Vec<Shift>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub thu: Vec<Shift>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fri: Vec<Shift>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sat: Vec<Shift>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sun: Vec<Shift>,
}

impl WorkingHours {
    pub fn days(&self) -> BTreeMap<&'static str, &[Shift]> {
        BTreeMap::from([
            ("mon", self.mon.as_slice()),
            ("tue", self.tue.as_slice()),
            ("wed", self.wed.as_slice()),
            ("thu", self.thu.as_slice()),
            ("fri", self.fri.as_slice()),
            ("sat", self.sat.as_slice()),
            ("sun", self.sun.as_slice()),
        ])
    }

    /// Every shift must end after it starts, and shifts of one day must not overlap.
    /// Errors are reported under `field.day[index]`.
    pub fn check(&self, field: &str, errors: &mut FieldErrors) {
        for (day, shifts) in self.days() {
            let mut sorted: Vec<(usize, &Shift)> = shifts.iter().enumerate().collect();
            sorted.sort_by_key(|(_, shift)| shift.start);
            for (index, shift) in &sorted {
                if shift.start >= shift.end {
                    errors.add(
                        &format!("{field}.{day}[{index}]"),
                        FieldError::new("invalid_shift", "must end after it starts"),
                    );
                }
            }
            for pair in sorted.windows(2) {
                if pair[1].1.start < pair[0].1.end {
                    errors.add(
                        &format!("{field}.{day}[{}]", pair[1].0),
                        FieldError::new("overlapping_shift", "overlaps another shift of the same day"),
                    );
                }
            }
        }
    }
}

/// `HH:MM` on the wire.
mod clock {
    use chrono::NaiveTime;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(time: &NaiveTime, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&time.format("%H:%M").to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<NaiveTime, D::Error> {
        let raw = String::deserialize(deserializer)?;
        NaiveTime::parse_from_str(&raw, "%H:%M")
            .map_err(|_| serde::de::Error::custom(format!("{raw:?} is not a time of day like 09:00")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hours(json: &str) -> WorkingHours {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn overlapping_and_backwards_shifts_are_named() {
        let mut errors = FieldErrors::default();
        hours(r#"{"mon":[{"start":"09:00","end":"13:00"},{"start":"12:00","end":"18:00"}],"tue":[{"start":"18:00","end":"09:00"}]}"#)
            .check("working_hours", &mut errors);
        let fields: Vec<&str> = errors.fields.keys().map(String::as_str).collect();
        assert_eq!(fields, ["working_hours.mon[1]", "working_hours.tue[0]"]);
    }

    #[test]
    fn a_split_day_is_fine_and_round_trips() {
        let json = r#"{"mon":[{"start":"09:00","end":"13:00"},{"start":"14:00","end":"18:00"}]}"#;
        let parsed = hours(json);
        let mut errors = FieldErrors::default();
        parsed.check("working_hours", &mut errors);
        assert!(errors.is_empty());
        assert_eq!(serde_json::to_string(&parsed).unwrap(), json);
        assert!(serde_json::from_str::<WorkingHours>(r#"{"mon":[{"start":"9am","end":"18:00"}]}"#).is_err());
        assert!(serde_json::from_str::<WorkingHours>(r#"{"monday":[]}"#).is_err());
    }
}
