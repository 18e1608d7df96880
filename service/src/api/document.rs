//! The OpenAPI document as committed and as served: poem-openapi's, plus what it cannot say.
//!
//! - `security: []` on every operation without a security requirement: public on purpose, not
//!   forgotten (redocly's `security-defined`); the PocketBase SDK routes, which check the token
//!   themselves, say `bearerAuth`.
//! - `servers`: the committed file names the default `cargo run` address as an example; the
//!   served document says `/`, so Swagger UI calls the host and port it was loaded from
//!   (`127.0.0.1` or `localhost`, any `BAI_ADDR`, behind a proxy).

use poem::endpoint::make_sync;
use poem::web::Html;
use poem::{Endpoint, Route};
use serde_yaml::{Mapping, Sequence, Value};

use super::api_service;

/// The PocketBase SDK's routes read `Authorization` themselves, so that even their 401 keeps
/// PocketBase's error shape; poem-openapi cannot see that they need the bearer token.
const POCKETBASE_SDK_PATHS: &str = "/api/collections/";

/// `[{bearerAuth: []}]`
fn bearer_auth() -> Sequence {
    let mut requirement = Mapping::new();
    requirement.insert("bearerAuth".into(), Value::Sequence(Sequence::new()));
    vec![Value::Mapping(requirement)]
}

/// The example server of the committed document.
const EXAMPLE_SERVER: &str = "http://localhost:8090";

/// The document with one `servers` entry.
fn document(server: &str, description: &str) -> Value {
    let mut doc: Value =
        serde_yaml::from_str(&api_service().spec_yaml()).expect("poem-openapi's YAML parses");
    for (path, item) in doc["paths"].as_mapping_mut().into_iter().flatten() {
        let reads_its_own_token = path
            .as_str()
            .is_some_and(|p| p.starts_with(POCKETBASE_SDK_PATHS));
        for (_, operation) in item.as_mapping_mut().into_iter().flatten() {
            if let Some(operation) = operation.as_mapping_mut()
                && !operation.contains_key("security")
            {
                let security = if reads_its_own_token {
                    bearer_auth()
                } else {
                    Sequence::new()
                };
                operation.insert("security".into(), Value::Sequence(security));
            }
        }
    }
    let mut entry = Mapping::new();
    entry.insert("url".into(), server.into());
    entry.insert("description".into(), description.into());
    doc["servers"] = Value::Sequence(vec![Value::Mapping(entry)]);
    doc
}

fn committed() -> Value {
    document(
        EXAMPLE_SERVER,
        "`cargo run` with the default BAI_ADDR (the document served at /openapi.json says `/`)",
    )
}

fn live() -> Value {
    document("/", "this server")
}

/// `spec/openapi.yaml`: what `bai-service spec` prints and the drift test compares.
pub fn committed_yaml() -> String {
    serde_yaml::to_string(&committed()).expect("a YAML value serialises")
}

/// The committed document as JSON (tests read it).
pub fn committed_json() -> String {
    serde_json::to_string_pretty(&committed()).expect("a YAML value serialises as JSON")
}

/// The served document, JSON.
pub fn live_json() -> String {
    serde_json::to_string_pretty(&live()).expect("a YAML value serialises as JSON")
}

/// The served document, YAML.
pub fn live_yaml() -> String {
    serde_yaml::to_string(&live()).expect("a YAML value serialises")
}

/// `/openapi.json`, `/openapi.yaml` and `/docs` (Swagger UI), all on the served document.
pub fn endpoints() -> (
    impl Endpoint + 'static,
    impl Endpoint + 'static,
    impl Endpoint + 'static,
) {
    let api = api_service();
    let (json, yaml) = (live_json(), live_yaml());
    // poem-openapi builds its Swagger UI page around its own document only; swap ours in.
    let html = api.swagger_ui_html().replacen(&api.spec(), &json, 1);
    let json_endpoint = make_sync(move |_| {
        poem::Response::builder()
            .content_type("application/json")
            .body(json.clone())
    });
    let yaml_endpoint = make_sync(move |_| {
        poem::Response::builder()
            .content_type("application/x-yaml")
            .header("Content-Disposition", "inline; filename=\"spec.yaml\"")
            .body(yaml.clone())
    });
    let docs = Route::new().at("/", make_sync(move |_| Html(html.clone())));
    (json_endpoint, yaml_endpoint, docs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_served_page_embeds_the_served_document() {
        let api = api_service();
        let html = api.swagger_ui_html().replacen(&api.spec(), &live_json(), 1);
        assert!(html.contains(&live_json()));
        assert!(!html.contains(EXAMPLE_SERVER));
    }
}
