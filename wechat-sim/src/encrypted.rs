//! `encryptedData` and `iv` as `wx.getUserProfile`/`getUserInfo` and the old phone button hand
//! them to the mini-program: JSON with a watermark, AES-128-CBC with PKCS#7 padding, the key
//! being the user's current session_key, everything base64.

use aes::cipher::{BlockEncryptMut, KeyIvInit, block_padding::Pkcs7};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use poem_openapi::{Enum, Object};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::sim::{ControlError, Sim};

type Encryptor = cbc::Encryptor<aes::Aes128>;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Enum)]
#[serde(rename_all = "lowercase")]
#[oai(rename_all = "lowercase")]
pub enum EncryptedKind {
    /// `{phoneNumber, purePhoneNumber, countryCode, watermark}`.
    Phone,
    /// `{openId, nickName, gender, language, city, province, country, avatarUrl, unionId?, watermark}`.
    Userinfo,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Object)]
pub struct EncryptedData {
    #[serde(rename = "encryptedData")]
    #[oai(rename = "encryptedData")]
    pub encrypted_data: String,
    pub iv: String,
}

pub fn encrypt(key: &[u8; 16], iv: &[u8; 16], plaintext: &[u8]) -> Vec<u8> {
    Encryptor::new(key.into(), iv.into()).encrypt_padded_vec_mut::<Pkcs7>(plaintext)
}

impl Sim {
    /// The encrypted payload `user` would get now in `appid` (default: the first app).
    pub fn encrypted_data(
        &self,
        user: &str,
        kind: EncryptedKind,
        appid: Option<&str>,
        phone: Option<&str>,
    ) -> Result<EncryptedData, ControlError> {
        let now_s = self.clock.now_ms() / 1000;
        let mut state = self.state();
        let appid = match appid {
            Some(appid) if state.directory.app(appid).is_none() => {
                return Err(ControlError::UnknownApp(appid.to_owned()));
            }
            Some(appid) => appid.to_owned(),
            None => state.directory.first_appid(),
        };
        let session_key = state
            .directory
            .session(&appid, user)
            .ok_or_else(|| ControlError::NoSession(user.to_owned()))?
            .to_owned();
        let key: [u8; 16] = STANDARD
            .decode(&session_key)
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or_else(|| ControlError::NoSession(user.to_owned()))?;
        let watermark = json!({"timestamp": now_s, "appid": appid});
        let plaintext = match kind {
            EncryptedKind::Phone => {
                let phone = phone
                    .map(str::to_owned)
                    .or_else(|| state.directory.user(user).phone)
                    .unwrap_or_else(|| "13800138000".to_owned());
                json!({"phoneNumber": phone, "purePhoneNumber": phone, "countryCode": "86",
                       "watermark": watermark})
            }
            EncryptedKind::Userinfo => {
                let (openid, unionid) = state.directory.identity(&appid, user);
                let mut info = json!({"openId": openid, "nickName": user, "gender": 0,
                    "language": "zh_CN", "city": "", "province": "", "country": "",
                    "avatarUrl": "https://thirdwx.qlogo.cn/mmopen/vi_32/sim/132",
                    "watermark": watermark});
                if let Some(unionid) = unionid {
                    info["unionId"] = json!(unionid);
                }
                info
            }
        };
        let mut iv = [0u8; 16];
        rand::rng().fill_bytes(&mut iv);
        let ciphertext = encrypt(&key, &iv, plaintext.to_string().as_bytes());
        Ok(EncryptedData {
            encrypted_data: STANDARD.encode(ciphertext),
            iv: STANDARD.encode(iv),
        })
    }
}
