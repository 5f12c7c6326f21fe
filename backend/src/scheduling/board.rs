//! The dispatch board of a time range: technicians with their bookings, time off and the
//! organization's holidays, loaded in a handful of queries and handed to the pure slot finder.

use super::repo::{self, BookingRow, TechnicianFacts};
use chrono::{DateTime, Duration, Utc};
use domain::api::scheduling::{HolidayView, TimeOffView};
use domain::schedule::{Interval, TechnicianCalendar};
use domain::{OrgId, UserId};
use sqlx::PgConnection;
use std::collections::HashMap;
use uuid::Uuid;

/// How an organization dispatches.
#[derive(Debug, Clone, Copy)]
pub struct DispatchSettings {
    pub travel_buffer: Duration,
    pub auto_dispatch: bool,
    pub offer_fanout: i32,
    pub offer_timeout: Duration,
}

pub async fn settings(conn: &mut PgConnection, org: OrgId) -> sqlx::Result<DispatchSettings> {
    let org = crate::orgs::repo::find(conn, org).await?.ok_or(sqlx::Error::RowNotFound)?;
    Ok(DispatchSettings {
        travel_buffer: Duration::minutes(i64::from(org.travel_buffer_minutes)),
        auto_dispatch: org.auto_dispatch,
        offer_fanout: org.offer_fanout,
        offer_timeout: Duration::minutes(i64::from(org.offer_timeout_minutes)),
    })
}

#[derive(Debug)]
pub struct Board {
    pub technicians: Vec<TechnicianFacts>,
    /// Per technician, by start.
    pub bookings: HashMap<UserId, Vec<BookingRow>>,
    pub time_off: HashMap<UserId, Vec<TimeOffView>>,
    pub holidays: Vec<HolidayView>,
}

/// Most time-off periods one board reads; far above what a real range of a real team holds.
const MAX_TIME_OFF: i64 = 50_000;

impl Board {
    /// Loads what overlaps `[from, to)`, widened by a day on each side so that jobs per local day
    /// and travel buffers at the edges are counted right in every time zone.
    pub async fn load(
        conn: &mut PgConnection,
        org: OrgId,
        technicians: Vec<TechnicianFacts>,
        (from, to): (DateTime<Utc>, DateTime<Utc>),
    ) -> sqlx::Result<Self> {
        let ids: Vec<Uuid> = technicians.iter().map(|t| t.id.0).collect();
        let wide = (from - Duration::days(1), to + Duration::days(1));
        let mut bookings: HashMap<UserId, Vec<BookingRow>> = HashMap::new();
        for booking in repo::bookings(&mut *conn, org, &ids, wide).await? {
            bookings.entry(booking.technician_id).or_default().push(booking);
        }
        let mut time_off: HashMap<UserId, Vec<TimeOffView>> = HashMap::new();
        for period in repo::time_off_in(&mut *conn, org, &ids, wide, None, MAX_TIME_OFF).await? {
            time_off.entry(period.technician_id).or_default().push(period);
        }
        let holidays = repo::holidays(&mut *conn, org, wide.0.date_naive(), wide.1.date_naive()).await?;
        Ok(Self { technicians, bookings, time_off, holidays })
    }

    /// Leaves an order's own booking out, so moving or re-ranking it does not collide with itself.
    pub fn without_order(mut self, order: domain::OrderId) -> Self {
        for list in self.bookings.values_mut() {
            list.retain(|b| b.order_id != order);
        }
        self
    }

    pub fn bookings_of(&self, technician: UserId) -> &[BookingRow] {
        self.bookings.get(&technician).map_or(&[], Vec::as_slice)
    }

    pub fn time_off_of(&self, technician: UserId) -> &[TimeOffView] {
        self.time_off.get(&technician).map_or(&[], Vec::as_slice)
    }

    /// The slot finder's view of every technician on the board.
    pub fn calendars(&self) -> Vec<TechnicianCalendar> {
        self.technicians
            .iter()
            .map(|t| TechnicianCalendar {
                technician: t.id,
                tz: t.time_zone.tz(),
                hours: t.working_hours.0.clone(),
                time_off: self.time_off_of(t.id).iter().filter_map(|p| Interval::new(p.starts_at, p.ends_at)).collect(),
                bookings: self.bookings_of(t.id).iter().filter_map(|b| Interval::new(b.start, b.end)).collect(),
                max_jobs_per_day: u32::try_from(t.max_jobs_per_day).unwrap_or(0),
            })
            .collect()
    }

    pub fn holiday_dates(&self) -> Vec<chrono::NaiveDate> {
        self.holidays.iter().map(|h| h.day).collect()
    }
}
