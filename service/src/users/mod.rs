//! The users domain: who a WeChat user is here, and the login, profile and refresh flows.

mod error;
pub mod fields;
mod flows;
mod ids;
mod model;
mod sanitize;

pub use error::{StorageFault, UserError, WechatStep};
pub use flows::{AuthOutcome, Authenticated, LoginStatus, ProfileInput, Users};
pub use ids::{NewIds, RandomIds, new_record_id, new_token_key, new_users_id};
pub use model::{Account, Company, User, UsersType, mask_phone, pocketbase_now};
pub use sanitize::{FieldError, STRIPPED, sanitize_code, sanitize_name, sanitize_picture_url};
