use wechat_sim::session_signature;

use crate::assert_wire_snapshot;
use crate::helpers::{Wx, errcode, errmsg};

async fn login(wx: &Wx, user: &str) -> (String, String) {
    let body = wx.code2session(&wx.sim.login_code(user).await.code).await;
    (
        body["openid"].as_str().unwrap().to_owned(),
        body["session_key"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn checksession_accepts_the_hmac_of_the_current_key() {
    let wx = Wx::start().await;
    let token = wx.access_token().await;
    let (openid, key) = login(&wx, "alice").await;
    let ok = wx
        .checksession(&token, &openid, &session_signature(&key))
        .await;
    assert_eq!(ok, serde_json::json!({"errcode": 0, "errmsg": "ok"}));

    let bad = wx
        .checksession(&token, &openid, &session_signature("other"))
        .await;
    assert_eq!(errcode(&bad), Some(87009));
    assert_eq!(errmsg(&bad), "invalid signature");
    assert_wire_snapshot!("checksession_87009", bad);
}

#[tokio::test]
async fn a_new_login_invalidates_the_old_key() {
    let wx = Wx::start().await;
    let token = wx.access_token().await;
    let (openid, old_key) = login(&wx, "alice").await;
    let (_, new_key) = login(&wx, "alice").await;
    let old = wx
        .checksession(&token, &openid, &session_signature(&old_key))
        .await;
    assert_eq!(errcode(&old), Some(87009));
    let new = wx
        .checksession(&token, &openid, &session_signature(&new_key))
        .await;
    assert_eq!(errcode(&new), Some(0));
}

#[tokio::test]
async fn checksession_parameter_errors() {
    let wx = Wx::start().await;
    let token = wx.access_token().await;
    let (openid, key) = login(&wx, "alice").await;
    let sig = session_signature(&key);
    let no_token = wx
        .get(
            "/wxa/checksession",
            &[
                ("openid", &openid),
                ("signature", &sig),
                ("sig_method", "hmac_sha256"),
            ],
        )
        .await
        .json();
    assert_eq!(errcode(&no_token), Some(41001));
    let md5 = wx
        .get(
            "/wxa/checksession",
            &[
                ("access_token", &token),
                ("openid", &openid),
                ("signature", &sig),
                ("sig_method", "md5"),
            ],
        )
        .await
        .json();
    assert_eq!(errcode(&md5), Some(87008));
    let stranger = wx
        .checksession(&token, &wx.sim.openid_for("nobody"), &sig)
        .await;
    assert_eq!(errcode(&stranger), Some(40003));
    // Minting a code makes the user known, but only code2session creates a session.
    let idle = wx.sim.login_code("idle").await.openid;
    assert_eq!(
        errcode(&wx.checksession(&token, &idle, &sig).await),
        Some(87007)
    );
}

#[tokio::test]
async fn resetusersessionkey_rotates_the_key() {
    let wx = Wx::start().await;
    let token = wx.access_token().await;
    let (openid, key) = login(&wx, "alice").await;
    let reset = wx
        .session_call(
            "/wxa/resetusersessionkey",
            &token,
            &openid,
            &session_signature(&key),
        )
        .await;
    assert_eq!(reset["errcode"], 0);
    assert_eq!(reset["openid"], openid.as_str());
    assert_wire_snapshot!("resetusersessionkey_success", reset);
    let new_key = reset["session_key"].as_str().unwrap();
    assert_ne!(new_key, key);
    let old = wx
        .checksession(&token, &openid, &session_signature(&key))
        .await;
    assert_eq!(errcode(&old), Some(87009));
    let new = wx
        .checksession(&token, &openid, &session_signature(new_key))
        .await;
    assert_eq!(errcode(&new), Some(0));
    let again = wx
        .session_call(
            "/wxa/resetusersessionkey",
            &token,
            &openid,
            &session_signature(&key),
        )
        .await;
    assert_eq!(
        errcode(&again),
        Some(87009),
        "reset needs the current key's signature"
    );
}
