//! A latency histogram in microseconds with logarithmic buckets: every value is counted in
//! a bucket no wider than 1/64 of its value, so percentiles are within 1.6 % (reported as the
//! bucket's upper end, never below the true value); the maximum is exact.

/// Values below `1 << SUB_BITS` get a bucket each; above, each power of two is split into
/// `1 << (SUB_BITS - 1)` buckets.
const SUB_BITS: u32 = 7;
const HALF: u64 = 1 << (SUB_BITS - 1);
const BUCKETS: usize = (64 - SUB_BITS as usize + 2) * HALF as usize;

/// Counts of values (microseconds) by bucket.
#[derive(Clone, Debug)]
pub struct Histogram {
    counts: Vec<u64>,
    total: u64,
    max: u64,
    sum: u128,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram::new()
    }
}

impl Histogram {
    /// An empty histogram.
    pub fn new() -> Histogram {
        Histogram {
            counts: vec![0; BUCKETS],
            total: 0,
            max: 0,
            sum: 0,
        }
    }

    /// Counts one value.
    pub fn record(&mut self, value: u64) {
        self.counts[index(value)] += 1;
        self.total += 1;
        self.max = self.max.max(value);
        self.sum += u128::from(value);
    }

    /// Adds every value counted in `other`.
    pub fn merge(&mut self, other: &Histogram) {
        for (mine, theirs) in self.counts.iter_mut().zip(&other.counts) {
            *mine += theirs;
        }
        self.total += other.total;
        self.max = self.max.max(other.max);
        self.sum += other.sum;
    }

    /// How many values were counted.
    pub fn len(&self) -> u64 {
        self.total
    }

    /// Whether no value was counted.
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// The largest value counted (exact), 0 when empty.
    pub fn max(&self) -> u64 {
        self.max
    }

    /// The mean of the values counted (exact), 0 when empty.
    pub fn mean(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.sum as f64 / self.total as f64
        }
    }

    /// The value below or at which `percent` % of the values fall: the upper end of its
    /// bucket, capped at the maximum. 0 when empty.
    pub fn percentile(&self, percent: f64) -> u64 {
        if self.total == 0 {
            return 0;
        }
        let rank = ((percent / 100.0) * self.total as f64).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (bucket, count) in self.counts.iter().enumerate() {
            seen += count;
            if seen >= rank {
                return upper_end(bucket).min(self.max);
            }
        }
        self.max
    }
}

fn index(value: u64) -> usize {
    if value < 2 * HALF {
        return value as usize;
    }
    let highest = 63 - value.leading_zeros();
    let shift = highest - (SUB_BITS - 1);
    ((shift as u64) * HALF + (value >> shift)) as usize
}

/// The lowest and highest values of a bucket.
fn bounds(bucket: usize) -> (u64, u64) {
    let bucket = bucket as u64;
    if bucket < 2 * HALF {
        return (bucket, bucket);
    }
    let shift = bucket / HALF - 1;
    let low = (bucket - shift * HALF) << shift;
    (low, low + ((1u64 << shift) - 1))
}

fn upper_end(bucket: usize) -> u64 {
    bounds(bucket).1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_contiguous_and_narrow() {
        let mut expected_low = 0;
        for bucket in 0..BUCKETS {
            let (low, high) = bounds(bucket);
            assert_eq!(low, expected_low, "bucket {bucket}");
            assert_eq!(index(low), bucket);
            assert_eq!(index(high), bucket);
            assert!((high - low) as f64 <= low as f64 / 64.0, "bucket {bucket}");
            if high == u64::MAX {
                assert_eq!(bucket, BUCKETS - 1);
                return;
            }
            expected_low = high + 1;
        }
        panic!("the buckets stop before u64::MAX");
    }

    #[test]
    fn percentiles_are_close_and_never_low() {
        let mut histogram = Histogram::new();
        for value in 1..=10_000u64 {
            histogram.record(value);
        }
        for (percent, exact) in [(50.0, 5_000), (90.0, 9_000), (99.0, 9_900), (100.0, 10_000)] {
            let reported = histogram.percentile(percent);
            assert!(reported >= exact, "p{percent}: {reported}");
            assert!(
                reported as f64 <= exact as f64 * 1.016,
                "p{percent}: {reported}"
            );
        }
        assert_eq!(histogram.max(), 10_000);
        let mut other = Histogram::new();
        other.record(1_000_000);
        histogram.merge(&other);
        assert_eq!((histogram.len(), histogram.max()), (10_001, 1_000_000));
        assert_eq!(Histogram::new().percentile(50.0), 0);
    }
}
