//! Phone masking: the length kept, never more than seven digits shown.

use bai_service::users::mask_phone;
use proptest::prelude::*;

use super::config;
use super::sanitize::nasty_string;

/// Phone-number-ish strings: digits mostly, sometimes a `+`, spaces or anything at all.
fn phone_like() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9]{0,20}",
        "\\+[0-9]{1,18}",
        "1[3-9][0-9]{9}",
        "[0-9 +()-]{0,24}",
        nasty_string(24),
    ]
}

proptest! {
    #![proptest_config(config(3_000))]

    #[test]
    fn masking_keeps_the_length_and_at_most_seven_digits(phone in phone_like()) {
        let masked = mask_phone(&phone);
        let input: Vec<char> = phone.chars().collect();
        let output: Vec<char> = masked.chars().collect();
        let n = input.len();
        prop_assert_eq!(output.len(), n, "{:?} → {:?}", phone, masked);
        prop_assert!(
            output.iter().filter(|c| c.is_numeric()).count() <= 7,
            "{:?} → {:?}",
            phone,
            masked
        );
        // Every character is either kept in place or replaced by `*`.
        for i in 0..n {
            prop_assert!(output[i] == input[i] || output[i] == '*', "{:?} → {:?}", phone, masked);
        }
        let visible = (0..n).filter(|&i| output[i] != '*').count();
        prop_assert!(visible <= 7, "{:?} → {:?}", phone, masked);
        if n >= 11 {
            prop_assert_eq!(&output[..3], &input[..3]);
            prop_assert_eq!(&output[n - 4..], &input[n - 4..]);
            prop_assert!(output[3..n - 4].iter().all(|&c| c == '*'), "{:?}", masked);
        } else {
            // Shorter numbers keep less: never more than half of them, rounded up.
            prop_assert!(visible <= n.div_ceil(2), "{:?} → {:?}", phone, masked);
            if n > 0 {
                prop_assert!(masked.contains('*'), "{:?} → {:?}", phone, masked);
            }
        }
    }
}

#[test]
fn a_mainland_number_is_masked_as_documented() {
    assert_eq!(mask_phone("13800138000"), "138****8000");
}
