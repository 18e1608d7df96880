//! The request journal: every call to the WeChat surface, with secrets masked, so tests can
//! assert what a client sent (and how often).

use std::collections::{BTreeMap, VecDeque};

use poem_openapi::Object;
use serde::{Deserialize, Serialize};

/// Oldest entries are dropped beyond this, so a long-running simulator does not grow forever.
const CAPACITY: usize = 10_000;

/// One call to the WeChat surface as the simulator saw and answered it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Object)]
pub struct JournalEntry {
    /// Position in the journal since start (not reset by clearing).
    pub seq: u64,
    /// The request path, e.g. `/sns/jscode2session`.
    pub endpoint: String,
    pub method: String,
    /// Query parameters, masked.
    pub query: BTreeMap<String, String>,
    /// JSON body, masked; a non-JSON body is described, not copied.
    #[oai(skip_serializing_if_is_none)]
    pub body: Option<serde_json::Value>,
    /// The errcode answered: absent on success without errcode, 0 for `ok`.
    #[oai(skip_serializing_if_is_none)]
    pub errcode: Option<i64>,
    /// HTTP status answered (0 when the connection was dropped).
    pub status: u16,
    /// The injected fault that hit this call, if any (its kind).
    #[oai(skip_serializing_if_is_none)]
    pub fault: Option<String>,
    /// Virtual Unix time of the call, in milliseconds.
    pub at: u64,
}

#[derive(Default)]
pub struct Journal {
    entries: VecDeque<JournalEntry>,
    next_seq: u64,
}

impl Journal {
    pub fn record(&mut self, mut entry: JournalEntry) {
        self.next_seq += 1;
        entry.seq = self.next_seq;
        if self.entries.len() >= CAPACITY {
            self.entries.pop_front();
        }
        self.entries.push_back(entry);
    }

    pub fn list(&self, endpoint: Option<&str>) -> Vec<JournalEntry> {
        self.entries
            .iter()
            .filter(|entry| endpoint.is_none_or(|e| entry.endpoint == e))
            .cloned()
            .collect()
    }

    pub fn clear(&mut self) {
        self.entries.clear();
    }
}

/// Masks one named value. Secrets and session keys are hidden entirely; tokens and codes keep
/// a prefix so entries can still be told apart. Convenience codes (`dev:`, `err:`...) are public
/// test conventions and stay readable.
pub fn mask(name: &str, value: &str) -> String {
    match name {
        "secret" | "appsecret" | "session_key" => "***".to_owned(),
        "access_token" => keep_prefix(value, 6),
        "js_code" | "code" => {
            if ["dev:", "dev-phone:", "err:"]
                .iter()
                .any(|p| value.starts_with(p))
            {
                value.to_owned()
            } else {
                keep_prefix(value, 6)
            }
        }
        _ => value.to_owned(),
    }
}

fn keep_prefix(value: &str, keep: usize) -> String {
    if value.chars().count() <= keep {
        return "***".to_owned();
    }
    let prefix: String = value.chars().take(keep).collect();
    format!("{prefix}***")
}

/// Masks every string field of a JSON body, recursively.
pub fn mask_json(value: &serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => serde_json::Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let masked = match v {
                        serde_json::Value::String(s) => serde_json::Value::String(mask(k, s)),
                        other => mask_json(other),
                    };
                    (k.clone(), masked)
                })
                .collect(),
        ),
        serde_json::Value::Array(items) => {
            serde_json::Value::Array(items.iter().map(mask_json).collect())
        }
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_secrets_and_keeps_convenience_codes() {
        assert_eq!(mask("secret", "abc"), "***");
        assert_eq!(mask("access_token", "81_abcdefgh"), "81_abc***");
        assert_eq!(mask("js_code", "083tjT000WK8kM17"), "083tjT***");
        assert_eq!(mask("js_code", "dev:alice"), "dev:alice");
        assert_eq!(mask("appid", "wx1"), "wx1");
    }
}
