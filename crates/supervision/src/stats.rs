//! Robust statistics: the median and the median absolute deviation (MAD).

/// The median of `values` (sorted in place); 0 for none.
pub fn median(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// The median and the MAD (median of absolute deviations from the median, unscaled).
pub fn median_mad(values: &[f64]) -> (f64, f64) {
    let mut v = values.to_vec();
    let m = median(&mut v);
    let mut dev: Vec<f64> = v.iter().map(|x| (x - m).abs()).collect();
    (m, median(&mut dev))
}

/// How far `x` is above the median in robust standard deviations: `(x - median) / max(1.4826 ×
/// MAD, min_scale)` (1.4826 makes the MAD estimate the standard deviation of normal data).
pub fn robust_z(x: f64, median: f64, mad: f64, min_scale: f64) -> f64 {
    (x - median) / (1.4826 * mad).max(min_scale).max(f64::MIN_POSITIVE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_mad_ignore_the_outlier() {
        // By hand: sorted 8 9 10 11 200 → median 10; deviations 2 1 0 1 190 → MAD 1.
        assert_eq!(median_mad(&[10.0, 9.0, 200.0, 11.0, 8.0]), (10.0, 1.0));
        assert_eq!(median_mad(&[1.0, 3.0]), (2.0, 1.0));
        assert_eq!(median_mad(&[]), (0.0, 0.0));
        // (40 - 10) / max(1.4826, 2) = 15.
        assert_eq!(robust_z(40.0, 10.0, 1.0, 2.0), 15.0);
    }
}
