//! The typed library methods for content security and subscribe messages.

use crate::config::{ContentRule, TemplateSpec};
use crate::encrypted::{EncryptedData, EncryptedKind};
use crate::server::Simulator;
use crate::snapshot::SimState;
use crate::state::{Message, Subscription};

impl Simulator {
    /// Makes msg_sec_check judge content containing `rule.pattern` as `rule.label`. Panics on
    /// an empty pattern.
    pub async fn add_content_rule(&self, rule: ContentRule) {
        self.core()
            .add_content_rule(rule)
            .unwrap_or_else(|e| panic!("wechat-sim: {e}"));
    }

    /// Adds a subscribe-message template. Panics if its app is unknown.
    pub async fn add_template(&self, template: TemplateSpec) -> TemplateSpec {
        self.core()
            .add_template(&template)
            .unwrap_or_else(|e| panic!("wechat-sim: {e}"))
    }

    /// `user` accepts `template_id` of the default app once (`wx.requestSubscribeMessage`):
    /// one more send is allowed. Panics if the template is unknown.
    pub async fn subscribe(&self, user: &str, template_id: &str) -> Subscription {
        self.core()
            .grant_subscription(user, template_id, None, 1)
            .unwrap_or_else(|e| panic!("wechat-sim: {e}"))
    }

    /// `{encryptedData, iv}` for `user` of the default app, encrypted with their current
    /// session_key. Panics if the user has not logged in yet.
    pub async fn encrypted_data(&self, user: &str, kind: EncryptedKind) -> EncryptedData {
        self.core()
            .encrypted_data(user, kind, None, None)
            .unwrap_or_else(|e| panic!("wechat-sim: {e}"))
    }

    /// What `GET /__sim/state` exports.
    pub async fn export_state(&self) -> SimState {
        self.core().export_state()
    }

    /// What `PUT /__sim/state` does: replaces apps, users, sessions, rules, templates,
    /// acceptances and messages.
    pub async fn import_state(&self, state: &SimState) {
        self.core().import_state(state);
    }

    /// Subscribe messages delivered so far, oldest first.
    pub async fn messages(&self) -> Vec<Message> {
        self.core().state().messaging.messages(None)
    }

    /// The messages delivered to one user.
    pub async fn messages_to(&self, user: &str) -> Vec<Message> {
        self.core().state().messaging.messages(Some(user))
    }
}
