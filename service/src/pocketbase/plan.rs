//! Deciding, row by row, what an import does: new, changed (the source is newer), unchanged,
//! kept (the target is newer), skipped (unusable source row) or a conflict (the same openid,
//! users_id or token key under another record id).

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use super::ImportOptions;
use crate::store::pocketbase_source::{PB_COMPANIES, PB_USERS, PbCompany, PbSource, PbUser};
use crate::store::{CompanyRecord, ImportTarget, ImportWrite, UserRecord};

/// A source row left out, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub collection: &'static str,
    pub id: String,
    pub reason: String,
}

/// A source user whose openid (or users_id, token key) belongs to another record here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    pub field: &'static str,
    pub value: String,
    pub source_id: String,
    pub target_id: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub source: usize,
    pub new: usize,
    pub changed: usize,
    pub unchanged: usize,
    /// Present here with a newer `updated`: left as it is.
    pub kept: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretAction {
    /// The target already uses PocketBase's secret.
    Unchanged,
    /// The target had none; PocketBase's is stored.
    Stored,
    /// The target had a generated secret but no users (so no token was signed with it).
    Replaced,
}

#[derive(Debug, Default)]
pub struct Plan {
    pub write: ImportWrite,
    pub users: Counts,
    pub companies: Counts,
    pub skipped: Vec<Skipped>,
    pub conflicts: Vec<Conflict>,
    /// Users whose company_id names no company; imported without the link (kept as a field).
    pub dropped_links: usize,
    pub secret: Option<SecretAction>,
    /// Why the import may not go ahead (a dry run reports it instead of failing).
    pub refusal: Option<String>,
}

impl Plan {
    pub fn is_noop(&self) -> bool {
        let w = &self.write;
        w.auth_secret.is_none()
            && w.new_users.is_empty()
            && w.changed_users.is_empty()
            && w.new_companies.is_empty()
            && w.changed_companies.is_empty()
            && w.extra_fields.is_empty()
    }
}

/// PocketBase's datetime format, `2006-01-02 15:04:05.000Z`, which this service stores too.
fn is_pocketbase_date(value: &str) -> bool {
    value.len() == 24
        && chrono::NaiveDateTime::parse_from_str(value, "%Y-%m-%d %H:%M:%S%.3fZ").is_ok()
}

fn bad_date(created: &str, updated: &str) -> Option<String> {
    [("created", created), ("updated", updated)]
        .into_iter()
        .find(|(_, v)| !is_pocketbase_date(v))
        .map(|(name, v)| format!("malformed date: {name} = '{v}'"))
}

pub fn plan(source: &PbSource, target: &ImportTarget, options: &ImportOptions) -> Plan {
    let mut plan = Plan::default();
    let target_in_use = !target.users.is_empty() || !target.companies.is_empty();
    let secret = &source.auth.secret;
    plan.secret = match &target.auth_secret {
        None => Some(SecretAction::Stored),
        Some(s) if s == secret => Some(SecretAction::Unchanged),
        Some(_) if target.users.is_empty() => Some(SecretAction::Replaced),
        Some(_) => {
            plan.refusal = Some(format!(
                "the target database's auth secret differs from PocketBase's and its {} users hold tokens signed with it: import into an empty database, or into one imported from this PocketBase",
                target.users.len()
            ));
            None
        }
    };
    if matches!(
        plan.secret,
        Some(SecretAction::Stored | SecretAction::Replaced)
    ) {
        plan.write.auth_secret = Some(secret.clone());
    }
    let companies = plan_companies(&mut plan, &source.companies, &target.companies);
    plan_users(&mut plan, &source.users, &target.users, &companies);
    let pending = plan.users.new
        + plan.users.changed
        + plan.users.kept
        + plan.conflicts.len()
        + plan.companies.new
        + plan.companies.changed
        + plan.companies.kept;
    if plan.refusal.is_none() && target_in_use && !options.merge && pending > 0 {
        plan.refusal = Some(format!(
            "the target database already has {} users and {} companies: rerun with --merge to add {} new and update {} changed users ({} conflicts; rows newer here are never overwritten)",
            target.users.len(),
            target.companies.len(),
            plan.users.new,
            plan.users.changed,
            plan.conflicts.len()
        ));
    }
    plan
}

/// Plans the companies; returns every company_id that will exist afterwards.
fn plan_companies(
    plan: &mut Plan,
    source: &[PbCompany],
    target: &[CompanyRecord],
) -> HashSet<String> {
    let existing: HashMap<&str, &CompanyRecord> =
        target.iter().map(|c| (c.company_id.as_str(), c)).collect();
    let mut known: HashSet<String> = existing.keys().map(|k| k.to_string()).collect();
    let mut seen = HashSet::new();
    plan.companies.source = source.len();
    for c in source {
        let reason = if c.company_id.is_empty() {
            Some("missing company_id".to_owned())
        } else if !seen.insert(c.company_id.as_str()) {
            Some("duplicate company_id".to_owned())
        } else {
            bad_date(&c.created, &c.updated)
        };
        if let Some(reason) = reason {
            plan.skipped.push(Skipped {
                collection: PB_COMPANIES,
                id: c.company_id.clone(),
                reason,
            });
            continue;
        }
        let record = CompanyRecord {
            company_id: c.company_id.clone(),
            company_name: c.company_name.clone(),
            created: c.created.clone(),
            updated: c.updated.clone(),
        };
        known.insert(record.company_id.clone());
        let extra = (
            PB_COMPANIES.to_owned(),
            record.company_id.clone(),
            c.extra.clone(),
        );
        match existing.get(record.company_id.as_str()) {
            None => {
                plan.companies.new += 1;
                plan.write.extra_fields.push(extra);
                plan.write.new_companies.push(record);
            }
            Some(t) if **t == record => plan.companies.unchanged += 1,
            Some(t) if record.updated > t.updated => {
                plan.companies.changed += 1;
                plan.write.extra_fields.push(extra);
                plan.write.changed_companies.push(record);
            }
            Some(_) => plan.companies.kept += 1,
        }
    }
    known
}

fn plan_users(
    plan: &mut Plan,
    source: &[PbUser],
    target: &[UserRecord],
    companies: &HashSet<String>,
) {
    let by_id: HashMap<&str, &UserRecord> = target.iter().map(|u| (u.id.as_str(), u)).collect();
    let unique = |f: fn(&UserRecord) -> &str| -> HashMap<&str, &str> {
        target.iter().map(|u| (f(u), u.id.as_str())).collect()
    };
    let owners = [
        ("openid", unique(|u| &u.openid)),
        ("users_id", unique(|u| &u.users_id)),
        ("tokenKey", unique(|u| &u.token_key)),
    ];
    let mut seen: [HashSet<&str>; 3] = Default::default();
    plan.users.source = source.len();
    for u in source {
        let values = [u.openid.as_str(), u.users_id.as_str(), u.token_key.as_str()];
        let reason = if u.id.is_empty() {
            Some("missing id".to_owned())
        } else if let Some(i) = values.iter().position(|v| v.is_empty()) {
            Some(format!("missing {}", owners[i].0))
        } else if let Some(i) = (0..3).find(|&i| !seen[i].insert(values[i])) {
            Some(format!("duplicate {}", owners[i].0))
        } else {
            bad_date(&u.created, &u.updated)
        };
        if let Some(reason) = reason {
            plan.skipped.push(Skipped {
                collection: PB_USERS,
                id: u.id.clone(),
                reason,
            });
            continue;
        }
        let clash = (0..3).find_map(|i| {
            let (field, owner) = &owners[i];
            owner
                .get(values[i])
                .filter(|id| **id != u.id)
                .map(|id| (*field, values[i], *id))
        });
        if let Some((field, value, target_id)) = clash {
            plan.conflicts.push(Conflict {
                field,
                value: value.to_owned(),
                source_id: u.id.clone(),
                target_id: target_id.to_owned(),
            });
            continue;
        }
        let (record, extra) = user_record(u, companies);
        if record.company_id.is_none() && !u.company_id.is_empty() {
            plan.dropped_links += 1;
        }
        let extra = (PB_USERS.to_owned(), record.id.clone(), extra);
        match by_id.get(record.id.as_str()) {
            None => {
                plan.users.new += 1;
                plan.write.extra_fields.push(extra);
                plan.write.new_users.push(record);
            }
            Some(t) if **t == record => plan.users.unchanged += 1,
            Some(t) if record.updated > t.updated => {
                plan.users.changed += 1;
                plan.write.extra_fields.push(extra);
                plan.write.changed_users.push(record);
            }
            Some(_) => plan.users.kept += 1,
        }
    }
}

/// A PocketBase bool as read from SQLite (`1`; `true` should a tool have written JSON's).
fn is_true(value: &str) -> bool {
    matches!(value, "1" | "true")
}

/// The row as stored here, and its extra fields; a company_id naming no company is kept among
/// the extra fields instead of the column (whose foreign key it would break).
fn user_record(u: &PbUser, companies: &HashSet<String>) -> (UserRecord, String) {
    let mut extra = u.extra.clone();
    let company_id = match u.company_id.as_str() {
        "" => None,
        id if companies.contains(id) => Some(id.to_owned()),
        id => {
            let mut fields: Map<String, Value> = serde_json::from_str(&extra).unwrap_or_default();
            fields.insert("company_id".into(), Value::String(id.to_owned()));
            extra = Value::Object(fields).to_string();
            None
        }
    };
    let record = UserRecord {
        id: u.id.clone(),
        users_id: u.users_id.clone(),
        openid: u.openid.clone(),
        users_type: u.users_type.clone(),
        users_name: u.users_name.clone(),
        users_phone: u.users_phone.clone(),
        users_picture: u.users_picture.clone(),
        company_id,
        token_key: u.token_key.clone(),
        created: u.created.clone(),
        updated: u.updated.clone(),
        email: u.email.clone(),
        email_visibility: is_true(&u.email_visibility),
        verified: is_true(&u.verified),
    };
    (record, extra)
}
