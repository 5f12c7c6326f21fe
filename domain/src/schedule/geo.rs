/// Mean Earth radius (IUGG), good to about 0.5 % for a sphere.
const EARTH_RADIUS_KM: f64 = 6371.0088;

/// Great-circle distance between two `(latitude, longitude)` points in degrees, a straight-line lower bound
/// for travel between sites.
pub fn haversine_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (lat_a, lat_b) = (a.0.to_radians(), b.0.to_radians());
    let half_lat = (lat_b - lat_a) / 2.0;
    let half_lon = (b.1 - a.1).to_radians() / 2.0;
    let h = half_lat.sin().powi(2) + lat_a.cos() * lat_b.cos() * half_lon.sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.sqrt().min(1.0).asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moscow_to_saint_petersburg_is_about_634_km() {
        let moscow = (55.7558, 37.6173);
        let saint_petersburg = (59.9343, 30.3351);
        let distance = haversine_km(moscow, saint_petersburg);
        assert!((distance - 634.0).abs() < 5.0, "{distance}");
        assert!((haversine_km(saint_petersburg, moscow) - distance).abs() < 1e-9);
        assert_eq!(haversine_km(moscow, moscow), 0.0);
    }

    #[test]
    fn antipodes_are_half_the_circumference_apart() {
        let half_circumference = std::f64::consts::PI * EARTH_RADIUS_KM;
        assert!((haversine_km((0.0, 0.0), (0.0, 180.0)) - half_circumference).abs() < 1e-6);
    }
}
