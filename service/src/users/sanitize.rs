//! Input hygiene for every text a client sends: trim, strip control and zero-width
//! characters, NFC-normalise, then enforce limits. Too-long input is rejected, never
//! silently truncated.

use unicode_normalization::UnicodeNormalization;

use super::fields::{
    MAX_CODE_CHARS, MAX_NAME_CHARS, MAX_PICTURE_URL_CHARS, USERS_NAME, USERS_PICTURE,
};

/// A field the client must fix; `reason` is shown to the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} {reason}")]
pub struct FieldError {
    pub field: &'static str,
    pub reason: String,
}

impl FieldError {
    pub fn new(field: &'static str, reason: impl Into<String>) -> Self {
        Self {
            field,
            reason: reason.into(),
        }
    }
}

pub fn sanitize_name(input: &str) -> Result<String, FieldError> {
    clean_text(USERS_NAME, input, MAX_NAME_CHARS)
}

/// An avatar URL: http or https, with a host, at most 512 characters.
pub fn sanitize_picture_url(input: &str) -> Result<String, FieldError> {
    const FIELD: &str = USERS_PICTURE;
    let cleaned = clean_text(FIELD, input, MAX_PICTURE_URL_CHARS)?;
    let url = url::Url::parse(&cleaned).map_err(|_| FieldError::new(FIELD, "不是有效的 URL"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(FieldError::new(FIELD, "必须是 http 或 https 地址"));
    }
    if cleaned.chars().any(char::is_whitespace) {
        return Err(FieldError::new(FIELD, "不能包含空白字符"));
    }
    Ok(cleaned)
}

/// A one-time WeChat code (`users_wx_code`, `users_phone_code`): opaque, no whitespace inside.
pub fn sanitize_code(field: &'static str, input: &str) -> Result<String, FieldError> {
    let cleaned = clean_text(field, input, MAX_CODE_CHARS)?;
    if cleaned.chars().any(char::is_whitespace) {
        return Err(FieldError::new(field, "不能包含空白字符"));
    }
    Ok(cleaned)
}

fn clean_text(field: &'static str, input: &str, max_chars: usize) -> Result<String, FieldError> {
    let cleaned: String = input
        .chars()
        .filter(|c| !is_stripped(*c))
        .nfc()
        .collect::<String>()
        .trim()
        .to_owned();
    if cleaned.is_empty() {
        return Err(FieldError::new(field, "不能为空"));
    }
    if cleaned.chars().count() > max_chars {
        return Err(FieldError::new(
            field,
            format!("长度不能超过 {max_chars} 个字符"),
        ));
    }
    Ok(cleaned)
}

/// What the sanitiser drops before trimming, one table for it and for the API schema's
/// `pattern` (`api/fields.rs`): the control characters (Cc, what `char::is_control` means), then
/// the zero-width and formatting characters (Unicode category Cf, the ones that render as
/// nothing) that make look-alike names or reorder how text is shown: the soft hyphen, zero-width
/// spaces and joiners, bidi marks, embeddings, overrides and isolates, invisible operators,
/// interlinear annotations, shorthand and musical format controls, tags. Also the blank
/// "letters" that are the well-known way to a blank nickname: the Hangul fillers (Lo, but drawn
/// as nothing outside old-Hangul syllable composition, which names do not use) and the Braille
/// blank.
pub const STRIPPED: &[(char, char)] = &[
    ('\u{0000}', '\u{001F}'),
    ('\u{007F}', '\u{009F}'),
    ('\u{00AD}', '\u{00AD}'),
    ('\u{061C}', '\u{061C}'),
    ('\u{115F}', '\u{1160}'),
    ('\u{180E}', '\u{180E}'),
    ('\u{200B}', '\u{200F}'),
    ('\u{202A}', '\u{202E}'),
    ('\u{2060}', '\u{2064}'),
    ('\u{2066}', '\u{206F}'),
    ('\u{2800}', '\u{2800}'),
    ('\u{3164}', '\u{3164}'),
    ('\u{FEFF}', '\u{FEFF}'),
    ('\u{FFA0}', '\u{FFA0}'),
    ('\u{FFF9}', '\u{FFFB}'),
    ('\u{1BCA0}', '\u{1BCA3}'),
    ('\u{1D173}', '\u{1D17A}'),
    ('\u{E0001}', '\u{E0001}'),
    ('\u{E0020}', '\u{E007F}'),
];

fn is_stripped(c: char) -> bool {
    STRIPPED.iter().any(|&(lo, hi)| (lo..=hi).contains(&c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_stripped_and_normalised() {
        assert_eq!(sanitize_name("  张三\u{200B}\n ").unwrap(), "张三");
        assert_eq!(sanitize_name("e\u{0301}").unwrap(), "\u{00E9}");
        assert_eq!(sanitize_name(" \u{200B} ").unwrap_err().reason, "不能为空");
        // Bidi isolates reorder what is shown (Trojan Source) and render as nothing.
        assert_eq!(sanitize_name("\u{2067}abc\u{2069}").unwrap(), "abc");
        // Blank letters: a nickname of Hangul fillers or Braille blanks shows as nothing.
        assert_eq!(
            sanitize_name("\u{3164}\u{3164}").unwrap_err().reason,
            "不能为空"
        );
        assert_eq!(sanitize_name("\u{2800}").unwrap_err().reason, "不能为空");
        assert_eq!(sanitize_name("a\u{FFA0}b\u{115F}\u{1160}").unwrap(), "ab");
        // Real Hangul still composes.
        assert_eq!(
            sanitize_name("\u{1112}\u{1161}\u{11AB}").unwrap(),
            "\u{D55C}"
        );
        assert!(sanitize_name(&"名".repeat(33)).is_err());
        assert!(sanitize_name(&"名".repeat(32)).is_ok());
    }

    #[test]
    fn pictures_must_be_http_urls() {
        assert!(sanitize_picture_url("https://example.com/a.png").is_ok());
        assert!(sanitize_picture_url("javascript:alert(1)").is_err());
        assert!(sanitize_picture_url("ftp://example.com/a.png").is_err());
        assert!(sanitize_picture_url("https://exa mple.com/a.png").is_err());
    }
}
