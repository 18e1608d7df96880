//! What a failed start prints: one line that names what to fix (the variable, the host and port,
//! the path), an optional hint line, never a backtrace; exit code 2 for configuration, 1 for
//! everything that failed at run time.

use std::process::ExitCode;

use clap::error::{ContextKind, ContextValue, ErrorKind};

use crate::config::ConfigError;

/// The exit code of a configuration mistake (as clap uses for bad arguments).
pub const CONFIG_EXIT_CODE: u8 = 2;
/// The exit code of a failure at run time (a port taken, a database down).
pub const RUNTIME_EXIT_CODE: u8 = 1;

/// Prints `err` as one line (plus a hint when there is one) and returns the exit code.
pub fn report(err: &anyhow::Error) -> ExitCode {
    eprintln!("error: {}", one_line(err));
    if let Some(hint) = hint(err) {
        eprintln!("hint: {hint}");
    }
    let is_config = err.chain().any(|cause| cause.is::<ConfigError>());
    ExitCode::from(if is_config {
        CONFIG_EXIT_CODE
    } else {
        RUNTIME_EXIT_CODE
    })
}

/// The error and its causes joined by `: `, each said once: libraries often repeat their
/// source's text in their own (sqlx's "error returned from database: …" above the server's
/// message), and anyhow's debug form would add a backtrace under `RUST_BACKTRACE=1`.
pub fn one_line(err: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in err.chain() {
        let text = strip_noise(&cause.to_string());
        if text.is_empty() || parts.iter().any(|part| part.contains(&text)) {
            continue;
        }
        if let Some(last) = parts.last_mut()
            && text.contains(last.as_str())
        {
            *last = text;
            continue;
        }
        parts.push(text);
    }
    parts.join(": ")
}

/// Prefixes that say nothing the rest of the line does not, and the " at line N" sqlx appends
/// to PostgreSQL's messages (a line of the server's own C source, of no use to an operator).
fn strip_noise(text: &str) -> String {
    let mut text = text.trim();
    for noise in ["database error: ", "error returned from database: "] {
        while let Some(rest) = text.strip_prefix(noise) {
            text = rest;
        }
    }
    if let Some((message, line)) = text.rsplit_once(" at line ")
        && !line.is_empty()
        && line.bytes().all(|b| b.is_ascii_digit())
    {
        text = message;
    }
    text.to_owned()
}

fn hint(err: &anyhow::Error) -> Option<&'static str> {
    let io_kind = err
        .chain()
        .find_map(|cause| cause.downcast_ref::<std::io::Error>())
        .map(std::io::Error::kind);
    match io_kind {
        Some(std::io::ErrorKind::AddrInUse) => {
            Some("another process listens there: stop it, or set BAI_ADDR (or BAI_DEV_SIM_ADDR)")
        }
        Some(std::io::ErrorKind::PermissionDenied) => {
            Some("the service's user must be able to create and write that path")
        }
        _ => None,
    }
}

/// A clap error about one setting's value, said in terms of what the user set: the variable
/// `BAI_TOKEN_TTL` when the value came from the environment, else the flag. `None` for errors
/// that are not about a value (help, version, unknown flags), which clap prints itself.
pub fn clap_value_error(
    err: &clap::Error,
    command: &clap::Command,
    argv: &[String],
) -> Option<String> {
    if !matches!(
        err.kind(),
        ErrorKind::InvalidValue | ErrorKind::ValueValidation
    ) {
        return None;
    }
    let ContextValue::String(invalid_arg) = err.get(ContextKind::InvalidArg)? else {
        return None;
    };
    let flag = invalid_arg
        .split_whitespace()
        .next()?
        .trim_start_matches("--");
    let value = match err.get(ContextKind::InvalidValue) {
        Some(ContextValue::String(value)) => value.clone(),
        _ => String::new(),
    };
    let arg = command
        .get_arguments()
        .find(|arg| arg.get_long() == Some(flag))?;
    let given_as_flag = argv
        .iter()
        .any(|a| a == &format!("--{flag}") || a.starts_with(&format!("--{flag}=")));
    let name = match arg.get_env() {
        Some(env) if !given_as_flag => env.to_string_lossy().into_owned(),
        _ => format!("--{flag}"),
    };
    let reason = match err.get(ContextKind::ValidValue) {
        Some(ContextValue::Strings(valid)) => format!("expected one of {}", valid.join(", ")),
        _ => std::error::Error::source(err)
            .map(ToString::to_string)
            .unwrap_or_else(|| "not a valid value".to_owned()),
    };
    Some(format!("{name}: invalid value '{value}' ({reason})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causes_that_repeat_each_other_are_said_once() {
        let inner = std::io::Error::other("database \"x\" does not exist at line 948");
        let err = anyhow::Error::new(inner)
            .context("error returned from database: database \"x\" does not exist")
            .context("database error: error returned from database: database \"x\" does not exist")
            .context("connecting to the database at 127.0.0.1:5432/x");
        assert_eq!(
            one_line(&err),
            "connecting to the database at 127.0.0.1:5432/x: database \"x\" does not exist"
        );
    }

    #[test]
    fn distinct_causes_are_kept_in_order() {
        let err = anyhow::Error::new(std::io::Error::other(
            "Address already in use (os error 98)",
        ))
        .context("binding 127.0.0.1:8090");
        assert_eq!(
            one_line(&err),
            "binding 127.0.0.1:8090: Address already in use (os error 98)"
        );
    }
}
