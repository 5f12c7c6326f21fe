//! What the benchmarks share: how they read their latencies.

/// The `p`-th percentile (nearest rank) of sorted microseconds, in milliseconds; NaN when empty.
pub fn percentile_ms(sorted_us: &[u64], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted_us.len() as f64).ceil() as usize;
    sorted_us.get(rank.saturating_sub(1)).map_or(f64::NAN, |&us| us as f64 / 1000.0)
}
