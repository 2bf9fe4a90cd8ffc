//! Fault decisions: latency, throttling (token buckets), injected errors and dropped
//! connections. Deterministic for a given fault seed and call order.

use std::collections::BTreeMap;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use tokio::time::Instant;

use super::Faults;

/// What to do with one call.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub delay: Duration,
    /// `Some(ms)`: answer `Throttling.User` with this retry-after.
    pub throttle: Option<u64>,
    /// `Some(true)`: ServiceUnavailable, `Some(false)`: InternalError.
    pub error: Option<bool>,
    /// `Some(true)`: drop after the call took effect; `Some(false)`: before.
    pub drop: Option<bool>,
}

#[derive(Debug, Clone)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// Faults plus the randomness and buckets that apply them.
#[derive(Debug)]
pub struct FaultState {
    pub faults: Faults,
    rng: StdRng,
    buckets: BTreeMap<String, Bucket>,
}

impl FaultState {
    pub fn new(faults: Faults) -> Self {
        FaultState {
            rng: StdRng::seed_from_u64(faults.seed),
            faults,
            buckets: BTreeMap::new(),
        }
    }

    /// Decides the fate of a call to `action` arriving at `now`.
    pub fn decide(&mut self, action: &str, now: Instant) -> Decision {
        let f = &self.faults;
        let mut delay = f.latency;
        if !f.jitter.is_zero() {
            let j = self.rng.random_range(0..=f.jitter.as_millis() as u64);
            delay += Duration::from_millis(j);
        }
        let drop = if f.drop_rate > 0.0 && self.rng.random_bool(f.drop_rate) {
            Some(self.rng.random_bool(0.5))
        } else {
            None
        };
        let throttle = if f.qps_limit > 0.0 {
            let key = if f.qps_per_action {
                action.to_string()
            } else {
                String::new()
            };
            let qps = f.qps_limit;
            let cap = qps.max(1.0);
            let b = self.buckets.entry(key).or_insert(Bucket {
                tokens: cap,
                last: now,
            });
            let elapsed = now.saturating_duration_since(b.last).as_secs_f64();
            b.tokens = (b.tokens + elapsed * qps).min(cap);
            b.last = now;
            if b.tokens >= 1.0 {
                b.tokens -= 1.0;
                None
            } else {
                Some((((1.0 - b.tokens) / qps) * 1000.0).ceil().max(1.0) as u64)
            }
        } else {
            None
        };
        let error =
            if throttle.is_none() && f.error_rate > 0.0 && self.rng.random_bool(f.error_rate) {
                Some(self.rng.random_bool(0.5))
            } else {
                None
            };
        Decision {
            delay,
            throttle,
            error,
            drop,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_faults_by_default() {
        let mut s = FaultState::new(Faults::default());
        let d = s.decide("ListUsers", Instant::now());
        assert_eq!(
            d,
            Decision {
                delay: Duration::ZERO,
                throttle: None,
                error: None,
                drop: None
            }
        );
    }

    #[test]
    fn qps_limit_throttles_the_excess_and_says_when_to_retry() {
        let mut s = FaultState::new(Faults {
            qps_limit: 2.0,
            ..Faults::default()
        });
        let t = Instant::now();
        assert!(s.decide("A", t).throttle.is_none());
        assert!(s.decide("A", t).throttle.is_none());
        let ms = s.decide("A", t).throttle.unwrap();
        assert!((1..=500).contains(&ms), "{ms}");
        assert!(
            s.decide("A", t + Duration::from_millis(600))
                .throttle
                .is_none()
        );
    }

    #[test]
    fn per_action_limits_are_separate() {
        let mut s = FaultState::new(Faults {
            qps_limit: 1.0,
            qps_per_action: true,
            ..Faults::default()
        });
        let t = Instant::now();
        assert!(s.decide("A", t).throttle.is_none());
        assert!(s.decide("B", t).throttle.is_none());
        assert!(s.decide("A", t).throttle.is_some());
    }

    #[test]
    fn error_rate_one_always_fails_and_is_deterministic() {
        let f = Faults {
            error_rate: 1.0,
            seed: 9,
            ..Faults::default()
        };
        let mut a = FaultState::new(f.clone());
        let mut b = FaultState::new(f);
        let t = Instant::now();
        for _ in 0..10 {
            let (x, y) = (a.decide("A", t), b.decide("A", t));
            assert!(x.error.is_some());
            assert_eq!(x, y);
        }
    }
}
