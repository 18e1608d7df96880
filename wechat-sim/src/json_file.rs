//! Reading the JSON files an operator writes (seed, saved state): a mistyped key is an error
//! naming the file and the key's full path, instead of being silently ignored.

use serde::de::DeserializeOwned;

/// Parses `text` (the contents of `file`) into `T`; the error is one line such as
/// `seed.json: unknown key limits.code2session_per_user_per_minut (expected one of …) at line 3 column 40`.
pub fn parse<T: DeserializeOwned>(file: &str, text: &str) -> Result<T, String> {
    let mut json = serde_json::Deserializer::from_str(text);
    let value: T = serde_path_to_error::deserialize(&mut json).map_err(|e| describe(file, e))?;
    // Trailing characters after the document are an error too, as with serde_json::from_str.
    json.end().map_err(|e| format!("{file}: {e}"))?;
    Ok(value)
}

fn describe(file: &str, error: serde_path_to_error::Error<serde_json::Error>) -> String {
    let key = error.path().to_string();
    let inner = error.into_inner();
    let position = if inner.line() == 0 {
        String::new()
    } else {
        format!(" at line {} column {}", inner.line(), inner.column())
    };
    let full = inner.to_string();
    let message = full.strip_suffix(&position).unwrap_or(&full);
    match message.strip_prefix("unknown field `") {
        Some(rest) => {
            let expected = rest.split_once("`, ").map_or("", |(_, expected)| expected);
            let expected = if expected.is_empty() {
                String::new()
            } else {
                format!(" ({expected})")
            };
            format!("{file}: unknown key {key}{expected}{position}")
        }
        None if key == "." || key.is_empty() => format!("{file}: {message}{position}"),
        None => format!("{file}: {key}: {message}{position}"),
    }
}

#[cfg(test)]
mod tests {
    use super::parse;
    use crate::{SimConfig, SimState};

    #[test]
    fn unknown_nested_key_is_named_with_its_path() {
        let text = "{\"limits\": {\"code2session_per_user_per_minut\": 5}}";
        let error = parse::<SimConfig>("seed.json", text).unwrap_err();
        assert!(
            error.starts_with(
                "seed.json: unknown key limits.code2session_per_user_per_minut (expected one of `code2session_per_user_per_minute`, "
            ),
            "{error}"
        );
        assert!(error.ends_with(" at line 1 column 45"), "{error}");
    }

    #[test]
    fn unknown_key_in_a_list_item_has_its_index() {
        let text = r#"{"apps": [{"appid": "wx1", "secret": "s", "open_platfrom": "x"}]}"#;
        let error = parse::<SimConfig>("seed.json", text).unwrap_err();
        assert!(
            error.starts_with("seed.json: unknown key apps[0].open_platfrom (expected "),
            "{error}"
        );
    }

    #[test]
    fn wrong_type_names_the_key() {
        let text = r#"{"strict": "yes"}"#;
        let error = parse::<SimConfig>("seed.json", text).unwrap_err();
        assert!(
            error
                .starts_with("seed.json: strict: invalid type: string \"yes\", expected a boolean"),
            "{error}"
        );
    }

    #[test]
    fn state_files_reject_unknown_keys_too() {
        let text = r#"{"identities": [{"appid": "wx1", "user": "a", "sessionkey": "k"}]}"#;
        let error = parse::<SimState>("state.json", text).unwrap_err();
        assert!(
            error.starts_with("state.json: unknown key identities[0].sessionkey ("),
            "{error}"
        );
    }
}
