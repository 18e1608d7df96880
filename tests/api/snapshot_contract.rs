//! Every insta-snapshotted response, checked with a strict JSON-Schema validator against the
//! schema its operation declares for that status: in `spec/openapi.yaml` (every snapshot) and in
//! `spec/seed-openapi.yaml` (where the seed declares the status). OpenAPI 3.0 schemas are turned
//! into JSON Schema draft 4 the way strict OpenAPI validators read them: `nullable: true` adds
//! `null` only beside a `type` (OpenAPI 3.0.3), `$ref` siblings are ignored.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

/// What a snapshot answers: an operation of the spec, or (for framework answers to a path or
/// method no operation has) the error envelope itself.
#[derive(Debug, Clone, Copy)]
enum Target {
    Operation(&'static str, &'static str),
    ErrorEnvelope,
}

const LOGIN: Target = Target::Operation("post", "/api/wechat/login");
const PROFILE: Target = Target::Operation("post", "/api/wechat/profile");
const REFRESH: Target = Target::Operation("post", "/api/wechat/refresh-token");
const HEALTH: Target = Target::Operation("post", "/api/system/health");
const HELLO: Target = Target::Operation("post", "/api/system/test-helloworld");

/// Snapshot name (without `api__` and `.snap`) prefix → what it answers; the first match wins.
/// A snapshot no rule names fails the test: add its route here.
const ROUTES: &[(&str, Target)] = &[
    ("login__", LOGIN),
    ("profile__", PROFILE),
    ("refresh__", REFRESH),
    ("tokens__", REFRESH),
    ("wechat_faults__login_", LOGIN),
    ("wechat_faults__profile_", PROFILE),
    ("system__health_", HEALTH),
    ("system__helloworld_", HELLO),
    ("errors__unknown_path_", Target::ErrorEnvelope),
    ("errors__wrong_method_", Target::ErrorEnvelope),
    ("errors__missing_token_", REFRESH),
    ("errors__a_client_that_stalls_its_body_", LOGIN),
    ("errors__body_over_64_kib_", LOGIN),
    ("errors__malformed_json_", LOGIN),
    ("errors__text_plain_body_", LOGIN),
    ("durability__a_full_disk_", LOGIN),
    (
        "pocketbase_sdk__auth_refresh_",
        Target::Operation("post", "/api/collections/{collection}/auth-refresh"),
    ),
];

struct Snapshot {
    name: String,
    status: u16,
    content_type: String,
    body: Value,
}

fn snapshots() -> Vec<Snapshot> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("api/snapshots");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "snap"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no snapshots in {}", dir.display());
    paths
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path).unwrap();
            // `---` header `---` JSON
            let json_text = text.splitn(3, "---\n").nth(2).expect("an insta snapshot");
            let value: Value = serde_json::from_str(json_text).unwrap();
            let name = path.file_stem().unwrap().to_str().unwrap();
            Snapshot {
                name: name.trim_start_matches("api__").to_owned(),
                status: value["status"].as_u64().unwrap() as u16,
                content_type: value["headers"]["content-type"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                body: unredact(value["body"].clone()),
            }
        })
        .collect()
}

/// Puts a value of the redacted shape back, so that formats and patterns are checked too.
fn unredact(value: Value) -> Value {
    match value {
        Value::String(s) => json!(match s.as_str() {
            "[pb-datetime]" => "2026-11-25 08:30:00.123Z",
            "[rfc3339]" => "2026-11-25T08:30:00.123Z",
            "[record-id]" => "a1b2c3d4e5f6g7h",
            "[users-id]" => "U261125K7M2QD9X",
            "[token]" => "eyJhbGciOiJIUzI1NiJ9.e30.c2ln",
            _ => s.as_str(),
        }),
        Value::Array(items) => Value::Array(items.into_iter().map(unredact).collect()),
        Value::Object(map) => {
            Value::Object(map.into_iter().map(|(k, v)| (k, unredact(v))).collect())
        }
        other => other,
    }
}

fn target_of(name: &str) -> Option<Target> {
    ROUTES
        .iter()
        .find(|(prefix, _)| name.starts_with(prefix))
        .map(|(_, t)| *t)
}

fn load_yaml(file: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../spec")
        .join(file);
    serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn essence(media_type: &str) -> String {
    media_type
        .split(';')
        .next()
        .unwrap()
        .trim()
        .to_ascii_lowercase()
}

/// OpenAPI 3.0 Schema Object → JSON Schema draft 4. `closed` also forbids properties a schema
/// does not declare (our own spec: every field we send must be documented).
fn convert(schema: &Value, closed: bool) -> Value {
    let Value::Object(map) = schema else {
        return schema.clone();
    };
    if map.contains_key("$ref") {
        // OpenAPI 3.0: a Reference Object's siblings are ignored.
        return json!({ "$ref": map["$ref"] });
    }
    let mut out = Map::new();
    for (key, value) in map {
        let converted = match key.as_str() {
            "properties" => Value::Object(
                value
                    .as_object()
                    .unwrap()
                    .iter()
                    .map(|(k, v)| (k.clone(), convert(v, closed)))
                    .collect(),
            ),
            "items" | "not" => convert(value, closed),
            "additionalProperties" if value.is_object() => convert(value, closed),
            "allOf" | "anyOf" | "oneOf" => Value::Array(
                value
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| convert(v, closed))
                    .collect(),
            ),
            "nullable" | "example" | "discriminator" | "readOnly" | "writeOnly" | "xml"
            | "externalDocs" | "deprecated" => continue,
            _ => value.clone(),
        };
        out.insert(key.clone(), converted);
    }
    if map.get("nullable") == Some(&json!(true))
        && let Some(ty) = map.get("type").and_then(Value::as_str)
    {
        out.insert("type".into(), json!([ty, "null"]));
        if let Some(Value::Array(values)) = out.get_mut("enum") {
            values.push(Value::Null);
        }
    }
    if closed
        && map.contains_key("properties")
        && !map.contains_key("additionalProperties")
        && !map.contains_key("allOf")
    {
        out.insert("additionalProperties".into(), json!(false));
    }
    Value::Object(out)
}

/// Validates `body` against `schema` (which may `$ref` into `doc`'s components); the errors.
fn violations(doc: &Value, schema: &Value, body: &Value, closed: bool) -> Vec<String> {
    let components: Map<String, Value> = doc["components"]["schemas"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), convert(v, closed)))
        .collect();
    let root = json!({
        "allOf": [convert(schema, closed)],
        "components": { "schemas": components },
    });
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .should_validate_formats(true)
        .build(&root)
        .unwrap_or_else(|e| panic!("the schema does not compile: {e}\n{root:#}"));
    validator
        .iter_errors(body)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

/// The JSON schema `doc` declares for what `snapshot` answers, `None` with the reason when it
/// declares none. `Err` is a contract failure.
fn declared_schema<'a>(
    doc: &'a Value,
    target: Target,
    snapshot: &Snapshot,
) -> Result<Option<&'a Value>, String> {
    let Target::Operation(method, path) = target else {
        return Ok(Some(&doc["components"]["schemas"]["ErrorResponse"]));
    };
    let operation = &doc["paths"][path][method];
    if operation.is_null() {
        return Err(format!("{method} {path} is not in the spec"));
    }
    let Some(response) = operation["responses"].get(snapshot.status.to_string()) else {
        return Err(format!(
            "{method} {path} does not declare {}",
            snapshot.status
        ));
    };
    let Some(content) = response["content"].as_object() else {
        return Ok(None);
    };
    let answered = essence(&snapshot.content_type);
    match content.iter().find(|(key, _)| essence(key) == answered) {
        Some((_, media)) => Ok(Some(&media["schema"])),
        None => Err(format!(
            "{method} {path} {} declares no {answered} body",
            snapshot.status
        )),
    }
}

#[test]
fn every_snapshot_is_valid_against_its_operation_in_the_generated_spec() {
    let doc = load_yaml("openapi.yaml");
    let mut problems = Vec::new();
    for snapshot in snapshots() {
        let Some(target) = target_of(&snapshot.name) else {
            problems.push(format!(
                "{}: no route: add it to ROUTES in tests/api/snapshot_contract.rs",
                snapshot.name
            ));
            continue;
        };
        match declared_schema(&doc, target, &snapshot) {
            Err(problem) => problems.push(format!("{}: {problem}", snapshot.name)),
            Ok(None) => problems.push(format!("{}: no body schema declared", snapshot.name)),
            Ok(Some(schema)) => {
                for v in violations(&doc, schema, &snapshot.body, true) {
                    problems.push(format!("{}: {v}", snapshot.name));
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "snapshots the generated spec does not describe:\n{}",
        problems.join("\n")
    );
}

#[test]
fn every_snapshot_is_valid_against_the_seed_where_the_seed_declares_its_status() {
    let seed = load_yaml("seed-openapi.yaml");
    let mut problems = Vec::new();
    let mut checked = 0;
    for snapshot in snapshots() {
        let Some(target @ Target::Operation(method, path)) = target_of(&snapshot.name) else {
            continue;
        };
        let declared = &seed["paths"][path][method]["responses"][snapshot.status.to_string()];
        if declared.is_null() || declared["content"].is_null() {
            continue;
        }
        match declared_schema(&seed, target, &snapshot) {
            Err(problem) => problems.push(format!("{}: {problem}", snapshot.name)),
            Ok(None) => {}
            Ok(Some(schema)) => {
                checked += 1;
                for v in violations(&seed, schema, &snapshot.body, false) {
                    problems.push(format!("{}: {v}", snapshot.name));
                }
            }
        }
    }
    assert!(checked >= 5, "only {checked} snapshots had a seed schema");
    assert!(
        problems.is_empty(),
        "snapshots the seed contract does not accept:\n{}",
        problems.join("\n")
    );
}

/// The validator is as strict as the test claims: a `nullable` beside `allOf` without a
/// `type` does not admit `null`, and an undeclared field fails our spec.
#[test]
fn the_conversion_is_strict() {
    let doc = json!({ "components": { "schemas": {
        "C": { "type": "object", "properties": { "a": { "type": "string" } } },
        "N": { "type": "object", "nullable": true, "properties": {} },
    }}});
    let loose = json!({ "nullable": true, "allOf": [{ "$ref": "#/components/schemas/C" }] });
    assert!(!violations(&doc, &loose, &Value::Null, true).is_empty());
    let typed = json!({ "$ref": "#/components/schemas/N" });
    assert!(violations(&doc, &typed, &Value::Null, true).is_empty());
    let c = json!({ "$ref": "#/components/schemas/C" });
    assert!(!violations(&doc, &c, &json!({ "a": "x", "b": 1 }), true).is_empty());
    assert!(violations(&doc, &c, &json!({ "a": "x", "b": 1 }), false).is_empty());
    let time = json!({ "type": "string", "format": "date-time" });
    assert!(!violations(&doc, &time, &json!("yesterday"), true).is_empty());
}
