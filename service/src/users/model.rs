//! The user as the domain sees it: a stored record plus its company.

use crate::store::{CompanyRecord, UserRecord};

pub const USERS_TYPE_GUEST: &str = "游客";
pub const USERS_TYPE_REGISTERED: &str = "注册用户";

/// A user with the company their record points at (if any).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub record: UserRecord,
    pub company: Option<CompanyRecord>,
}

/// Name, phone and picture are all filled in.
pub fn is_info_complete(record: &UserRecord) -> bool {
    !record.users_name.is_empty()
        && !record.users_phone.is_empty()
        && !record.users_picture.is_empty()
}

/// `13800138000` → `138****8000`. Keeps at most the first 3 and last 4 digits, and fewer for
/// short numbers (never more than half, rounded up).
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    let n = chars.len();
    if n == 0 {
        return String::new();
    }
    let (head, tail) = match n {
        11.. => (3, 4),
        7..=10 => (2, 2),
        3..=6 => (1, 1),
        _ => (0, 0),
    };
    let hidden = n - head - tail;
    let mut masked = String::with_capacity(n + 4);
    masked.extend(&chars[..head]);
    masked.extend(std::iter::repeat_n('*', hidden));
    masked.extend(&chars[n - tail..]);
    masked
}

/// Now, in PocketBase's datetime format (`2006-01-02 15:04:05.000Z`).
pub fn pocketbase_now() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%d %H:%M:%S%.3fZ")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::mask_phone;

    #[test]
    fn masks_keep_three_and_four_digits_at_most() {
        assert_eq!(mask_phone("13800138000"), "138****8000");
        assert_eq!(mask_phone("+8613800138000"), "+86*******8000");
        assert_eq!(mask_phone("5551234"), "55***34");
        assert_eq!(mask_phone("1234"), "1**4");
        assert_eq!(mask_phone("12"), "**");
        assert_eq!(mask_phone(""), "");
    }
}
