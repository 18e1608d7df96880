//! Request text fields that never fail to parse. poem-openapi's own errors for a missing or
//! wrong-typed field do not name the field; a `TextField` records what was wrong instead, so
//! the handler can answer 400 naming the field, while the spec still says "required string,
//! at most MAX characters", plus a `pattern` ([`TextRule`]) describing what the domain's
//! sanitiser (`users::sanitize`) accepts, so that every string the schema allows is accepted.

use std::borrow::Cow;
use std::marker::PhantomData;

use poem_openapi::registry::{MetaSchema, MetaSchemaRef};
use poem_openapi::types::{ParseFromJSON, ParseResult, ToJSON, Type};
use serde_json::Value;

use crate::users::{FieldError, STRIPPED};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextField<const MAX: usize, R: TextRule = Visible>(
    Result<String, Problem>,
    PhantomData<R>,
);

/// One character that survives sanitising: not whitespace and not in [`STRIPPED`]. Only the BMP
/// ranges are written out: schemathesis 4.32 generates from ECMA-262 patterns without the `u`
/// flag and rejects `\u{1BCA0}`, `\U0001BCA0` and `\p{Cf}` alike, so the few invisible format
/// characters above U+FFFF (shorthand and musical format controls, tags) are not excluded here:
/// the one gap between the pattern and the sanitiser, pinned by `stripped_matches_the_sanitiser`.
fn visible_char() -> String {
    let ranges: String = STRIPPED
        .iter()
        .filter(|&&(_, hi)| u32::from(hi) <= 0xFFFF)
        .map(|&(lo, hi)| match lo == hi {
            true => format!("\\u{:04X}", u32::from(lo)),
            false => format!("\\u{:04X}-\\u{:04X}", u32::from(lo), u32::from(hi)),
        })
        .collect();
    format!("[^\\s{ranges}]")
}

/// The `pattern` a text field declares (ECMA 262, as JSON Schema reads it; unanchored).
pub trait TextRule: Send + Sync + 'static {
    fn pattern() -> String;
}

/// Free text (`users_name`): at least one visible character. Surrounding whitespace is trimmed
/// and control/zero-width characters are dropped, so a text of only those is empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visible;

impl TextRule for Visible {
    fn pattern() -> String {
        visible_char()
    }
}

/// A WeChat code: no whitespace, and at least one visible character.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Code;

impl TextRule for Code {
    fn pattern() -> String {
        format!(r"^\S*{}\S*$", visible_char())
    }
}

/// An avatar URL: `http(s)://`, a host name whose last label starts with a letter (so it is not
/// read as an IPv4 address), an optional port below 10000, and a path of printable ASCII.
/// Hyphens only between letters or digits, never two in a row: a label starting `xn--` is
/// punycode, which the URL parser decodes and may refuse (`http://XN--.a`, found by proptest).
/// `users::sanitize_picture_url` accepts every such URL (and a few more, such as IP hosts and
/// valid punycode).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpUrl;

impl TextRule for HttpUrl {
    fn pattern() -> String {
        concat!(
            r"^https?://([A-Za-z0-9]+(-[A-Za-z0-9]+)*\.)*[A-Za-z][A-Za-z0-9]*(-[A-Za-z0-9]+)*",
            r"(:[0-9]{1,4})?(/[!-~]*)?$"
        )
        .to_owned()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Problem {
    Missing,
    NotAString,
}

impl<const MAX: usize, R: TextRule> TextField<MAX, R> {
    /// A present value, for the spec's examples.
    pub fn example(text: &str) -> Self {
        Self(Ok(text.to_owned()), PhantomData)
    }

    /// The text, or the 400 that names `field`. Length and content are the domain's to judge.
    pub fn into_text(self, field: &'static str) -> Result<String, FieldError> {
        match self.0 {
            Ok(text) => Ok(text),
            Err(Problem::Missing) => Err(FieldError::new(field, "不能为空")),
            Err(Problem::NotAString) => Err(FieldError::new(field, "必须是字符串")),
        }
    }
}

impl<const MAX: usize, R: TextRule> Type for TextField<MAX, R> {
    const IS_REQUIRED: bool = true;
    type RawValueType = String;
    type RawElementValueType = String;

    fn name() -> Cow<'static, str> {
        "string".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            min_length: Some(1),
            max_length: Some(MAX),
            pattern: Some(R::pattern()),
            ..MetaSchema::new("string")
        }))
    }

    fn as_raw_value(&self) -> Option<&String> {
        self.0.as_ref().ok()
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a String> + 'a> {
        Box::new(self.as_raw_value().into_iter())
    }
}

impl<const MAX: usize, R: TextRule> ParseFromJSON for TextField<MAX, R> {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        let text = match value {
            None | Some(Value::Null) => Err(Problem::Missing),
            Some(Value::String(text)) => Ok(text),
            Some(_) => Err(Problem::NotAString),
        };
        Ok(Self(text, PhantomData))
    }
}

impl<const MAX: usize, R: TextRule> ToJSON for TextField<MAX, R> {
    fn to_json(&self) -> Option<Value> {
        self.as_raw_value().cloned().map(Value::String)
    }
}

#[cfg(test)]
mod tests {
    //! Every string a field's pattern admits is one the sanitiser accepts: the schema never
    //! promises more than the service keeps (what `just contract`'s positive_data_acceptance
    //! checks over HTTP, here without a server).
    use proptest::prelude::*;
    use proptest::string::string_regex;

    use super::*;
    use crate::users::{sanitize_code, sanitize_name, sanitize_picture_url};

    /// Characters the sanitiser trims or drops, as a regex class (a sample of [`STRIPPED`]).
    const STRIPPED_CLASS: &str = r"[\s\x00-\x1F\x7F-\x9F\u00AD\u200B\u2066\uFEFF]";

    /// Every code point: the pattern's idea of a visible character is the sanitiser's, except
    /// for the invisible format characters above the BMP that the pattern cannot name.
    #[test]
    fn stripped_matches_the_sanitiser() {
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            let stripped = STRIPPED.iter().any(|&(lo, hi)| (lo..=hi).contains(&c));
            let accepted = sanitize_name(&c.to_string()).is_ok();
            if stripped && u32::from(c) > 0xFFFF {
                assert!(!accepted, "U+{:04X} is no longer stripped", u32::from(c));
                continue;
            }
            let visible = !c.is_whitespace() && !stripped;
            assert_eq!(visible, accepted, "U+{:04X}", u32::from(c));
        }
    }

    /// The gap `visible_char` documents: such a character passes the pattern as "visible".
    fn has_astral_stripped(text: &str) -> bool {
        text.chars().any(|c| {
            u32::from(c) > 0xFFFF && STRIPPED.iter().any(|&(lo, hi)| (lo..=hi).contains(&c))
        })
    }

    /// A generator for `pattern`, which proptest wants without anchors.
    fn matching(pattern: &str) -> impl Strategy<Value = String> {
        let inner = pattern.trim_start_matches('^').trim_end_matches('$');
        string_regex(inner).expect("the pattern is a valid regex")
    }

    proptest! {
        #[test]
        fn visible_text_is_a_valid_name(
            // Padded with what the sanitiser strips, the hard case; and with anything at all.
            text in prop_oneof![
                matching(&format!(
                    r"{STRIPPED_CLASS}{{0,15}}{}{STRIPPED_CLASS}{{0,15}}",
                    Visible::pattern()
                )),
                matching(&format!(r"(?s).{{0,15}}{}.{{0,15}}", Visible::pattern())),
            ]
        ) {
            prop_assume!(!has_astral_stripped(&text));
            prop_assert!(sanitize_name(&text).is_ok(), "{text:?}");
        }

        #[test]
        fn code_pattern_matches_are_valid_codes(
            code in matching(&format!(r"\S{{0,60}}{}\S{{0,60}}", visible_char()))
        ) {
            prop_assume!(!has_astral_stripped(&code));
            prop_assert!(sanitize_code(crate::users::fields::USERS_WX_CODE, &code).is_ok(), "{code:?}");
        }

        #[test]
        fn url_pattern_matches_are_valid_pictures(
            // Nested `*` would mostly draw URLs over the length cap; `{0,4}` draws a subset of
            // the same language, every one of which must be accepted.
            url in matching(&HttpUrl::pattern().replace(")*", "){0,4}"))
        ) {
            prop_assume!(url.chars().count() <= 512);
            prop_assert!(sanitize_picture_url(&url).is_ok(), "{url:?}");
        }
    }
}
