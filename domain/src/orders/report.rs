//! The work report's money and the proof an order needs before it may be completed. Integers only:
//! amounts in minor units, part quantities in thousandths, every rounding half up.

use crate::{FieldError, FieldErrors};

/// Thousandths in one unit of a part quantity (`numeric(12,3)` in the database).
pub const QUANTITY_SCALE: i64 = 1000;
/// The largest quantity one part line may have, in thousandths (one million units).
pub const MAX_QUANTITY_THOUSANDTHS: i64 = 1_000_000 * QUANTITY_SCALE;

/// Parses a decimal quantity such as `1.5` or `2` into thousandths: more than three decimals, a
/// sign, an exponent or zero are refused.
pub fn parse_quantity(raw: &str) -> Result<i64, FieldError> {
    let invalid = || FieldError::new("invalid_quantity", "must be a positive number with at most 3 decimals");
    let (whole, fraction) = raw.split_once('.').unwrap_or((raw, ""));
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if whole.is_empty() || whole.len() > 10 || fraction.len() > 3 || !digits(whole) || !digits(fraction) {
        return Err(invalid());
    }
    let whole: i64 = whole.parse().map_err(|_| invalid())?;
    let fraction: i64 = format!("{fraction:0<3}").parse().map_err(|_| invalid())?;
    let thousandths = whole * QUANTITY_SCALE + fraction;
    if thousandths == 0 {
        return Err(invalid());
    }
    if thousandths > MAX_QUANTITY_THOUSANDTHS {
        return Err(FieldError::new("out_of_range", "must be at most 1000000"));
    }
    Ok(thousandths)
}

/// `numerator / denominator` rounded half up, for non-negative operands; `None` when it does not fit.
fn div_half_up(numerator: i128, denominator: i128) -> Option<i64> {
    i64::try_from((numerator + denominator / 2) / denominator).ok()
}

/// A part line's total: quantity × unit price, rounded half up to minor units.
pub fn line_total_minor(quantity_thousandths: i64, unit_price_minor: i64) -> Option<i64> {
    if quantity_thousandths < 0 || unit_price_minor < 0 {
        return None;
    }
    div_half_up(i128::from(quantity_thousandths) * i128::from(unit_price_minor), i128::from(QUANTITY_SCALE))
}

/// Labour: minutes × the hourly rate / 60, rounded half up to minor units.
pub fn labour_total_minor(labour_minutes: u32, hourly_rate_minor: i64) -> Option<i64> {
    if hourly_rate_minor < 0 {
        return None;
    }
    div_half_up(i128::from(labour_minutes) * i128::from(hourly_rate_minor), 60)
}

/// What a report costs: each part line, the parts, the labour and their sum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportTotals {
    pub line_totals_minor: Vec<i64>,
    pub parts_minor: i64,
    pub labour_minor: i64,
    pub total_minor: i64,
}

/// Totals of `parts` (quantity in thousandths, unit price) and of the labour; `None` on overflow.
pub fn totals(parts: &[(i64, i64)], labour_minutes: u32, hourly_rate_minor: i64) -> Option<ReportTotals> {
    let line_totals_minor =
        parts.iter().map(|&(quantity, price)| line_total_minor(quantity, price)).collect::<Option<Vec<_>>>()?;
    let parts_minor = line_totals_minor.iter().try_fold(0_i64, |sum, &line| sum.checked_add(line))?;
    let labour_minor = labour_total_minor(labour_minutes, hourly_rate_minor)?;
    let total_minor = parts_minor.checked_add(labour_minor)?;
    Some(ReportTotals { line_totals_minor, parts_minor, labour_minor, total_minor })
}

/// One checklist item as completion sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChecklistProof<'a> {
    pub item_id: &'a str,
    pub required: bool,
    /// Done, or not applicable with a note.
    pub settled: bool,
}

/// What the order has to show for its work, against what it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Evidence<'a> {
    pub checklist: &'a [ChecklistProof<'a>],
    pub photos_before: (i64, i64),
    pub photos_after: (i64, i64),
    pub has_report: bool,
}

/// Everything still missing before an order may be completed, keyed `checklist.<item>`,
/// `photos.before`, `photos.after` and `report`; empty when nothing is.
pub fn missing_proof(evidence: &Evidence<'_>) -> FieldErrors {
    let mut missing = FieldErrors::default();
    for item in evidence.checklist.iter().filter(|item| item.required && !item.settled) {
        missing.add(
            &format!("checklist.{}", item.item_id),
            FieldError::new("incomplete", "a required item must be done, or not applicable with a note"),
        );
    }
    for (field, (have, need)) in [("photos.before", evidence.photos_before), ("photos.after", evidence.photos_after)] {
        if have < need {
            missing.add(field, FieldError::new("too_few_photos", format!("needs {need} photos, has {have}")));
        }
    }
    if !evidence.has_report {
        missing.add("report", FieldError::new("required", "completing an order needs the work report"));
    }
    missing
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn quantities_parse_to_thousandths() {
        assert_eq!(parse_quantity("1.5"), Ok(1500));
        assert_eq!(parse_quantity("2"), Ok(2000));
        assert_eq!(parse_quantity("0.001"), Ok(1));
        assert_eq!(parse_quantity("1000000"), Ok(MAX_QUANTITY_THOUSANDTHS));
        for bad in ["0", "0.000", "-1", "1.0005", "1e3", "", ".5", "1,5", "+1", "12345678901"] {
            assert!(parse_quantity(bad).is_err(), "{bad:?} parsed");
        }
        assert_eq!(parse_quantity("1000000.001").unwrap_err().code, "out_of_range");
    }

    #[test]
    fn line_totals_round_half_up() {
        // 1.5 × 1,234.56 is exact; 1.5 × 1,234.57 = 1,851.855 rounds up.
        assert_eq!(line_total_minor(1500, 123_456), Some(185_184));
        assert_eq!(line_total_minor(1500, 123_457), Some(185_186));
        assert_eq!(line_total_minor(333, 1), Some(0));
        assert_eq!(line_total_minor(500, 1), Some(1), "exactly half rounds up");
        assert_eq!(line_total_minor(499, 1), Some(0));
        assert_eq!(line_total_minor(1, 0), Some(0));
        assert_eq!(line_total_minor(-1, 1), None);
    }

    #[test]
    fn labour_is_minutes_at_the_hourly_rate() {
        assert_eq!(labour_total_minor(90, 200_000), Some(300_000));
        // 7 minutes at 1,000.01 an hour = 116.6678…, rounds to 116.67.
        assert_eq!(labour_total_minor(7, 100_001), Some(11_667));
        assert_eq!(labour_total_minor(1, 30), Some(1), "half a minor unit rounds up");
        assert_eq!(labour_total_minor(1, 29), Some(0));
        assert_eq!(labour_total_minor(0, 500_000), Some(0));
        assert_eq!(labour_total_minor(10, -1), None);
    }

    #[test]
    fn totals_add_up_and_refuse_overflow() {
        let got = totals(&[(1500, 123_457), (2000, 5_000)], 7, 100_001).unwrap();
        assert_eq!(
            got,
            ReportTotals {
                line_totals_minor: vec![185_186, 10_000],
                parts_minor: 195_186,
                labour_minor: 11_667,
                total_minor: 206_853
            }
        );
        assert_eq!(totals(&[], 0, 0).unwrap().total_minor, 0);
        assert_eq!(totals(&[(MAX_QUANTITY_THOUSANDTHS, i64::MAX)], 0, 0), None);
        assert_eq!(totals(&[(1000, i64::MAX), (1000, 1)], 0, 0), None);
    }

    #[test]
    fn missing_proof_names_exactly_what_is_missing() {
        let checklist = [
            ChecklistProof { item_id: "diagnose", required: true, settled: false },
            ChecklistProof { item_id: "clean", required: false, settled: false },
            ChecklistProof { item_id: "test", required: true, settled: true },
        ];
        let missing = missing_proof(&Evidence {
            checklist: &checklist,
            photos_before: (1, 2),
            photos_after: (3, 3),
            has_report: false,
        });
        let fields: Vec<&str> = missing.fields.keys().map(String::as_str).collect();
        assert_eq!(fields, ["checklist.diagnose", "photos.before", "report"]);
        let complete =
            Evidence { checklist: &checklist[1..], photos_before: (2, 2), photos_after: (4, 3), has_report: true };
        assert!(missing_proof(&complete).is_empty());
    }

    proptest! {
        #[test]
        fn line_totals_are_the_nearest_minor_unit(quantity in 1..=MAX_QUANTITY_THOUSANDTHS, price in 0..=10_000_000_000_i64) {
            let exact = i128::from(quantity) * i128::from(price);
            let total = i128::from(line_total_minor(quantity, price).unwrap());
            // |total × 1000 − exact| ≤ 500, and exactly half rounds up.
            prop_assert!((total * 1000 - exact).abs() <= 500);
            prop_assert!(total * 1000 - exact != -500);
        }
    }
}
