use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// One page of a keyset-paged list. `next_cursor` is absent on the last page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<Cursor>,
}

/// An opaque position in a list ordered by a time-ordered id. Clients pass it back unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String))]
#[serde(transparent)]
pub struct Cursor(pub Uuid);

/// A requested page size, clamped to `1..=MAX` with `DEFAULT` when absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageLimit(u16);

impl PageLimit {
    pub const DEFAULT: u16 = 50;
    pub const MAX: u16 = 200;

    pub fn new(requested: Option<u32>) -> Self {
        let limit = requested.unwrap_or(u32::from(Self::DEFAULT)).clamp(1, u32::from(Self::MAX));
        Self(u16::try_from(limit).unwrap_or(Self::MAX))
    }

    pub fn get(self) -> usize {
        usize::from(self.0)
    }

    /// One more than the page so the query can tell whether another page follows.
    pub fn probe(self) -> i64 {
        i64::from(self.0) + 1
    }
}

/// Cuts rows fetched with [`PageLimit::probe`] to the page; answers the last kept row when another
/// page follows, for the caller to make its cursor from.
pub fn cut_probe<T>(rows: &mut Vec<T>, limit: PageLimit) -> Option<&T> {
    if rows.len() > limit.get() {
        rows.truncate(limit.get());
        rows.last()
    } else {
        None
    }
}

impl<T> Page<T> {
    /// Cuts a result fetched with [`PageLimit::probe`] rows to the page and sets the cursor.
    pub fn from_probe(mut rows: Vec<T>, limit: PageLimit, key: impl Fn(&T) -> Uuid) -> Self {
        let next_cursor = cut_probe(&mut rows, limit).map(|last| Cursor(key(last)));
        Self { items: rows, next_cursor }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_clamped() {
        assert_eq!(PageLimit::new(None).get(), 50);
        assert_eq!(PageLimit::new(Some(0)).get(), 1);
        assert_eq!(PageLimit::new(Some(10_000)).get(), 200);
    }

    #[test]
    fn a_probe_row_becomes_the_cursor_of_the_last_kept_row() {
        let ids: Vec<Uuid> = (0..4).map(|_| Uuid::now_v7()).collect();
        let page = Page::from_probe(ids.clone(), PageLimit::new(Some(3)), |id| *id);
        assert_eq!(page.items, ids[..3]);
        assert_eq!(page.next_cursor, Some(Cursor(ids[2])));
        let last = Page::from_probe(ids[..2].to_vec(), PageLimit::new(Some(3)), |id| *id);
        assert_eq!(last.next_cursor, None);
    }
}
