//! Percentiles of a set of durations.

use serde::{Deserialize, Serialize};

/// Nearest-rank percentiles, in microseconds.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct Summary {
    pub n: usize,
    pub p50_us: f64,
    pub p99_us: f64,
    pub max_us: f64,
    pub mean_us: f64,
}

impl Summary {
    pub fn of_ns(values: &[u64]) -> Summary {
        if values.is_empty() {
            return Summary::default();
        }
        let mut v = values.to_vec();
        v.sort_unstable();
        let rank = |p: f64| {
            let r = ((p / 100.0) * v.len() as f64).ceil() as usize;
            v[r.clamp(1, v.len()) - 1] as f64 / 1000.0
        };
        Summary {
            n: v.len(),
            p50_us: rank(50.0),
            p99_us: rank(99.0),
            max_us: *v.last().unwrap() as f64 / 1000.0,
            mean_us: v.iter().map(|&x| x as f64).sum::<f64>() / v.len() as f64 / 1000.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank() {
        let v: Vec<u64> = (1..=100).map(|x| x * 1000).collect();
        let s = Summary::of_ns(&v);
        assert_eq!(s.p50_us, 50.0);
        assert_eq!(s.p99_us, 99.0);
        assert_eq!(s.max_us, 100.0);
        assert_eq!(Summary::of_ns(&[7000]).p99_us, 7.0);
        assert_eq!(Summary::of_ns(&[]).n, 0);
    }
}
