//! Retry policy: bounded attempts, exponential backoff with jitter, a total deadline.
//!
//! Pure: the jitter draw and the elapsed time are parameters.

use std::time::Duration;

/// How often and how patiently a failed call is sent again.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in total, the first one included (1 = never retry).
    pub max_attempts: u32,
    /// Backoff before the second attempt; doubles with every further attempt.
    pub base_delay: Duration,
    /// Ceiling for one backoff.
    pub max_delay: Duration,
    /// No attempt starts after this much time has passed since the first.
    pub deadline: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 6,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(20),
            deadline: Duration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        }
    }

    /// The wait before attempt `attempt + 1`, after `attempt` (1-based) attempts failed,
    /// or `None` when the policy says stop.
    ///
    /// `jitter` is a draw from `[0, 1)`: the wait is half the exponential step plus a
    /// random share of the other half ("equal jitter"). A server's `x-acs-retry-after`
    /// hint replaces the computed wait. `elapsed` is the time since the first attempt;
    /// no wait may end past the deadline.
    pub fn backoff(
        &self,
        attempt: u32,
        elapsed: Duration,
        retry_after: Option<Duration>,
        jitter: f64,
    ) -> Option<Duration> {
        if attempt >= self.max_attempts {
            return None;
        }
        let wait = match retry_after {
            Some(hint) => hint,
            None => {
                let step = self
                    .base_delay
                    .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)))
                    .min(self.max_delay);
                let jitter = jitter.clamp(0.0, 1.0);
                step / 2 + step.mul_f64(jitter) / 2
            }
        };
        if elapsed.saturating_add(wait) > self.deadline {
            return None;
        }
        Some(wait)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(1000),
            deadline: Duration::from_secs(10),
        }
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let p = policy();
        let waits: Vec<_> = (1..5)
            .map(|a| p.backoff(a, Duration::ZERO, None, 1.0).unwrap())
            .collect();
        assert_eq!(
            waits,
            [100, 200, 400, 800].map(Duration::from_millis).to_vec()
        );
        let p = RetryPolicy {
            max_attempts: 10,
            ..policy()
        };
        assert_eq!(
            p.backoff(8, Duration::ZERO, None, 1.0),
            Some(Duration::from_millis(1000))
        );
    }

    #[test]
    fn jitter_spreads_the_wait_between_half_and_full_step() {
        let p = policy();
        assert_eq!(
            p.backoff(3, Duration::ZERO, None, 0.0),
            Some(Duration::from_millis(200))
        );
        assert_eq!(
            p.backoff(3, Duration::ZERO, None, 0.5),
            Some(Duration::from_millis(300))
        );
    }

    #[test]
    fn attempts_are_bounded() {
        let p = policy();
        assert!(p.backoff(4, Duration::ZERO, None, 0.0).is_some());
        assert_eq!(p.backoff(5, Duration::ZERO, None, 0.0), None);
        assert_eq!(
            RetryPolicy::none().backoff(1, Duration::ZERO, None, 0.0),
            None
        );
    }

    #[test]
    fn server_retry_after_replaces_the_computed_wait() {
        let p = policy();
        assert_eq!(
            p.backoff(1, Duration::ZERO, Some(Duration::from_millis(2500)), 0.3),
            Some(Duration::from_millis(2500))
        );
    }

    #[test]
    fn no_wait_may_end_past_the_deadline() {
        let p = policy();
        assert_eq!(p.backoff(1, Duration::from_millis(9990), None, 0.0), None);
        assert_eq!(
            p.backoff(1, Duration::from_secs(5), Some(Duration::from_secs(6)), 0.0),
            None
        );
        assert!(p.backoff(1, Duration::from_secs(5), None, 0.0).is_some());
    }
}
