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
    pub elapsed: Duration,
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
        }
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
        let secret = match self.secret {
            Some(SecretAction::Unchanged) => "already PocketBase's (unchanged)",
            Some(SecretAction::Stored) => {
                "PocketBase's authToken.secret adopted (stored in the database)"
            }
            Some(SecretAction::Replaced) => {
                "PocketBase's authToken.secret replaces the generated one (it had signed no user's token)"
            }
            None => "unchanged",
        };
        writeln!(f, "auth secret: {secret}")?;
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
        write!(f, "took {:.2} s", self.elapsed.as_secs_f64())
    }
}
