//! Fault injection: make a WeChat endpoint misbehave once, N times, or with a probability.

use poem_openapi::{Enum, Object};
use rand::Rng;
use serde::{Deserialize, Serialize};

/// What a fault does to the call it hits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Enum)]
#[serde(rename_all = "snake_case")]
#[oai(rename_all = "snake_case")]
pub enum FaultKind {
    /// Answer `{errcode, errmsg}` (HTTP 200) without processing the call.
    Errcode,
    /// Answer this HTTP status with an nginx-style HTML page, without processing the call.
    HttpStatus,
    /// Wait `delay_ms`, then process the call normally.
    Delay,
    /// Process the call, then send its body with the JSON syntax broken (quotes removed).
    Malformed,
    /// Process the call, then send only the first half of its body (a complete HTTP response).
    Truncated,
    /// Process the call, then send it with the Content-Type `content_type`.
    ContentType,
    /// Abort the connection without any response; the call is not processed.
    DropConnection,
}

impl FaultKind {
    /// Its name as the control API spells it (serde's, so it is written once, above).
    pub fn name(self) -> String {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::String(name)) => name,
            _ => unreachable!("a unit variant serialises as its name"),
        }
    }
}

/// A fault to inject. Build it with the constructors (`Fault::errcode(..)`) and the
/// `once`/`times`/`probability` modifiers, or post the same JSON to `/__sim/faults`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Object)]
pub struct Fault {
    /// The WeChat path it applies to, e.g. `/sns/jscode2session`, or `*` for every path.
    pub endpoint: String,
    pub kind: FaultKind,
    /// For `errcode`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[oai(skip_serializing_if_is_none)]
    pub errcode: Option<i64>,
    /// For `http_status`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[oai(skip_serializing_if_is_none)]
    pub status: Option<u16>,
    /// For `delay`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[oai(skip_serializing_if_is_none)]
    pub delay_ms: Option<u64>,
    /// For `content_type`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[oai(skip_serializing_if_is_none)]
    pub content_type: Option<String>,
    /// How many calls it hits. Default: 1, or unlimited when `probability` is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[oai(skip_serializing_if_is_none)]
    pub times: Option<u32>,
    /// Chance (0.0–1.0) that a matching call is hit; calls it spares do not use up `times`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[oai(skip_serializing_if_is_none)]
    pub probability: Option<f64>,
}

impl Fault {
    fn new(endpoint: &str, kind: FaultKind) -> Self {
        Self {
            endpoint: endpoint.to_owned(),
            kind,
            errcode: None,
            status: None,
            delay_ms: None,
            content_type: None,
            times: None,
            probability: None,
        }
    }

    pub fn errcode(endpoint: &str, errcode: i64) -> Self {
        Self {
            errcode: Some(errcode),
            ..Self::new(endpoint, FaultKind::Errcode)
        }
    }

    pub fn http_status(endpoint: &str, status: u16) -> Self {
        Self {
            status: Some(status),
            ..Self::new(endpoint, FaultKind::HttpStatus)
        }
    }

    pub fn delay(endpoint: &str, ms: u64) -> Self {
        Self {
            delay_ms: Some(ms),
            ..Self::new(endpoint, FaultKind::Delay)
        }
    }

    pub fn malformed(endpoint: &str) -> Self {
        Self::new(endpoint, FaultKind::Malformed)
    }

    pub fn truncated(endpoint: &str) -> Self {
        Self::new(endpoint, FaultKind::Truncated)
    }

    pub fn content_type(endpoint: &str, content_type: &str) -> Self {
        Self {
            content_type: Some(content_type.to_owned()),
            ..Self::new(endpoint, FaultKind::ContentType)
        }
    }

    pub fn drop_connection(endpoint: &str) -> Self {
        Self::new(endpoint, FaultKind::DropConnection)
    }

    pub fn once(self) -> Self {
        self.times(1)
    }

    pub fn times(mut self, n: u32) -> Self {
        self.times = Some(n);
        self
    }

    pub fn probability(mut self, p: f64) -> Self {
        self.probability = Some(p);
        self
    }

    /// Why the fault cannot be applied, if it lacks the field its kind needs.
    pub fn validate(&self) -> Result<(), String> {
        let missing = match self.kind {
            FaultKind::Errcode => self.errcode.is_none().then_some("errcode"),
            FaultKind::HttpStatus => self.status.is_none().then_some("status"),
            FaultKind::Delay => self.delay_ms.is_none().then_some("delay_ms"),
            FaultKind::ContentType => self.content_type.is_none().then_some("content_type"),
            _ => None,
        };
        if let Some(field) = missing {
            return Err(format!("a {:?} fault needs `{field}`", self.kind));
        }
        if let Some(status) = self.status
            && poem::http::StatusCode::from_u16(status).is_err()
        {
            return Err(format!("invalid HTTP status {status}"));
        }
        if self.probability.is_some_and(|p| !(0.0..=1.0).contains(&p)) {
            return Err("probability must be within 0.0..=1.0".to_owned());
        }
        Ok(())
    }
}

/// A fault as listed by `GET /__sim/faults`.
#[derive(Clone, Debug, Serialize, Deserialize, Object)]
pub struct ActiveFault {
    pub id: u64,
    pub fault: Fault,
    /// Hits left; absent when unlimited.
    #[oai(skip_serializing_if_is_none)]
    pub remaining: Option<u32>,
    pub hits: u32,
}

#[derive(Default)]
pub struct FaultSet {
    faults: Vec<ActiveFault>,
    next_id: u64,
}

impl FaultSet {
    pub fn add(&mut self, fault: Fault) -> u64 {
        self.next_id += 1;
        let remaining = match (fault.times, fault.probability) {
            (Some(n), _) => Some(n),
            (None, Some(_)) => None,
            (None, None) => Some(1),
        };
        self.faults.push(ActiveFault {
            id: self.next_id,
            fault,
            remaining,
            hits: 0,
        });
        self.next_id
    }

    pub fn list(&self) -> Vec<ActiveFault> {
        self.faults.clone()
    }

    pub fn clear(&mut self) {
        self.faults.clear();
    }

    /// The fault that hits a call to `path`, if any, using up one of its hits. Faults are tried
    /// in the order they were added; a call is hit by at most one.
    pub fn take(&mut self, path: &str) -> Option<Fault> {
        let mut rng = rand::rng();
        let index = self.faults.iter().position(|active| {
            (active.fault.endpoint == path || active.fault.endpoint == "*")
                && active.remaining != Some(0)
                && active
                    .fault
                    .probability
                    .is_none_or(|p| rng.random_bool(p.clamp(0.0, 1.0)))
        })?;
        let active = &mut self.faults[index];
        active.hits += 1;
        if let Some(left) = active.remaining.as_mut() {
            *left -= 1;
        }
        let fault = active.fault.clone();
        if active.remaining == Some(0) {
            self.faults.remove(index);
        }
        Some(fault)
    }
}
