//! The contract's input fields: each name and length limit defined once, for the API's schema,
//! its 400s and the sanitiser.

pub const USERS_WX_CODE: &str = "users_wx_code";
pub const USERS_PHONE_CODE: &str = "users_phone_code";
pub const USERS_NAME: &str = "users_name";
pub const USERS_PICTURE: &str = "users_picture";

pub const MAX_NAME_CHARS: usize = 32;
pub const MAX_PICTURE_URL_CHARS: usize = 512;
pub const MAX_CODE_CHARS: usize = 128;
