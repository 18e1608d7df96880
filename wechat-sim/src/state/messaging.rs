//! Content-security rules, subscribe-message templates, users' acceptances and the messages
//! delivered.

use std::collections::HashMap;

use poem_openapi::Object;
use serde::{Deserialize, Serialize};

use crate::config::{ContentRule, TemplateSpec};

/// A subscribe message as the user's WeChat received it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Object)]
#[serde(deny_unknown_fields)]
#[oai(deny_unknown_fields)]
pub struct Message {
    /// The `msgid` the send call answered.
    pub msgid: u64,
    pub appid: String,
    /// The simulator user behind `touser`.
    pub user: String,
    pub touser: String,
    pub template_id: String,
    #[oai(skip_serializing_if_is_none)]
    pub page: Option<String>,
    /// `data` exactly as sent (`{"thing1": {"value": "…"}, …}`).
    pub data: serde_json::Value,
    /// `formal` unless the call said `developer` or `trial`.
    pub miniprogram_state: String,
    pub lang: String,
    /// Virtual Unix ms of delivery.
    pub at: u64,
}

/// One user's remaining acceptances of one template.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Object)]
#[serde(deny_unknown_fields)]
#[oai(deny_unknown_fields)]
pub struct Subscription {
    pub user: String,
    pub template_id: String,
    pub appid: String,
    /// Sends still allowed: each `wx.requestSubscribeMessage` acceptance allows one.
    pub remaining: u32,
}

#[derive(Default)]
pub struct Messaging {
    pub rules: Vec<ContentRule>,
    /// (appid, template_id) → keywords.
    templates: HashMap<(String, String), Vec<String>>,
    /// (appid, user, template_id) → sends left.
    grants: HashMap<(String, String, String), u32>,
    messages: Vec<Message>,
    next_msgid: u64,
}

impl Messaging {
    pub fn new(rules: &[ContentRule], templates: &[TemplateSpec], first_appid: &str) -> Self {
        let mut messaging = Self {
            rules: rules.to_vec(),
            next_msgid: 2_400_000_000,
            ..Self::default()
        };
        for template in templates {
            messaging.add_template(template, first_appid);
        }
        messaging
    }

    /// The first rule the content matches (case-insensitive substring), if any.
    pub fn judge(&self, content: &str) -> Option<&ContentRule> {
        let content = content.to_lowercase();
        self.rules
            .iter()
            .find(|rule| !rule.pattern.is_empty() && content.contains(&rule.pattern.to_lowercase()))
    }

    pub fn add_template(&mut self, spec: &TemplateSpec, first_appid: &str) {
        let appid = spec.appid.clone().unwrap_or_else(|| first_appid.to_owned());
        self.templates
            .insert((appid, spec.template_id.clone()), spec.keywords.clone());
    }

    pub fn templates(&self) -> Vec<TemplateSpec> {
        let mut list: Vec<_> = self
            .templates
            .iter()
            .map(|((appid, id), keywords)| TemplateSpec {
                template_id: id.clone(),
                keywords: keywords.clone(),
                appid: Some(appid.clone()),
            })
            .collect();
        list.sort_by(|a, b| (&a.appid, &a.template_id).cmp(&(&b.appid, &b.template_id)));
        list
    }

    pub fn keywords(&self, appid: &str, template_id: &str) -> Option<&[String]> {
        self.templates
            .get(&(appid.to_owned(), template_id.to_owned()))
            .map(Vec::as_slice)
    }

    /// Records `times` more acceptances; the new remaining count.
    pub fn grant(&mut self, appid: &str, user: &str, template_id: &str, times: u32) -> u32 {
        let left = self
            .grants
            .entry((appid.to_owned(), user.to_owned(), template_id.to_owned()))
            .or_insert(0);
        *left = left.saturating_add(times);
        *left
    }

    pub fn subscriptions(&self) -> Vec<Subscription> {
        let mut list: Vec<_> = self
            .grants
            .iter()
            .map(|((appid, user, template_id), remaining)| Subscription {
                user: user.clone(),
                template_id: template_id.clone(),
                appid: appid.clone(),
                remaining: *remaining,
            })
            .collect();
        list.sort_by(|a, b| {
            (&a.appid, &a.user, &a.template_id).cmp(&(&b.appid, &b.user, &b.template_id))
        });
        list
    }

    /// Uses up one acceptance; false when there is none left (43101).
    pub fn take_grant(&mut self, appid: &str, user: &str, template_id: &str) -> bool {
        let key = (appid.to_owned(), user.to_owned(), template_id.to_owned());
        match self.grants.get_mut(&key) {
            Some(left) if *left > 0 => {
                *left -= 1;
                true
            }
            _ => false,
        }
    }

    pub fn deliver(&mut self, mut message: Message) -> u64 {
        self.next_msgid += 1;
        message.msgid = self.next_msgid;
        self.messages.push(message);
        self.next_msgid
    }

    pub fn messages(&self, user: Option<&str>) -> Vec<Message> {
        self.messages
            .iter()
            .filter(|m| user.is_none_or(|u| m.user == u))
            .cloned()
            .collect()
    }

    pub fn clear_messages(&mut self) {
        self.messages.clear();
    }

    /// Puts back exported acceptances and messages (templates and rules are set separately).
    pub fn restore(&mut self, subscriptions: &[Subscription], messages: &[Message]) {
        for sub in subscriptions {
            self.grants.insert(
                (sub.appid.clone(), sub.user.clone(), sub.template_id.clone()),
                sub.remaining,
            );
        }
        self.messages = messages.to_vec();
        let last = messages.iter().map(|m| m.msgid).max().unwrap_or(0);
        self.next_msgid = self.next_msgid.max(last);
    }
}
