//! Sanitising names, codes and picture URLs: clean, stable, capped, and nothing visible lost.

use bai_service::users::{mask_phone, sanitize_code, sanitize_name, sanitize_picture_url};
use proptest::prelude::*;

use super::config;

const MAX_NAME_CHARS: usize = 32;
const MAX_PICTURE_URL_CHARS: usize = 512;
const MAX_CODE_CHARS: usize = 128;

/// Characters of Unicode's general category Cf (format) that render as nothing: zero-width
/// spaces and joiners, bidi embeddings, overrides and isolates, invisible operators, tags;
/// plus the blank letters (Hangul fillers, Braille blank) that make a nickname look empty.
/// The README promises that control and zero-width characters are stripped; these are the
/// zero-width ones. (Visible Cf characters such as the Arabic number signs are left out.)
const INVISIBLE_FORMAT: &[(char, char)] = &[
    ('\u{00AD}', '\u{00AD}'),   // soft hyphen
    ('\u{061C}', '\u{061C}'),   // Arabic letter mark
    ('\u{115F}', '\u{1160}'),   // Hangul choseong and jungseong fillers
    ('\u{180E}', '\u{180E}'),   // Mongolian vowel separator
    ('\u{200B}', '\u{200F}'),   // ZWSP, ZWNJ, ZWJ, LRM, RLM
    ('\u{202A}', '\u{202E}'),   // bidi embeddings and overrides
    ('\u{2060}', '\u{2064}'),   // word joiner, invisible operators
    ('\u{2066}', '\u{206F}'),   // bidi isolates, deprecated format characters
    ('\u{2800}', '\u{2800}'),   // Braille pattern blank
    ('\u{3164}', '\u{3164}'),   // Hangul filler
    ('\u{FEFF}', '\u{FEFF}'),   // BOM / ZWNBSP
    ('\u{FFA0}', '\u{FFA0}'),   // halfwidth Hangul filler
    ('\u{FFF9}', '\u{FFFB}'),   // interlinear annotation
    ('\u{1BCA0}', '\u{1BCA3}'), // shorthand format controls
    ('\u{1D173}', '\u{1D17A}'), // musical format controls
    ('\u{E0001}', '\u{E0001}'), // language tag
    ('\u{E0020}', '\u{E007F}'), // tag characters
];

fn is_invisible_format(c: char) -> bool {
    INVISIBLE_FORMAT
        .iter()
        .any(|&(lo, hi)| (lo..=hi).contains(&c))
}

// ---------------------------------------------------------------------------------------------
// Strategies

/// One character, biased towards the ones sanitising has to deal with.
fn nasty_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => any::<char>(),
        2 => prop::char::range('a', 'z'),
        1 => prop::char::range('\u{4E00}', '\u{4FFF}'), // CJK
        1 => prop::char::range('\u{0000}', '\u{001F}'), // C0 controls
        1 => prop::char::range('\u{007F}', '\u{009F}'), // DEL, C1 controls
        1 => prop::sample::select(
            INVISIBLE_FORMAT
                .iter()
                .flat_map(|&(lo, hi)| [lo, hi])
                .collect::<Vec<_>>()
        ),
        1 => prop::char::range('\u{0300}', '\u{036F}'), // combining diacritics
        1 => prop::char::range('\u{20D0}', '\u{20FF}'), // combining marks for symbols
        1 => prop::char::range('\u{1100}', '\u{1175}'), // Hangul jamo (compose under NFC)
        1 => prop::sample::select(vec![
            ' ', '\t', '\n', '\r', '\u{0B}', '\u{0C}', '\u{85}', '\u{A0}', '\u{1680}',
            '\u{2000}', '\u{2003}', '\u{200A}', '\u{2028}', '\u{2029}', '\u{202F}',
            '\u{205F}', '\u{3000}',
        ]),
        1 => prop::sample::select(vec!['e', 'A', '\u{0301}', '\u{0308}', '\u{212B}', '\u{2126}']),
        1 => prop::char::range('\u{1F300}', '\u{1F64F}'), // emoji
    ]
}

pub(crate) fn nasty_string(max_chars: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(nasty_char(), 0..max_chars).prop_map(String::from_iter)
}

/// Characters that are neither whitespace, control nor invisible, and that NFC leaves alone:
/// a string of these must come out of sanitising exactly as it went in.
fn plain_char() -> impl Strategy<Value = char> {
    prop_oneof![
        prop::char::range('a', 'z'),
        prop::char::range('A', 'Z'),
        prop::char::range('0', '9'),
        prop::char::range('\u{4E00}', '\u{9FA5}'),
        Just('é'),
        Just('-'),
        Just('_'),
    ]
}

/// Something that often is a valid picture URL, with nasty characters around and inside.
fn url_like() -> impl Strategy<Value = String> {
    (
        nasty_string(4),
        prop::sample::select(vec![
            "https://", "http://", "HTTPS://", "ftp://", "https:", "",
        ]),
        "[a-z0-9]{1,12}(\\.[a-z]{2,4}){0,2}(:[0-9]{1,5})?",
        "(/[a-zA-Z0-9._~%-]{0,20}){0,4}(\\?[a-z]=[0-9]{1,3})?",
        nasty_string(4),
        nasty_string(3),
    )
        .prop_map(|(before, scheme, host, path, inside, after)| {
            let mut url = format!("{before}{scheme}{host}{path}");
            let at = url.len() / 2;
            if url.is_char_boundary(at) {
                url.insert_str(at, &inside);
            }
            url.push_str(&after);
            url
        })
}

// ---------------------------------------------------------------------------------------------
// Checks shared by every sanitiser

fn check_clean(output: &str, max_chars: usize) -> Result<(), TestCaseError> {
    prop_assert!(!output.is_empty(), "accepted output is empty");
    prop_assert_eq!(output, output.trim(), "leading or trailing whitespace");
    prop_assert!(
        !output.chars().any(char::is_control),
        "control character in {:?}",
        output
    );
    prop_assert!(
        !output.chars().any(is_invisible_format),
        "invisible format character in {:?}",
        output
    );
    let chars = output.chars().count();
    prop_assert!(
        chars <= max_chars,
        "{} chars > cap {}: {:?}",
        chars,
        max_chars,
        output
    );
    Ok(())
}

fn check_name(input: &str) -> Result<(), TestCaseError> {
    if let Ok(out) = sanitize_name(input) {
        check_clean(&out, MAX_NAME_CHARS)?;
        prop_assert_eq!(sanitize_name(&out), Ok(out.clone()), "not idempotent");
    }
    Ok(())
}

fn check_code(input: &str) -> Result<(), TestCaseError> {
    if let Ok(out) = sanitize_code("users_wx_code", input) {
        check_clean(&out, MAX_CODE_CHARS)?;
        prop_assert!(
            !out.chars().any(char::is_whitespace),
            "whitespace inside {:?}",
            out
        );
        prop_assert_eq!(
            sanitize_code("users_wx_code", &out),
            Ok(out.clone()),
            "not idempotent"
        );
    }
    Ok(())
}

fn check_picture(input: &str) -> Result<(), TestCaseError> {
    if let Ok(out) = sanitize_picture_url(input) {
        check_clean(&out, MAX_PICTURE_URL_CHARS)?;
        prop_assert!(
            !out.chars().any(char::is_whitespace),
            "whitespace inside {:?}",
            out
        );
        let url = url::Url::parse(&out).map_err(|e| TestCaseError::fail(format!("{e}")))?;
        prop_assert!(matches!(url.scheme(), "http" | "https"), "{}", out);
        prop_assert!(url.host_str().is_some_and(|h| !h.is_empty()), "{}", out);
        prop_assert_eq!(
            sanitize_picture_url(&out),
            Ok(out.clone()),
            "not idempotent"
        );
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Sanitising

proptest! {
    #![proptest_config(config(500))]

    #[test]
    fn sanitized_names_are_clean_and_stable(input in nasty_string(64)) {
        check_name(&input)?;
    }

    #[test]
    fn sanitized_codes_are_clean_and_stable(input in nasty_string(160)) {
        check_code(&input)?;
    }

    #[test]
    fn sanitized_picture_urls_are_clean_http_urls_and_stable(input in url_like()) {
        check_picture(&input)?;
    }

    #[test]
    fn arbitrary_unicode_never_panics_any_sanitiser(input in any::<String>()) {
        check_name(&input)?;
        check_code(&input)?;
        check_picture(&input)?;
        let _ = mask_phone(&input);
    }

    /// Stripping only removes: plain text with controls, zero-width characters and outer
    /// whitespace mixed in comes back as the plain text, never truncated or rewritten.
    #[test]
    fn stripping_keeps_every_visible_character(
        plain in prop::collection::vec(plain_char(), 1..48),
        junk in prop::collection::vec(
            prop_oneof![
                prop::char::range('\u{0000}', '\u{001F}'),
                prop::char::range('\u{007F}', '\u{009F}'),
                prop::sample::select(
                    INVISIBLE_FORMAT.iter().flat_map(|&(lo, hi)| [lo, hi]).collect::<Vec<_>>()
                ),
            ],
            48,
        ),
        positions in prop::collection::vec(any::<bool>(), 48),
        pad in "[ \u{3000}\u{A0}]{0,3}",
    ) {
        let expected: String = plain.iter().collect();
        let mut input = pad.clone();
        for (i, c) in plain.iter().enumerate() {
            input.push(*c);
            if positions[i] {
                input.push(junk[i]);
            }
        }
        input.push_str(&pad);
        let name = sanitize_name(&input);
        if expected.chars().count() <= MAX_NAME_CHARS {
            prop_assert_eq!(name, Ok(expected.clone()), "input {:?}", input);
        } else {
            // Too long is rejected, never truncated.
            prop_assert!(name.is_err(), "{} chars accepted: {:?}", expected.chars().count(), name);
        }
        prop_assert_eq!(sanitize_code("users_wx_code", &input), Ok(expected));
    }

    /// Any ASCII code that is too long is rejected, whatever it is made of.
    #[test]
    fn codes_over_the_cap_are_rejected(code in "[!-~]{129,300}") {
        prop_assert!(sanitize_code("users_phone_code", &code).is_err());
    }

    #[test]
    fn names_up_to_the_cap_are_accepted_and_longer_ones_rejected(
        name in prop::collection::vec(plain_char(), 1..80)
    ) {
        let name: String = name.into_iter().collect();
        let result = sanitize_name(&name);
        if name.chars().count() <= MAX_NAME_CHARS {
            prop_assert_eq!(result, Ok(name));
        } else {
            prop_assert!(result.is_err());
        }
    }
}

/// A few huge inputs: rejected (or masked) without panicking.
#[test]
fn huge_inputs_are_rejected_without_panicking() {
    let pieces = [
        "a".repeat(1 << 20),
        "名\u{200B}".repeat(1 << 18),
        "\u{0301}".repeat(1 << 18),
        format!("https://example.com/{}", "a".repeat(1 << 20)),
        " ".repeat(1 << 20),
        "\u{0000}".repeat(1 << 20),
    ];
    for input in &pieces {
        let _ = sanitize_name(input);
        let _ = sanitize_code("users_wx_code", input);
        let _ = sanitize_picture_url(input);
        assert_eq!(mask_phone(input).chars().count(), input.chars().count());
    }
    assert!(sanitize_name(&pieces[0]).is_err());
    assert!(sanitize_picture_url(&pieces[3]).is_err());
    // Only controls or spaces: nothing left.
    assert!(sanitize_name(&pieces[4]).is_err() && sanitize_name(&pieces[5]).is_err());
}

/// Each invisible format character on its own is stripped to nothing, and between two
/// letters it disappears.
#[test]
fn every_invisible_format_character_is_stripped() {
    for &(lo, hi) in INVISIBLE_FORMAT {
        for c in lo..=hi {
            assert!(
                sanitize_name(&c.to_string()).is_err(),
                "U+{:04X} alone was accepted",
                c as u32
            );
            assert_eq!(
                sanitize_name(&format!("a{c}b")).as_deref(),
                Ok("ab"),
                "U+{:04X} survived",
                c as u32
            );
        }
    }
}
