//! Export and import of what a developer builds up in a simulator (apps, users, their
//! sessions, content rules, templates, acceptances, delivered messages), so that it survives
//! a restart (`GET/PUT /__sim/state`, `--state-file`), like the Firebase emulators'
//! export/import. Codes and access tokens are not kept: they are short-lived at WeChat too,
//! and clients fetch new ones by themselves.

use poem_openapi::Object;
use serde::{Deserialize, Serialize};

use crate::config::{AppSpec, ContentRule, TemplateSpec, UserSpec};
use crate::sim::Sim;
use crate::state::{Message, State, Subscription};

/// A user known in an app (they have an openid there).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Object)]
#[serde(deny_unknown_fields)]
#[oai(deny_unknown_fields)]
pub struct KnownUser {
    pub appid: String,
    pub user: String,
    /// The current session_key, if the user has logged in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[oai(skip_serializing_if_is_none)]
    pub session_key: Option<String>,
}

/// Everything `GET /__sim/state` exports and `PUT /__sim/state` restores.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, Object)]
#[serde(default, deny_unknown_fields)]
#[oai(deny_unknown_fields)]
pub struct SimState {
    pub apps: Vec<AppSpec>,
    pub users: Vec<UserSpec>,
    /// Users with an openid, and their session keys (checksession keeps working).
    pub identities: Vec<KnownUser>,
    pub content_rules: Vec<ContentRule>,
    pub templates: Vec<TemplateSpec>,
    pub subscriptions: Vec<Subscription>,
    pub messages: Vec<Message>,
}

impl SimState {
    /// Parses a saved state (`--state-file`); the error is one line naming `file` and the
    /// path of the offending key.
    pub fn from_json(file: &str, text: &str) -> Result<Self, String> {
        crate::json_file::parse(file, text)
    }
}

impl Sim {
    pub fn export_state(&self) -> SimState {
        let state = self.state();
        let directory = &state.directory;
        let sessions = directory.sessions();
        let mut identities: Vec<KnownUser> = directory
            .known()
            .into_iter()
            .map(|(appid, user)| {
                let session_key = sessions
                    .iter()
                    .find(|(a, u, _)| *a == appid && *u == user)
                    .map(|(_, _, key)| key.clone());
                KnownUser {
                    appid,
                    user,
                    session_key,
                }
            })
            .collect();
        identities.dedup();
        SimState {
            apps: directory.apps().to_vec(),
            users: directory.users(),
            identities,
            content_rules: state.messaging.rules.clone(),
            templates: state.messaging.templates(),
            subscriptions: state.messaging.subscriptions(),
            messages: state.messaging.messages(None),
        }
    }

    /// Replaces apps, users, sessions, rules, templates, acceptances and messages with
    /// `snapshot`; codes and tokens start empty. Faults, journal and clock are left alone.
    pub fn import_state(&self, snapshot: &SimState) {
        let mut fresh = State::new(&self.config);
        for app in &snapshot.apps {
            fresh.directory.upsert_app(app.clone());
        }
        for user in &snapshot.users {
            fresh.directory.upsert_user(user.clone());
        }
        for known in &snapshot.identities {
            match &known.session_key {
                Some(key) => fresh
                    .directory
                    .restore_session(&known.appid, &known.user, key),
                None => {
                    fresh.directory.identity(&known.appid, &known.user);
                }
            }
        }
        fresh.messaging.rules = snapshot.content_rules.clone();
        let first = fresh.directory.first_appid();
        for template in &snapshot.templates {
            fresh.messaging.add_template(template, &first);
        }
        fresh
            .messaging
            .restore(&snapshot.subscriptions, &snapshot.messages);
        *self.state() = fresh;
    }
}
