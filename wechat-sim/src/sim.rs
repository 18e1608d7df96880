//! The simulator core shared by the WeChat surface, the control API and the typed library
//! methods: configuration, virtual clock, WeChat state, faults and journal.

use std::sync::{Arc, Mutex, MutexGuard};

use poem_openapi::Object;
use serde::{Deserialize, Serialize};

use crate::clock::Clock;
use crate::config::{ContentRule, SimConfig, TemplateSpec};
use crate::connections::KillSwitches;
use crate::faults::FaultSet;
use crate::journal::Journal;
use crate::state::{State, Subscription};

/// A login code minted through the `wx.login` side channel, with the identity it logs in as.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Object)]
pub struct LoginCode {
    pub code: String,
    pub openid: String,
    /// Present when the app is bound to an Open Platform account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[oai(skip_serializing_if_is_none)]
    pub unionid: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ControlError {
    #[error("unknown appid {0}")]
    UnknownApp(String),
    #[error("unknown template_id {0} (add it with POST /__sim/templates)")]
    UnknownTemplate(String),
    #[error("user {0} has no session key yet: log in first (code2session)")]
    NoSession(String),
    #[error("{0} must not be empty")]
    Empty(&'static str),
}

pub struct Sim {
    pub config: SimConfig,
    pub clock: Clock,
    pub connections: Arc<KillSwitches>,
    /// The CA certificate (PEM) behind the proxy's and TLS listener's certificate.
    pub ca_pem: String,
    state: Mutex<State>,
    faults: Mutex<FaultSet>,
    journal: Mutex<Journal>,
}

/// A panic while holding a lock cannot leave the maps half-updated in a way that matters to
/// a test double, so poisoning is ignored rather than turning one failure into many.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Sim {
    pub fn new(config: SimConfig, ca_pem: String) -> Self {
        Self {
            ca_pem,
            state: Mutex::new(State::new(&config)),
            config,
            clock: Clock::default(),
            connections: Arc::default(),
            faults: Mutex::new(FaultSet::default()),
            journal: Mutex::new(Journal::default()),
        }
    }

    pub fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    pub fn faults(&self) -> MutexGuard<'_, FaultSet> {
        lock(&self.faults)
    }

    pub fn journal(&self) -> MutexGuard<'_, Journal> {
        lock(&self.journal)
    }

    /// Back to the start state: configured apps and users only, no codes, tokens, faults or
    /// journal entries, clock at real time.
    pub fn reset(&self) {
        *self.state() = State::new(&self.config);
        self.faults().clear();
        self.journal().clear();
        self.clock.reset();
    }

    pub fn mint_login_code(
        &self,
        user: &str,
        appid: Option<&str>,
    ) -> Result<LoginCode, ControlError> {
        let now = self.clock.now_ms();
        let mut state = self.state();
        let appid = self.resolve_app(&state, appid)?;
        let code = state.codes.mint_login(&appid, user, now);
        let (openid, unionid) = state.directory.identity(&appid, user);
        Ok(LoginCode {
            code,
            openid,
            unionid,
        })
    }

    pub fn mint_phone_code(
        &self,
        user: &str,
        phone: &str,
        country_code: Option<&str>,
        appid: Option<&str>,
    ) -> Result<String, ControlError> {
        let now = self.clock.now_ms();
        let mut state = self.state();
        let appid = self.resolve_app(&state, appid)?;
        // The openid check of getuserphonenumber needs to find this user again.
        state.directory.identity(&appid, user);
        Ok(state
            .codes
            .mint_phone(&appid, user, phone, country_code.unwrap_or("86"), now))
    }

    /// Records that `user` accepted `template_id` `times` times (`wx.requestSubscribeMessage`).
    pub fn grant_subscription(
        &self,
        user: &str,
        template_id: &str,
        appid: Option<&str>,
        times: u32,
    ) -> Result<Subscription, ControlError> {
        let mut state = self.state();
        let appid = self.resolve_app(&state, appid)?;
        if state.messaging.keywords(&appid, template_id).is_none() {
            return Err(ControlError::UnknownTemplate(template_id.to_owned()));
        }
        // The send call finds the user again by openid.
        state.directory.identity(&appid, user);
        let remaining = state.messaging.grant(&appid, user, template_id, times);
        Ok(Subscription {
            user: user.to_owned(),
            template_id: template_id.to_owned(),
            appid,
            remaining,
        })
    }

    pub fn add_template(&self, template: &TemplateSpec) -> Result<TemplateSpec, ControlError> {
        if template.template_id.is_empty() {
            return Err(ControlError::Empty("template_id"));
        }
        let mut state = self.state();
        let appid = self.resolve_app(&state, template.appid.as_deref())?;
        state.messaging.add_template(template, &appid);
        Ok(TemplateSpec {
            appid: Some(appid),
            ..template.clone()
        })
    }

    pub fn add_content_rule(&self, rule: ContentRule) -> Result<(), ControlError> {
        if rule.pattern.is_empty() {
            return Err(ControlError::Empty("pattern"));
        }
        self.state().messaging.rules.push(rule);
        Ok(())
    }

    fn resolve_app(&self, state: &State, appid: Option<&str>) -> Result<String, ControlError> {
        match appid {
            None => Ok(state.directory.first_appid()),
            Some(appid) if state.directory.app(appid).is_some() => Ok(appid.to_owned()),
            Some(appid) => Err(ControlError::UnknownApp(appid.to_owned())),
        }
    }
}
