//! CORS, as PocketBase does it: every origin by default (`BAI_CORS_ORIGINS=*`), or a list.
//! Swagger UI opened from another address than the API (`127.0.0.1` vs `localhost`, a proxy)
//! and web clients need it.
//!
//! poem's `Cors` answers preflights itself; this wraps it so that
//! - a preflight answers 204 (PocketBase's status; poem's is 200),
//! - an `OPTIONS` that is not a preflight (no `Access-Control-Request-Method`) is no CORS
//!   request and still gets the route's 405 with `Allow`,
//! - every other answer, errors included, is the envelope: errors are rendered before `Cors`
//!   adds its headers (it would otherwise render them its own way), and `Cors`'s own refusals
//!   (origin, method) reach the edge's renderer as 403.

use poem::http::header::{ACCESS_CONTROL_REQUEST_METHOD, ORIGIN, RETRY_AFTER};
use poem::http::{HeaderValue, Method, StatusCode};
use poem::middleware::Cors;
use poem::{Endpoint, EndpointExt, IntoResponse, Response};

use super::edge::X_REQUEST_ID;
use super::rejections::{AllowIndex, render_error};

/// Which origins may call from a browser: `*` (any), or exact origins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CorsOrigins {
    Any,
    Only(Vec<HeaderValue>),
}

impl CorsOrigins {
    /// `*`, or a comma-separated list such as `https://a.example,https://b.example:8443`.
    pub fn parse(setting: &str) -> Result<Self, String> {
        if setting.trim() == "*" {
            return Ok(Self::Any);
        }
        let origins: Vec<HeaderValue> = setting
            .split(',')
            .map(str::trim)
            .filter(|o| !o.is_empty())
            .map(|origin| {
                // Browsers send the serialised origin: scheme, host, port, nothing else.
                let valid = !origin.contains('*')
                    && url::Url::parse(origin).is_ok_and(|url| {
                        matches!(url.scheme(), "http" | "https")
                            && url.origin().ascii_serialization() == origin
                    });
                match HeaderValue::from_str(origin) {
                    Ok(value) if valid => Ok(value),
                    _ => Err(format!(
                        "BAI_CORS_ORIGINS: {origin:?} is not an origin like https://app.example.com"
                    )),
                }
            })
            .collect::<Result<_, _>>()?;
        if origins.is_empty() {
            return Err("BAI_CORS_ORIGINS is empty: use * or a list of origins".into());
        }
        Ok(Self::Only(origins))
    }

    fn middleware(&self) -> Cors {
        let cors = Cors::new()
            .allow_methods([Method::GET, Method::POST])
            .expose_headers([X_REQUEST_ID, RETRY_AFTER]);
        match self {
            Self::Any => cors,
            Self::Only(origins) => origins
                .iter()
                .fold(cors, |cors, origin| cors.allow_origin(origin.clone())),
        }
    }
}

/// `routes` with CORS; `allow` gives the 405s their `Allow`.
pub fn with_cors(
    routes: impl Endpoint + 'static,
    origins: CorsOrigins,
    allow: AllowIndex,
) -> impl Endpoint<Output = Response> {
    let rendered = routes.around(move |next, req| {
        let allow = allow.clone();
        async move {
            let path = req.uri().path().to_owned();
            Ok(match next.call(req).await {
                Ok(response) => response.into_response(),
                Err(err) => render_error(err, &path, &allow),
            })
        }
    });
    rendered
        .with(origins.middleware())
        .around(|next, mut req| async move {
            let preflight = req.method() == Method::OPTIONS
                && req.headers().contains_key(ACCESS_CONTROL_REQUEST_METHOD);
            if req.method() == Method::OPTIONS && !preflight {
                req.headers_mut().remove(ORIGIN);
            }
            let mut response = next.call(req).await?.into_response();
            if preflight && response.status() == StatusCode::OK {
                response.set_status(StatusCode::NO_CONTENT);
            }
            Ok(response)
        })
}

#[cfg(test)]
mod tests {
    use super::CorsOrigins;

    #[test]
    fn origins_are_star_or_a_list_of_origins() {
        assert_eq!(CorsOrigins::parse("*"), Ok(CorsOrigins::Any));
        let list = CorsOrigins::parse("https://a.example, http://127.0.0.1:8090").unwrap();
        assert_eq!(
            list,
            CorsOrigins::Only(vec![
                "https://a.example".parse().unwrap(),
                "http://127.0.0.1:8090".parse().unwrap()
            ])
        );
        for bad in [
            "",
            " , ",
            "a.example",
            "https://a.example/path",
            "https://*.example",
        ] {
            assert!(CorsOrigins::parse(bad).is_err(), "{bad:?}");
        }
    }
}
