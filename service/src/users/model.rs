//! The user as the domain sees it, mapped from the store's rows here (the store knows nothing
//! of the domain, so the mapping cannot live there without the two importing each other).

use crate::store::{CompanyRecord, UserRecord};

/// 用户类型: a guest until name, phone and picture are all filled in. The only place the two
/// stored spellings are written; the API's schema and the store both read them from here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsersType {
    Guest,
    Registered,
}

impl UsersType {
    pub const ALL: [UsersType; 2] = [UsersType::Guest, UsersType::Registered];

    pub const fn as_str(self) -> &'static str {
        match self {
            UsersType::Guest => "游客",
            UsersType::Registered => "注册用户",
        }
    }

    pub fn from_stored(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == value)
    }
}

/// A user's own fields. `token_key` signs their tokens: never send it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: String,
    pub users_id: String,
    pub openid: String,
    pub users_type: UsersType,
    pub users_name: String,
    pub users_phone: String,
    pub users_picture: String,
    pub company_id: Option<String>,
    pub token_key: String,
    pub created: String,
    pub updated: String,
    /// PocketBase's auth fields: set only by an import (WeChat users have no email).
    pub email: String,
    pub email_visibility: bool,
    pub verified: bool,
}

impl User {
    /// Name, phone and picture are all filled in.
    pub fn is_info_complete(&self) -> bool {
        !self.users_name.is_empty()
            && !self.users_phone.is_empty()
            && !self.users_picture.is_empty()
    }
}

impl From<UserRecord> for User {
    fn from(r: UserRecord) -> Self {
        Self {
            // Only the registered spelling means registered, as PocketBase's hooks read it.
            users_type: UsersType::from_stored(&r.users_type).unwrap_or(UsersType::Guest),
            id: r.id,
            users_id: r.users_id,
            openid: r.openid,
            users_name: r.users_name,
            users_phone: r.users_phone,
            users_picture: r.users_picture,
            company_id: r.company_id,
            token_key: r.token_key,
            created: r.created,
            updated: r.updated,
            email: r.email,
            email_visibility: r.email_visibility,
            verified: r.verified,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Company {
    pub company_id: String,
    pub company_name: String,
    pub created: String,
    pub updated: String,
}

impl From<CompanyRecord> for Company {
    fn from(c: CompanyRecord) -> Self {
        Self {
            company_id: c.company_id,
            company_name: c.company_name,
            created: c.created,
            updated: c.updated,
        }
    }
}

/// A user with the company their record points at (if any): what the client is shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub user: User,
    pub company: Option<Company>,
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
