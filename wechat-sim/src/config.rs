//! Start-up configuration: apps, users, fixed codes, limits. The same types are read from a
//! `--seed` JSON file and built in code by tests.

use poem_openapi::Object;
use serde::{Deserialize, Serialize};

use crate::intercept::CaPem;
use crate::{DEFAULT_APPID, DEFAULT_SECRET};

/// A mini-program registered with the simulator.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Object)]
#[serde(deny_unknown_fields)]
#[oai(deny_unknown_fields)]
pub struct AppSpec {
    /// The mini-program's appid, e.g. `wx0000000000000001`.
    pub appid: String,
    /// The AppSecret clients must send along with the appid.
    pub secret: String,
    /// Open Platform account the app is bound to. Only bound apps return `unionid`, and two apps
    /// bound to the same account give the same user the same `unionid`.
    #[serde(default)]
    #[oai(skip_serializing_if_is_none)]
    pub open_platform: Option<String>,
}

impl AppSpec {
    pub fn new(appid: impl Into<String>, secret: impl Into<String>) -> Self {
        Self {
            appid: appid.into(),
            secret: secret.into(),
            open_platform: None,
        }
    }

    /// Binds the app to an Open Platform account so that code2session returns a `unionid`.
    pub fn bound_to(mut self, open_platform: impl Into<String>) -> Self {
        self.open_platform = Some(open_platform.into());
        self
    }
}

/// Per-user settings. Users need no registration: any name used in a code is a user with no
/// phone number who is not blocked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Object)]
#[serde(deny_unknown_fields)]
#[oai(deny_unknown_fields)]
pub struct UserSpec {
    /// The user's name in the simulator (what `dev:<name>` and `/__sim/login-codes` refer to).
    pub name: String,
    /// Phone number used by phone codes minted without an explicit number.
    #[serde(default)]
    #[oai(skip_serializing_if_is_none)]
    pub phone: Option<String>,
    /// A risk-blocked user: code2session answers `40226 code blocked`.
    #[serde(default)]
    #[oai(default)]
    pub blocked: bool,
}

/// A login code known before start-up, for clients that cannot call the control API.
/// Unlike minted codes it never expires and may be used any number of times.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Object)]
#[serde(deny_unknown_fields)]
#[oai(deny_unknown_fields)]
pub struct FixedLoginCode {
    pub code: String,
    pub user: String,
    /// Defaults to the first app.
    #[serde(default)]
    #[oai(skip_serializing_if_is_none)]
    pub appid: Option<String>,
}

/// A phone code known before start-up; never expires, reusable.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Object)]
#[serde(deny_unknown_fields)]
#[oai(deny_unknown_fields)]
pub struct FixedPhoneCode {
    pub code: String,
    pub user: String,
    pub phone: String,
    #[serde(default)]
    #[oai(skip_serializing_if_is_none)]
    pub country_code: Option<String>,
    #[serde(default)]
    #[oai(skip_serializing_if_is_none)]
    pub appid: Option<String>,
}

/// A content-security rule: text containing `pattern` (case-insensitive) is judged `label`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Object)]
#[serde(deny_unknown_fields)]
#[oai(deny_unknown_fields)]
pub struct ContentRule {
    /// A word or phrase; matched as a case-insensitive substring.
    pub pattern: String,
    /// WeChat's label: 10001 ad, 20001 politics, 20002 porn, 20003 abuse, 20006 illegal,
    /// 20008 fraud, 20012 vulgar, 20013 copyright, 21000 other.
    pub label: u32,
    /// `risky` (default) or `review`.
    #[serde(default = "risky")]
    #[oai(default = "risky")]
    pub suggest: String,
}

fn risky() -> String {
    "risky".to_owned()
}

impl ContentRule {
    pub fn new(pattern: impl Into<String>, label: u32) -> Self {
        Self {
            pattern: pattern.into(),
            label,
            suggest: risky(),
        }
    }

    /// A rule whose matches are `review` instead of `risky`.
    pub fn review(mut self) -> Self {
        self.suggest = "review".to_owned();
        self
    }
}

/// A subscribe-message template the app has added (in the real admin console).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Object)]
#[serde(deny_unknown_fields)]
#[oai(deny_unknown_fields)]
pub struct TemplateSpec {
    pub template_id: String,
    /// The template's keywords, e.g. `thing1`, `time2`, `number3`: the keys `data` may use.
    pub keywords: Vec<String>,
    /// Defaults to the first app.
    #[serde(default)]
    #[oai(skip_serializing_if_is_none)]
    pub appid: Option<String>,
}

impl TemplateSpec {
    pub fn new(template_id: impl Into<String>, keywords: &[&str]) -> Self {
        Self {
            template_id: template_id.into(),
            keywords: keywords.iter().map(|k| (*k).to_owned()).collect(),
            appid: None,
        }
    }
}

/// Quotas and rate limits. The defaults are the real ones (wechat-api.md §0); tests lower them
/// to reach 45009/45011 in a few calls.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Object)]
#[serde(default, deny_unknown_fields)]
#[oai(deny_unknown_fields)]
pub struct Limits {
    /// code2session calls per user per minute before 45011.
    pub code2session_per_user_per_minute: u32,
    /// code2session calls per app per day before 45009.
    pub code2session_per_app_per_day: u32,
    /// `cgi-bin/token` calls per app per day before 45009.
    pub token_per_day: u32,
    /// `stable_token` calls per app per minute before 45011.
    pub stable_token_per_minute: u32,
    /// `stable_token` calls per app per day before 45009.
    pub stable_token_per_day: u32,
    /// `force_refresh=true` refreshes per app per day before 45009.
    pub force_refresh_per_day: u32,
    /// Minimum seconds between two force refreshes; a sooner one returns the current token.
    pub force_refresh_min_interval_secs: u64,
    /// getuserphonenumber calls per app per minute before 45011.
    pub phone_number_per_minute: u32,
    /// resetusersessionkey calls per app per minute before 45011.
    pub reset_session_key_per_minute: u32,
    /// msg_sec_check calls per app per minute before 45011 (WeChat: 4000).
    pub msg_sec_check_per_minute: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            code2session_per_user_per_minute: 100,
            code2session_per_app_per_day: 10_000_000,
            token_per_day: 2000,
            stable_token_per_minute: 10_000,
            stable_token_per_day: 500_000,
            force_refresh_per_day: 20,
            force_refresh_min_interval_secs: 30,
            phone_number_per_minute: 10_000,
            reset_session_key_per_minute: 60_000,
            msg_sec_check_per_minute: 4_000,
        }
    }
}

/// Everything the simulator starts from; `POST /__sim/reset` returns to exactly this.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimConfig {
    /// Registered apps; the first one is "the" app of `Simulator::appid()`.
    pub apps: Vec<AppSpec>,
    pub users: Vec<UserSpec>,
    pub login_codes: Vec<FixedLoginCode>,
    pub phone_codes: Vec<FixedPhoneCode>,
    /// Turns off the convenience codes (`dev:`, `dev-phone:`, `err:`), so only minted or fixed
    /// codes work, as at real WeChat.
    pub strict: bool,
    pub limits: Limits,
    /// Hosts the proxy and the TLS listener answer for (their certificate covers them all);
    /// the proxy refuses every other host with 403.
    pub intercept_hosts: Vec<String>,
    /// msg_sec_check rules; without any, all content passes.
    pub content_rules: Vec<ContentRule>,
    /// Subscribe-message templates the apps have.
    pub templates: Vec<TemplateSpec>,
    /// The CA that signs the WeChat hosts' certificate; `None` generates one at start.
    #[serde(skip)]
    pub ca: Option<CaPem>,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            apps: vec![AppSpec::new(DEFAULT_APPID, DEFAULT_SECRET)],
            users: Vec::new(),
            login_codes: Vec::new(),
            phone_codes: Vec::new(),
            strict: false,
            limits: Limits::default(),
            intercept_hosts: crate::intercept::default_hosts(),
            content_rules: Vec::new(),
            templates: Vec::new(),
            ca: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("cannot read seed file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    /// `{path}: unknown key limits.x (expected one of …) at line 3 column 5`.
    #[error("{0}")]
    Parse(String),
}

impl SimConfig {
    /// Reads a seed file; fields it leaves out keep their defaults (so a seed without `apps`
    /// still has the default app).
    pub fn from_seed_file(path: &str) -> Result<Self, SeedError> {
        let text = std::fs::read_to_string(path).map_err(|source| SeedError::Read {
            path: path.to_owned(),
            source,
        })?;
        crate::json_file::parse(path, &text).map_err(SeedError::Parse)
    }

    pub fn with_app(mut self, app: AppSpec) -> Self {
        self.apps.push(app);
        self
    }

    pub fn with_user(mut self, user: UserSpec) -> Self {
        self.users.push(user);
        self
    }

    pub fn strict(mut self, strict: bool) -> Self {
        self.strict = strict;
        self
    }

    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Signs the WeChat hosts' certificate with this CA instead of a fresh one.
    pub fn with_ca(mut self, ca: CaPem) -> Self {
        self.ca = Some(ca);
        self
    }
}
