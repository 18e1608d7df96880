//! The control API's side channels for content security and subscribe messages: the rules
//! msg_sec_check applies, the templates an app has, the users' acceptances (standing in for
//! `wx.requestSubscribeMessage`) and the messages delivered.

use std::sync::Arc;

use poem_openapi::param::Query;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi, Tags};

use crate::config::{ContentRule, TemplateSpec};
use crate::control::{ControlError, Done, done};
use crate::encrypted::{EncryptedData, EncryptedKind};
use crate::sim::{ControlError as SimError, Sim};
use crate::state::{Message, Subscription};

#[derive(Tags)]
enum Tag {
    /// Content security (msg_sec_check) rules.
    Content,
    /// Subscribe messages: templates, acceptances, delivered messages.
    Messages,
    /// Encrypted data (`encryptedData`/`iv`) as the mini-program receives it.
    Encrypted,
}

impl From<SimError> for ControlError {
    fn from(error: SimError) -> Self {
        ControlError::new(error)
    }
}

#[derive(Object)]
struct SubscriptionRequest {
    user: String,
    template_id: String,
    /// Defaults to the first app.
    appid: Option<String>,
    /// Acceptances to add (default 1): each allows one send.
    times: Option<u32>,
}

#[derive(Object)]
struct EncryptedDataRequest {
    user: String,
    kind: EncryptedKind,
    /// Defaults to the first app.
    appid: Option<String>,
    /// For `phone`: defaults to the user's phone, else 13800138000.
    phone: Option<String>,
}

pub struct MessagingApi {
    pub sim: Arc<Sim>,
}

#[OpenApi]
impl MessagingApi {
    /// The msg_sec_check rules, in the order they are tried.
    #[oai(
        path = "/content-rules",
        method = "get",
        tag = "Tag::Content",
        operation_id = "listContentRules"
    )]
    async fn rules(&self) -> Json<Vec<ContentRule>> {
        Json(self.sim.state().messaging.rules.clone())
    }

    /// Add a rule: content containing `pattern` gets `label` (and `suggest`, default risky).
    #[oai(
        path = "/content-rules",
        method = "post",
        tag = "Tag::Content",
        operation_id = "addContentRule"
    )]
    async fn add_rule(&self, body: Json<ContentRule>) -> Result<Json<ContentRule>, ControlError> {
        self.sim.add_content_rule(body.0.clone())?;
        Ok(body)
    }

    /// Remove every rule: all content passes.
    #[oai(
        path = "/content-rules",
        method = "delete",
        tag = "Tag::Content",
        operation_id = "clearContentRules"
    )]
    async fn clear_rules(&self) -> Json<Done> {
        self.sim.state().messaging.rules.clear();
        done()
    }

    /// Subscribe-message templates of every app.
    #[oai(
        path = "/templates",
        method = "get",
        tag = "Tag::Messages",
        operation_id = "listTemplates"
    )]
    async fn templates(&self) -> Json<Vec<TemplateSpec>> {
        Json(self.sim.state().messaging.templates())
    }

    /// Add (or replace) a template: the keywords its `data` may use.
    #[oai(
        path = "/templates",
        method = "post",
        tag = "Tag::Messages",
        operation_id = "addTemplate"
    )]
    async fn add_template(
        &self,
        body: Json<TemplateSpec>,
    ) -> Result<Json<TemplateSpec>, ControlError> {
        Ok(Json(self.sim.add_template(&body)?))
    }

    /// A user accepts a template (`wx.requestSubscribeMessage`): one more send allowed.
    #[oai(
        path = "/subscriptions",
        method = "post",
        tag = "Tag::Messages",
        operation_id = "grantSubscription"
    )]
    async fn grant(
        &self,
        body: Json<SubscriptionRequest>,
    ) -> Result<Json<Subscription>, ControlError> {
        let times = body.times.unwrap_or(1);
        Ok(Json(self.sim.grant_subscription(
            &body.user,
            &body.template_id,
            body.appid.as_deref(),
            times,
        )?))
    }

    /// Every user's remaining acceptances.
    #[oai(
        path = "/subscriptions",
        method = "get",
        tag = "Tag::Messages",
        operation_id = "listSubscriptions"
    )]
    async fn subscriptions(&self) -> Json<Vec<Subscription>> {
        Json(self.sim.state().messaging.subscriptions())
    }

    /// Subscribe messages delivered so far, oldest first (optionally one user's).
    #[oai(
        path = "/messages",
        method = "get",
        tag = "Tag::Messages",
        operation_id = "listMessages"
    )]
    async fn messages(&self, user: Query<Option<String>>) -> Json<Vec<Message>> {
        Json(self.sim.state().messaging.messages(user.0.as_deref()))
    }

    /// `{encryptedData, iv}` for the user, encrypted with their current session_key exactly as
    /// the mini-program receives them (AES-128-CBC, PKCS#7, JSON with a watermark).
    #[oai(
        path = "/encrypted-data",
        method = "post",
        tag = "Tag::Encrypted",
        operation_id = "encryptedData"
    )]
    async fn encrypted_data(
        &self,
        body: Json<EncryptedDataRequest>,
    ) -> Result<Json<EncryptedData>, ControlError> {
        Ok(Json(self.sim.encrypted_data(
            &body.user,
            body.kind,
            body.appid.as_deref(),
            body.phone.as_deref(),
        )?))
    }

    /// Forget the delivered messages.
    #[oai(
        path = "/messages",
        method = "delete",
        tag = "Tag::Messages",
        operation_id = "clearMessages"
    )]
    async fn clear_messages(&self) -> Json<Done> {
        self.sim.state().messaging.clear_messages();
        done()
    }
}
