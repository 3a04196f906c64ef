//! The `x-ratelimit-*` headers that Frame.io sends on every response, and the observer hook
//! through which a rate limiter learns them.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use reqwest::header::HeaderMap;

use crate::Operation;

/// The rate-limit state Frame.io reported on one response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests allowed per window (`x-ratelimit-limit`).
    pub limit: u32,
    /// Requests left in the current window (`x-ratelimit-remaining`).
    pub remaining: u32,
    /// Length of the window (`x-ratelimit-window`, sent in milliseconds).
    pub window: Duration,
}

impl RateLimit {
    /// Reads the three headers; `None` unless all of them are present and numeric.
    pub fn from_headers(headers: &HeaderMap) -> Option<RateLimit> {
        let number =
            |name: &str| -> Option<u64> { headers.get(name)?.to_str().ok()?.trim().parse().ok() };

        let limit = u32::try_from(number("x-ratelimit-limit")?).ok()?;
        let remaining = u32::try_from(number("x-ratelimit-remaining")?).ok()?;
        let window = Duration::from_millis(number("x-ratelimit-window")?);
        Some(RateLimit {
            limit,
            remaining,
            window,
        })
    }
}

/// A callback that receives the rate limit of every response, errors included.
///
/// It runs inline on the request path, so it must be quick and must not block.
pub type RateLimitObserver = Arc<dyn Fn(Operation, RateLimit) + Send + Sync>;

/// Reads `Retry-After` (seconds or an HTTP date) or `retry-after-ms`.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    if let Some(ms) = header_str(headers, "retry-after-ms").and_then(|v| v.parse::<u64>().ok()) {
        return Some(Duration::from_millis(ms));
    }

    let value = header_str(headers, "retry-after")?;
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }

    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

pub(crate) fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name)?.to_str().ok().map(str::trim)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn parses_the_three_headers() {
        let map = headers(&[
            ("x-ratelimit-limit", "100"),
            ("x-ratelimit-remaining", "42"),
            ("x-ratelimit-window", "60000"),
        ]);

        let parsed = RateLimit::from_headers(&map).unwrap();

        assert_eq!(parsed.limit, 100);
        assert_eq!(parsed.remaining, 42);
        assert_eq!(parsed.window, Duration::from_secs(60));
    }

    #[test]
    fn missing_or_garbled_headers_give_none() {
        let partial = headers(&[("x-ratelimit-limit", "100")]);
        let garbled = headers(&[
            ("x-ratelimit-limit", "many"),
            ("x-ratelimit-remaining", "1"),
            ("x-ratelimit-window", "1000"),
        ]);

        assert_eq!(RateLimit::from_headers(&partial), None);
        assert_eq!(RateLimit::from_headers(&garbled), None);
    }

    #[test]
    fn retry_after_in_seconds_milliseconds_and_dates() {
        assert_eq!(
            retry_after(&headers(&[("retry-after", "3")])),
            Some(Duration::from_secs(3))
        );
        assert_eq!(
            retry_after(&headers(&[("retry-after-ms", "250")])),
            Some(Duration::from_millis(250))
        );
        let past = headers(&[("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")]);
        assert_eq!(retry_after(&past), Some(Duration::ZERO));
        assert_eq!(retry_after(&headers(&[])), None);
    }
}
