//! `POST /__sim/encrypted-data`: what a backend's decryption code receives, decrypted here the
//! way a backend does it (AES-128-CBC, PKCS#7, key = base64-decoded session_key).

use aes::cipher::{BlockDecryptMut, KeyIvInit, block_padding::Pkcs7};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::Method;
use serde_json::{Value, json};
use wechat_sim::{AppSpec, EncryptedKind, SimConfig};

use crate::helpers::Wx;

type Decryptor = cbc::Decryptor<aes::Aes128>;

fn decrypt(session_key: &str, encrypted: &Value) -> Option<Value> {
    let key = STANDARD.decode(session_key).ok()?;
    let iv = STANDARD.decode(encrypted["iv"].as_str()?).ok()?;
    let data = STANDARD.decode(encrypted["encryptedData"].as_str()?).ok()?;
    let plain = Decryptor::new_from_slices(&key, &iv)
        .ok()?
        .decrypt_padded_vec_mut::<Pkcs7>(&data)
        .ok()?;
    serde_json::from_slice(&plain).ok()
}

async fn login(wx: &Wx, user: &str) -> String {
    let code = wx.sim.login_code(user).await.code;
    wx.code2session(&code).await["session_key"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn phone_data_decrypts_with_the_current_session_key() {
    let wx = Wx::start().await;
    let key = login(&wx, "alice").await;
    let answer = wx
        .control(
            Method::POST,
            "/encrypted-data",
            Some(json!({"user": "alice", "kind": "phone", "phone": "13912345678"})),
        )
        .await;
    assert_eq!(answer.status, 200);
    let encrypted = answer.json();
    assert_eq!(
        STANDARD
            .decode(encrypted["iv"].as_str().unwrap())
            .unwrap()
            .len(),
        16
    );
    let plain = decrypt(&key, &encrypted).expect("decrypts with the session key");
    assert_eq!(plain["phoneNumber"], "13912345678");
    assert_eq!(plain["purePhoneNumber"], "13912345678");
    assert_eq!(plain["countryCode"], "86");
    assert_eq!(plain["watermark"]["appid"], wx.sim.appid());
    assert_eq!(plain["watermark"]["timestamp"], wx.sim.now_ms() / 1000);

    // A new login rotates the key: the old one no longer opens new payloads.
    let new_key = login(&wx, "alice").await;
    let fresh = wx
        .control(
            Method::POST,
            "/encrypted-data",
            Some(json!({"user": "alice", "kind": "phone"})),
        )
        .await
        .json();
    assert!(decrypt(&key, &fresh).is_none_or(|v| v["phoneNumber"].is_null()));
    assert_eq!(
        decrypt(&new_key, &fresh).unwrap()["phoneNumber"],
        "13800138000"
    );
}

#[tokio::test]
async fn userinfo_through_the_library() {
    let config = SimConfig {
        apps: vec![AppSpec::new("wx00000000000000aa", "s3cret").bound_to("open-1")],
        ..SimConfig::default()
    };
    let wx = Wx::with(config).await;
    let key = login(&wx, "bob").await;
    let encrypted = wx.sim.encrypted_data("bob", EncryptedKind::Userinfo).await;
    let encrypted = serde_json::to_value(&encrypted).unwrap();
    let plain = decrypt(&key, &encrypted).unwrap();
    assert_eq!(plain["openId"], wx.sim.openid_for("bob"));
    assert_eq!(plain["nickName"], "bob");
    assert!(plain["unionId"].as_str().unwrap().starts_with('o'));
    assert_eq!(plain["watermark"]["appid"], "wx00000000000000aa");
}

#[tokio::test]
async fn refusals() {
    let wx = Wx::start().await;
    let no_session = wx
        .control(
            Method::POST,
            "/encrypted-data",
            Some(json!({"user": "carol", "kind": "phone"})),
        )
        .await;
    assert_eq!(no_session.status, 400);
    assert!(no_session.text.contains("log in first"));
    login(&wx, "carol").await;
    let bad_kind = wx
        .control(
            Method::POST,
            "/encrypted-data",
            Some(json!({"user": "carol", "kind": "email"})),
        )
        .await;
    assert_eq!(bad_kind.status, 400);
    let bad_app = wx
        .control(
            Method::POST,
            "/encrypted-data",
            Some(json!({"user": "carol", "kind": "phone", "appid": "wxnope"})),
        )
        .await;
    assert_eq!(bad_app.status, 400);
}
