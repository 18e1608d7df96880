//! Apps, users and their per-app identities and session keys.

use std::collections::HashMap;

use crate::config::{AppSpec, SimConfig, UserSpec};
use crate::ids;

pub struct Directory {
    apps: Vec<AppSpec>,
    users: HashMap<String, UserSpec>,
    /// (appid, openid) → user, filled whenever an openid is handed out, because openids are
    /// one-way hashes and checksession only receives the openid.
    by_openid: HashMap<(String, String), String>,
    /// (appid, user) → current session_key. One per user per app, as at WeChat.
    sessions: HashMap<(String, String), String>,
}

impl Directory {
    pub fn new(config: &SimConfig) -> Self {
        let mut directory = Self {
            apps: Vec::new(),
            users: HashMap::new(),
            by_openid: HashMap::new(),
            sessions: HashMap::new(),
        };
        for app in &config.apps {
            directory.upsert_app(app.clone());
        }
        for user in &config.users {
            directory.upsert_user(user.clone());
        }
        directory
    }

    /// The first registered app, or the default appid when every app was removed from the
    /// config (so minting still has an app to bind codes to).
    pub fn first_appid(&self) -> String {
        self.apps
            .first()
            .map(|app| app.appid.clone())
            .unwrap_or_else(|| crate::DEFAULT_APPID.to_owned())
    }

    pub fn apps(&self) -> &[AppSpec] {
        &self.apps
    }

    pub fn app(&self, appid: &str) -> Option<&AppSpec> {
        self.apps.iter().find(|app| app.appid == appid)
    }

    pub fn upsert_app(&mut self, spec: AppSpec) {
        match self.apps.iter_mut().find(|app| app.appid == spec.appid) {
            Some(existing) => *existing = spec,
            None => self.apps.push(spec),
        }
    }

    pub fn users(&self) -> Vec<UserSpec> {
        let mut users: Vec<_> = self.users.values().cloned().collect();
        users.sort_by(|a, b| a.name.cmp(&b.name));
        users
    }

    pub fn upsert_user(&mut self, spec: UserSpec) {
        self.users.insert(spec.name.clone(), spec);
    }

    /// Settings of a user; unknown names are ordinary users.
    pub fn user(&self, name: &str) -> UserSpec {
        self.users.get(name).cloned().unwrap_or_else(|| UserSpec {
            name: name.to_owned(),
            phone: None,
            blocked: false,
        })
    }

    /// (openid, unionid) of a user in an app, remembering the openid for reverse lookups.
    pub fn identity(&mut self, appid: &str, user: &str) -> (String, Option<String>) {
        let openid = ids::openid(appid, user);
        self.by_openid
            .insert((appid.to_owned(), openid.clone()), user.to_owned());
        let unionid = self
            .app(appid)
            .and_then(|app| app.open_platform.as_deref())
            .map(|platform| ids::unionid(platform, user));
        (openid, unionid)
    }

    pub fn user_by_openid(&self, appid: &str, openid: &str) -> Option<&str> {
        self.by_openid
            .get(&(appid.to_owned(), openid.to_owned()))
            .map(String::as_str)
    }

    /// Issues a fresh session_key, invalidating the previous one.
    pub fn rotate_session(&mut self, appid: &str, user: &str) -> String {
        let key = ids::session_key();
        self.sessions
            .insert((appid.to_owned(), user.to_owned()), key.clone());
        key
    }

    pub fn session(&self, appid: &str, user: &str) -> Option<&str> {
        self.sessions
            .get(&(appid.to_owned(), user.to_owned()))
            .map(String::as_str)
    }

    /// (appid, user) of everyone who has an openid so far, sorted.
    pub fn known(&self) -> Vec<(String, String)> {
        let mut known: Vec<_> = self
            .by_openid
            .iter()
            .map(|((appid, _), user)| (appid.clone(), user.clone()))
            .collect();
        known.sort();
        known
    }

    /// (appid, user, session_key) of every current session, sorted.
    pub fn sessions(&self) -> Vec<(String, String, String)> {
        let mut sessions: Vec<_> = self
            .sessions
            .iter()
            .map(|((appid, user), key)| (appid.clone(), user.clone(), key.clone()))
            .collect();
        sessions.sort();
        sessions
    }

    /// Puts back a session from an exported state.
    pub fn restore_session(&mut self, appid: &str, user: &str, session_key: &str) {
        self.identity(appid, user);
        self.sessions
            .insert((appid.to_owned(), user.to_owned()), session_key.to_owned());
    }
}
