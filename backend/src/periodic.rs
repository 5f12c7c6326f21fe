//! Periodic dispatch work run inside every server process: expiring unanswered offers and
//! generating recurring orders. Both are safe to run from several processes at once (row locks
//! and conditional updates decide), so no leader is needed.

use crate::state::AppState;
use chrono::Utc;
use std::time::Duration;

const OFFER_SWEEP: Duration = Duration::from_secs(30);
const RECURRING_RUN: Duration = Duration::from_secs(600);

pub fn spawn(state: AppState) {
    let offers = state.clone();
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(OFFER_SWEEP);
        loop {
            ticks.tick().await;
            match crate::offers::service::expire(&offers, Utc::now()).await {
                Ok(0) => {}
                Ok(orders) => tracing::info!(orders, "offers expired without a taker; dispatchers alerted"),
                Err(error) => tracing::error!(error = format!("{error:#}"), "offer expiry failed"),
            }
        }
    });
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(RECURRING_RUN);
        loop {
            ticks.tick().await;
            match crate::recurring::service::generate(&state, None, Utc::now()).await {
                Ok(report) if report.orders_created > 0 => tracing::info!(?report, "recurring orders generated"),
                Ok(_) => {}
                Err(error) => tracing::error!(error = format!("{error:#}"), "recurring generation failed"),
            }
        }
    });
}
