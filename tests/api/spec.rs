//! The generated OpenAPI document: committed, checked for drift, and checked against the
//! upstream contract (`spec/seed-openapi.yaml`).

use serde_json::Value;

#[test]
fn generated_spec_matches_the_committed_file() {
    // `UPDATE_EXPECT=1 cargo test -p e2e generated_spec` rewrites spec/openapi.yaml.
    expect_test::expect_file!["../../spec/openapi.yaml"]
        .assert_eq(&bai_service::api::document::committed_yaml());
}

fn generated() -> Value {
    serde_json::from_str(&bai_service::api::document::committed_json()).unwrap()
}

fn seed() -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../spec/seed-openapi.yaml"
    ))
    .unwrap();
    serde_yaml::from_str(&text).unwrap()
}

/// Follows `$ref`s and merges `allOf`s, yielding the properties a schema names.
fn properties(doc: &Value, schema: &Value) -> serde_json::Map<String, Value> {
    let mut props = serde_json::Map::new();
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.rsplit('/').next().unwrap();
        return properties(doc, &doc["components"]["schemas"][name]);
    }
    for part in schema["allOf"].as_array().into_iter().flatten() {
        for (k, v) in properties(doc, part) {
            // A later allOf member refines a property named by an earlier one.
            props.insert(k, v);
        }
    }
    for (k, v) in schema["properties"].as_object().into_iter().flatten() {
        props.insert(k.clone(), v.clone());
    }
    props
}

/// Every property the seed names under `schema` must exist in `ours`, recursively.
fn missing_fields(
    seed_doc: &Value,
    seed_schema: &Value,
    our_doc: &Value,
    our_schema: &Value,
    at: &str,
    out: &mut Vec<String>,
) {
    let ours = properties(our_doc, our_schema);
    for (name, seed_prop) in properties(seed_doc, seed_schema) {
        let path = format!("{at}.{name}");
        match ours.get(&name) {
            None => out.push(path),
            Some(our_prop) => missing_fields(seed_doc, &seed_prop, our_doc, our_prop, &path, out),
        }
    }
}

fn json_schema(response: &Value) -> Option<&Value> {
    response["content"]
        .as_object()?
        .iter()
        .find(|(k, _)| k.starts_with("application/json"))
        .map(|(_, v)| &v["schema"])
}

#[test]
fn every_seed_path_method_status_and_field_exists_in_the_generated_spec() {
    let (seed, ours) = (seed(), generated());
    let mut problems = Vec::new();
    for (path, item) in seed["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let Some(our_op) = ours["paths"][path][method].as_object() else {
                problems.push(format!("{method} {path}: missing"));
                continue;
            };
            for (status, seed_response) in operation["responses"].as_object().unwrap() {
                let Some(our_response) = our_op["responses"].get(status) else {
                    problems.push(format!("{method} {path} {status}: missing"));
                    continue;
                };
                if let (Some(seed_schema), Some(our_schema)) =
                    (json_schema(seed_response), json_schema(our_response))
                {
                    missing_fields(
                        &seed,
                        seed_schema,
                        &ours,
                        our_schema,
                        &format!("{method} {path} {status}"),
                        &mut problems,
                    );
                }
            }
            if operation.get("security").is_some()
                && our_op.get("security") != Some(&operation["security"])
            {
                problems.push(format!("{method} {path}: security differs"));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "the generated spec lacks what the contract promises:\n{}",
        problems.join("\n")
    );
}

#[test]
fn nullable_fields_of_the_seed_are_nullable_in_the_generated_spec() {
    let ours = generated();
    let schemas = &ours["components"]["schemas"];
    let build_time = &schemas["HelloWorldData"]["properties"]["build_time"];
    assert_eq!(build_time["nullable"], true, "{build_time}");
    assert_eq!(build_time["type"], "string", "{build_time}");
    // As in the seed: the field refers to a component that is itself a nullable object.
    let company = &schemas["UserInfo"]["properties"]["company"];
    assert_eq!(
        company,
        &serde_json::json!({"$ref": "#/components/schemas/CompanyInfo"})
    );
    assert_eq!(schemas["CompanyInfo"]["nullable"], true);
    assert_eq!(schemas["CompanyInfo"]["type"], "object");
}

/// OpenAPI 3.0.3: `nullable` only has an effect beside a `type`; without one strict validators
/// (and redocly's `nullable-type-sibling`) read the schema as never null.
#[test]
fn every_nullable_schema_has_a_type() {
    fn walk(value: &Value, at: &str, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                if map.get("nullable") == Some(&Value::Bool(true)) && !map.contains_key("type") {
                    out.push(at.to_owned());
                }
                for (k, v) in map {
                    walk(v, &format!("{at}/{k}"), out);
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    walk(v, &format!("{at}/{i}"), out);
                }
            }
            _ => {}
        }
    }
    let mut found = Vec::new();
    walk(&generated(), "#", &mut found);
    assert!(found.is_empty(), "nullable without type: {found:?}");
}

/// Every operation says who may call it: the bearer token, or `security: []` for the public
/// ones (redocly's `security-defined`).
#[test]
fn every_operation_declares_its_security() {
    let ours = generated();
    let mut public = Vec::new();
    for (path, item) in ours["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            match &op["security"] {
                Value::Array(list) if list.is_empty() => public.push(format!("{method} {path}")),
                Value::Array(_) => {}
                other => panic!("{method} {path}: security is {other}"),
            }
        }
    }
    public.sort();
    assert_eq!(
        public,
        [
            "get /api/system/health",
            "get /livez",
            "get /readyz",
            "post /api/system/health",
            "post /api/system/test-helloworld",
            "post /api/wechat/login",
        ]
    );
}

#[test]
fn the_security_scheme_is_bearer_auth_and_every_operation_has_an_id() {
    let ours = generated();
    assert_eq!(
        ours["components"]["securitySchemes"]["bearerAuth"]["scheme"],
        "bearer"
    );
    for (path, item) in ours["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            assert!(
                op["operationId"].is_string(),
                "{method} {path} has no operationId"
            );
        }
    }
}

/// Every media type key the seed declares for a request or response body, at the same place in
/// `ours`: `application/json` stays `application/json` (client generators key on it).
fn media_type_problems(seed: &Value, ours: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let mut compare = |at: String, seed_content: &Value, our_content: &Value| {
        for key in seed_content
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, _)| k)
        {
            if our_content.get(key).is_none() {
                let ours: Vec<_> = our_content
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(k, _)| k)
                    .collect();
                problems.push(format!("{at}: seed {key:?}, ours {ours:?}"));
            }
        }
    };
    for (path, item) in seed["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let our_op = &ours["paths"][path][method];
            compare(
                format!("{method} {path} request"),
                &operation["requestBody"]["content"],
                &our_op["requestBody"]["content"],
            );
            for (status, response) in operation["responses"].as_object().unwrap() {
                compare(
                    format!("{method} {path} {status}"),
                    &response["content"],
                    &our_op["responses"][status]["content"],
                );
            }
        }
    }
    problems
}

#[test]
fn every_seed_media_type_appears_unchanged() {
    let (seed, ours) = (seed(), generated());
    let problems = media_type_problems(&seed, &ours);
    assert!(
        problems.is_empty(),
        "media types differ:\n{}",
        problems.join("\n")
    );
    // Our own bodies use the seed's key too, not poem-openapi's `application/json; charset=utf-8`.
    let text = serde_json::to_string(&ours).unwrap();
    assert!(
        !text.contains("charset"),
        "a media type key with parameters"
    );
}

#[test]
fn a_changed_media_type_is_caught() {
    let seed = seed();
    let mut ours = generated();
    let content = ours["paths"]["/api/wechat/refresh-token"]["post"]["responses"]["200"]["content"]
        .as_object_mut()
        .unwrap();
    let schema = content.remove("application/json").unwrap();
    content.insert("application/json; charset=utf-8".into(), schema);
    assert_eq!(
        media_type_problems(&seed, &ours),
        vec![
            "post /api/wechat/refresh-token 200: seed \"application/json\", ours [\"application/json; charset=utf-8\"]"
                .to_owned()
        ]
    );
}
