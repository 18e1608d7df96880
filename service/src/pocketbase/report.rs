//! What an import prints: counts per collection, every skipped row and conflict, the source
//! fields kept without a column, what happened to the auth secret, and the token lifetimes.

use std::fmt;
use std::time::Duration;

use super::plan::{Counts, Plan, SecretAction};
use super::{Conflict, ImportOptions, Skipped, Source};
use crate::store::pocketbase_source::{PB_COMPANIES, PB_USERS};

#[derive(Debug, Clone)]
pub struct ImportReport {
    pub source: String,
    pub dry_run: bool,
    pub users: Counts,
    pub companies: Counts,
    pub skipped: Vec<Skipped>,
    pub conflicts: Vec<Conflict>,
    pub dropped_links: usize,
    pub extra_fields: Vec<(&'static str, Vec<String>)>,
    pub secret: Option<SecretAction>,
    pub refusal: Option<String>,
    pub pocketbase_duration_secs: Option<i64>,
    pub token_ttl_secs: u64,
    pub nothing_to_do: bool,
    /// Reading the source, planning and writing.
    pub elapsed: Duration,
    /// Of which reading the source.
    pub read_time: Duration,
}

impl ImportReport {
    pub(super) fn new(
        source: &Source,
        plan: &Plan,
        options: &ImportOptions,
        elapsed: Duration,
    ) -> Self {
        Self {
            source: source.path.display().to_string(),
            dry_run: options.dry_run,
            users: plan.users,
            companies: plan.companies,
            skipped: plan.skipped.clone(),
            conflicts: plan.conflicts.clone(),
            dropped_links: plan.dropped_links,
            extra_fields: source.data.extra_fields.clone(),
            secret: plan.secret,
            refusal: plan.refusal.clone(),
            pocketbase_duration_secs: source.data.auth.duration_secs,
            token_ttl_secs: options.token_ttl_secs,
            nothing_to_do: plan.is_noop(),
            elapsed,
            read_time: source.read_time,
        }
    }
}

impl ImportReport {
    /// The summary as one structured event, for JSON logs: the numbers as fields, the lists
    /// (skipped rows, conflicts, fields kept without a column) as JSON arrays in text.
    pub fn log(&self) {
        let skipped: Vec<_> = self
            .skipped
            .iter()
            .map(
                |s| serde_json::json!({"collection": s.collection, "id": s.id, "reason": s.reason}),
            )
            .collect();
        let conflicts: Vec<_> = self
            .conflicts
            .iter()
            .map(|c| serde_json::json!({"field": c.field, "value": c.value, "source_id": c.source_id, "target_id": c.target_id}))
            .collect();
        let extra: serde_json::Map<_, _> = self
            .extra_fields
            .iter()
            .map(|(collection, fields)| (collection.to_string(), serde_json::json!(fields)))
            .collect();
        let (u, c) = (&self.users, &self.companies);
        tracing::info!(
            source = %self.source,
            dry_run = self.dry_run,
            users_source = u.source,
            users_new = u.new,
            users_changed = u.changed,
            users_unchanged = u.unchanged,
            users_kept = u.kept,
            companies_source = c.source,
            companies_new = c.new,
            companies_changed = c.changed,
            companies_unchanged = c.unchanged,
            companies_kept = c.kept,
            skipped = %serde_json::Value::Array(skipped),
            conflicts = %serde_json::Value::Array(conflicts),
            dropped_company_links = self.dropped_links,
            fields_kept_in_pocketbase_fields = %serde_json::Value::Object(extra),
            auth_secret = secret_text(self.secret),
            pocketbase_token_duration_secs = self.pocketbase_duration_secs,
            bai_token_ttl_secs = self.token_ttl_secs,
            would_refuse = self.refusal.as_deref(),
            nothing_to_do = self.nothing_to_do,
            elapsed_secs = self.elapsed.as_secs_f64(),
            read_secs = self.read_time.as_secs_f64(),
            "PocketBase import {}",
            if self.dry_run { "dry run" } else { "finished" }
        );
    }
}

fn secret_text(secret: Option<SecretAction>) -> &'static str {
    match secret {
        Some(SecretAction::Unchanged) => "already PocketBase's (unchanged)",
        Some(SecretAction::Stored) => {
            "PocketBase's authToken.secret adopted (stored in the database)"
        }
        Some(SecretAction::Replaced) => {
            "PocketBase's authToken.secret replaces the generated one (it had signed no user's token)"
        }
        None => "unchanged",
    }
}

fn counts(f: &mut fmt::Formatter<'_>, name: &str, c: &Counts, dry_run: bool) -> fmt::Result {
    let verb = if dry_run { "would import" } else { "imported" };
    writeln!(
        f,
        "{name}: {} in PocketBase; {verb} {} new, {} changed (newer in PocketBase); {} unchanged; {} kept (newer here)",
        c.source, c.new, c.changed, c.unchanged, c.kept
    )
}

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mode = if self.dry_run {
            " (dry run: nothing written)"
        } else {
            ""
        };
        writeln!(f, "PocketBase import from {}{mode}", self.source)?;
        counts(f, PB_USERS, &self.users, self.dry_run)?;
        counts(f, PB_COMPANIES, &self.companies, self.dry_run)?;
        writeln!(f, "skipped rows: {}", self.skipped.len())?;
        for s in &self.skipped {
            writeln!(f, "  {} {:?}: {}", s.collection, s.id, s.reason)?;
        }
        writeln!(f, "conflicts: {}", self.conflicts.len())?;
        for c in &self.conflicts {
            writeln!(
                f,
                "  {} {:?}: PocketBase record {} but record {} here (kept, not imported)",
                c.field, c.value, c.source_id, c.target_id
            )?;
        }
        if self.dropped_links > 0 {
            writeln!(
                f,
                "company links to no company: {} (imported without the link; the company_id is kept in pocketbase_fields)",
                self.dropped_links
            )?;
        }
        for (collection, fields) in &self.extra_fields {
            if !fields.is_empty() {
                writeln!(
                    f,
                    "fields with no column here, kept per record in pocketbase_fields: {collection}: {}",
                    fields.join(", ")
                )?;
            }
        }
        writeln!(f, "auth secret: {}", secret_text(self.secret))?;
        let pb = self
            .pocketbase_duration_secs
            .map_or_else(|| "not set".to_owned(), |d| format!("{d} s"));
        writeln!(
            f,
            "token lifetime: PocketBase authToken.duration {pb}; BAI_TOKEN_TTL {} s{}",
            self.token_ttl_secs,
            match self.pocketbase_duration_secs {
                Some(d) if d != self.token_ttl_secs as i64 =>
                    " (set BAI_TOKEN_TTL to keep PocketBase's; tokens PocketBase issued keep their own expiry either way)",
                _ => "",
            }
        )?;
        if let Some(refusal) = &self.refusal {
            writeln!(f, "would refuse: {refusal}")?;
        } else if self.nothing_to_do {
            writeln!(f, "nothing to do: the database already holds this import")?;
        }
        write!(
            f,
            "took {:.2} s (reading the source {:.2} s)",
            self.elapsed.as_secs_f64(),
            self.read_time.as_secs_f64()
        )
    }
}
