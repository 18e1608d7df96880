//! `Authorization` leniency: PocketBase accepts the token with or without a `Bearer ` prefix
//! (any case). poem-openapi's bearer scheme insists on the prefix, so the request edge
//! (`api/edge.rs`) normalises the header before the scheme reads it; the spec still says
//! `http bearer`. Header handling is HTTP's: `auth/` only ever sees the token string.

use poem::http::{HeaderMap, HeaderValue, header::AUTHORIZATION};

pub fn normalize_authorization(headers: &mut HeaderMap) {
    if let Some(normalized) = headers
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(normalized_bearer)
    {
        headers.insert(AUTHORIZATION, normalized);
    }
}

/// `Some(new value)` when the header needs rewriting to `Bearer <token>`.
fn normalized_bearer(raw: &str) -> Option<HeaderValue> {
    let trimmed = raw.trim();
    if trimmed.eq_ignore_ascii_case("bearer") {
        // A prefix with no token: leave it for the scheme to reject.
        return None;
    }
    let token = match trimmed.get(..7) {
        Some(prefix) if prefix.eq_ignore_ascii_case("bearer ") => trimmed[7..].trim_start(),
        _ => trimmed,
    };
    if token.is_empty() || (raw.starts_with("Bearer ") && &raw[7..] == token) {
        return None;
    }
    HeaderValue::from_str(&format!("Bearer {token}")).ok()
}

#[cfg(test)]
mod tests {
    use super::normalized_bearer;

    #[test]
    fn prefixes_are_normalised() {
        assert_eq!(normalized_bearer("Bearer abc"), None);
        assert_eq!(normalized_bearer("abc").unwrap(), "Bearer abc");
        assert_eq!(normalized_bearer("bearer abc").unwrap(), "Bearer abc");
        assert_eq!(normalized_bearer("BEARER  abc").unwrap(), "Bearer abc");
        assert_eq!(normalized_bearer("Bearer "), None);
    }
}
