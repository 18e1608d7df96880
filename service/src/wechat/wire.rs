//! WeChat's wire format: JSON whatever the Content-Type says, a missing `errcode` means
//! success, and some numbers arrive as strings (`errcode: "40029"`, `expires_in: "7200"`).

use serde::{Deserialize, Deserializer};

use super::WechatError;

/// Fields every WeChat answer may carry.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Status {
    #[serde(default, deserialize_with = "number_or_string")]
    pub errcode: Option<i64>,
    #[serde(default)]
    pub errmsg: Option<String>,
}

impl Status {
    pub fn into_result(self) -> Result<(), WechatError> {
        match self.errcode {
            None | Some(0) => Ok(()),
            Some(errcode) => Err(WechatError::Rejected {
                errcode,
                errmsg: self.errmsg.unwrap_or_default(),
            }),
        }
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct Code2SessionBody {
    #[serde(flatten)]
    pub status: Status,
    pub openid: Option<String>,
    pub session_key: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct AccessTokenBody {
    #[serde(flatten)]
    pub status: Status,
    pub access_token: Option<String>,
    #[serde(default, deserialize_with = "number_or_string")]
    pub expires_in: Option<i64>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct PhoneNumberBody {
    #[serde(flatten)]
    pub status: Status,
    pub phone_info: Option<PhoneInfoWire>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PhoneInfoWire {
    pub phone_number: Option<String>,
    pub pure_phone_number: Option<String>,
    /// Read only to rebuild an empty `phoneNumber` (outside 86 it carries `+<countryCode>`).
    #[serde(default, deserialize_with = "string_or_number")]
    pub country_code: Option<String>,
}

pub(crate) fn parse<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, WechatError> {
    serde_json::from_slice(bytes).map_err(|e| WechatError::Malformed(format!("invalid JSON: {e}")))
}

fn number_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Number(i64),
        Text(String),
    }
    match Option::<Raw>::deserialize(d)? {
        None => Ok(None),
        Some(Raw::Number(n)) => Ok(Some(n)),
        Some(Raw::Text(s)) => s.trim().parse().map(Some).map_err(serde::de::Error::custom),
    }
}

fn string_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Number(i64),
        Text(String),
    }
    Ok(Option::<Raw>::deserialize(d)?.map(|raw| match raw {
        Raw::Number(n) => n.to_string(),
        Raw::Text(s) => s,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errcode_may_be_a_string() {
        let body: PhoneNumberBody = parse(
            br#"{"errcode":"0","errmsg":"ok","phone_info":{"phoneNumber":"1","purePhoneNumber":"1","countryCode":86}}"#,
        )
        .unwrap();
        assert_eq!(body.status.errcode, Some(0));
        assert_eq!(
            body.phone_info.unwrap().pure_phone_number.as_deref(),
            Some("1")
        );
    }
}
