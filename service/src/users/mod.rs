//! The users domain: who a WeChat user is here, and the login, profile and refresh flows.

mod error;
mod flows;
mod ids;
mod model;
mod sanitize;

pub use error::{UserError, WechatStep};
pub use flows::{
    AuthOutcome, Authenticated, LoginStatus, ProfileInput, authenticate, delete_user, login,
    refresh, rotate_token_key, update_profile,
};
pub use ids::{NewIds, RandomIds, new_record_id, new_token_key, new_users_id};
pub use model::{
    USERS_TYPE_GUEST, USERS_TYPE_REGISTERED, User, is_info_complete, mask_phone, pocketbase_now,
};
pub use sanitize::{FieldError, sanitize_code, sanitize_name, sanitize_picture_url};
