use serde_json::json;
use wechat_sim::{Limits, SimConfig};

use crate::assert_wire_snapshot;
use crate::helpers::{Wx, errcode, errmsg};

fn token_of(body: &serde_json::Value) -> String {
    body["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no token in {body}"))
        .to_owned()
}

/// Uses a token on an API that needs one and returns the errcode (0 when accepted).
async fn use_token(wx: &Wx, token: &str) -> i64 {
    let body = wx.phone(token, "dev-phone:13800138000").await;
    errcode(&body).expect("getuserphonenumber always has errcode")
}

#[tokio::test]
async fn cgi_bin_token_issues_7200s_tokens_without_errcode() {
    let wx = Wx::start().await;
    let (appid, secret) = (wx.sim.appid().to_owned(), wx.sim.secret().to_owned());
    let raw = wx
        .get(
            "/cgi-bin/token",
            &[
                ("grant_type", "client_credential"),
                ("appid", &appid),
                ("secret", &secret),
            ],
        )
        .await;
    assert_eq!(raw.content_type, "application/json; encoding=utf-8");
    let body = raw.json();
    assert_eq!(body["expires_in"], 7200);
    assert!(body.get("errcode").is_none());
    let token = token_of(&body);
    let (prefix, rest) = token.split_once('_').unwrap();
    assert_eq!(prefix.len(), 2);
    assert!(prefix.chars().all(|c| c.is_ascii_digit()));
    assert!(rest.len() >= 130);
    assert_wire_snapshot!("token_success", body);
}

#[tokio::test]
async fn cgi_bin_token_parameter_errors() {
    let wx = Wx::start().await;
    let (appid, secret) = (wx.sim.appid().to_owned(), wx.sim.secret().to_owned());
    let cases: [(&[(&str, &str)], i64); 5] = [
        (&[("appid", &appid), ("secret", &secret)], 40002),
        (
            &[("grant_type", "client_credential"), ("secret", &secret)],
            41002,
        ),
        (
            &[("grant_type", "client_credential"), ("appid", &appid)],
            41004,
        ),
        (
            &[
                ("grant_type", "client_credential"),
                ("appid", "wx9"),
                ("secret", &secret),
            ],
            40013,
        ),
        (
            &[
                ("grant_type", "client_credential"),
                ("appid", &appid),
                ("secret", "x"),
            ],
            40125,
        ),
    ];
    for (query, expected) in cases {
        let body = wx.get("/cgi-bin/token", query).await.json();
        assert_eq!(errcode(&body), Some(expected), "{query:?}");
    }
}

#[tokio::test]
async fn reissued_token_leaves_the_old_one_five_minutes() {
    let wx = Wx::start().await;
    let old = token_of(&wx.token().await);
    let new = token_of(&wx.token().await);
    assert_ne!(old, new);
    assert_eq!(use_token(&wx, &old).await, 0);
    wx.sim.advance(299).await;
    assert_eq!(use_token(&wx, &old).await, 0);
    wx.sim.advance(1).await;
    let stale = wx.phone(&old, "dev-phone:13800138000").await;
    assert_eq!(errcode(&stale), Some(40001));
    assert_wire_snapshot!("token_40001", stale);
    assert_eq!(use_token(&wx, &new).await, 0);
}

#[tokio::test]
async fn token_expires_after_7200s_with_42001_and_unknown_is_40001() {
    let wx = Wx::start().await;
    let token = token_of(&wx.token().await);
    wx.sim.advance(7199).await;
    assert_eq!(use_token(&wx, &token).await, 0);
    wx.sim.advance(1).await;
    let expired = wx.phone(&token, "dev-phone:13800138000").await;
    assert_eq!(errcode(&expired), Some(42001));
    assert_eq!(errmsg(&expired), "access_token expired");
    assert_eq!(use_token(&wx, "81_not-a-token").await, 40001);
}

#[tokio::test]
async fn stable_token_is_idempotent_and_counts_down() {
    let wx = Wx::start().await;
    let first = wx.stable(false).await;
    assert_eq!(first["expires_in"], 7200);
    assert!(first.get("errcode").is_none());
    assert_wire_snapshot!("stable_token_success", first);
    wx.sim.advance(1000).await;
    let again = wx.stable(false).await;
    assert_eq!(token_of(&again), token_of(&first));
    // Rounded up to whole seconds; a stall of a second between the calls would show as 6199.
    let left = again["expires_in"].as_u64().unwrap();
    assert!((6199..=6200).contains(&left), "{left}");
}

#[tokio::test]
async fn stable_token_renews_in_its_last_five_minutes_keeping_the_old_one() {
    let wx = Wx::start().await;
    let old = token_of(&wx.stable(false).await);
    wx.sim.advance(7200 - 301).await;
    let still = wx.stable(false).await;
    assert_eq!(token_of(&still), old);
    let left = still["expires_in"].as_u64().unwrap();
    assert!((300..=301).contains(&left), "{left}");
    wx.sim.advance(2).await;
    let renewed = wx.stable(false).await;
    assert_ne!(token_of(&renewed), old);
    assert_eq!(renewed["expires_in"], 7200);
    assert_eq!(
        use_token(&wx, &old).await,
        0,
        "old one lives to its own expiry"
    );
    wx.sim.advance(300).await;
    assert_eq!(use_token(&wx, &old).await, 42001);
}

#[tokio::test]
async fn force_refresh_revokes_and_obeys_the_30s_rule() {
    let wx = Wx::start().await;
    let old = token_of(&wx.stable(false).await);
    let forced = token_of(&wx.stable(true).await);
    assert_ne!(forced, old);
    assert_eq!(use_token(&wx, &old).await, 40001);
    assert_eq!(use_token(&wx, &forced).await, 0);
    wx.sim.advance(29).await;
    assert_eq!(
        token_of(&wx.stable(true).await),
        forced,
        "within 30 s: not refreshed"
    );
    wx.sim.advance(1).await;
    assert_ne!(token_of(&wx.stable(true).await), forced);
}

#[tokio::test]
async fn force_refresh_beyond_the_daily_limit_gives_45009() {
    let limits = Limits {
        force_refresh_per_day: 2,
        ..Limits::default()
    };
    let wx = Wx::with(SimConfig::default().with_limits(limits)).await;
    wx.at_quiet_hour().await;
    for _ in 0..2 {
        assert!(wx.stable(true).await.get("access_token").is_some());
        wx.sim.advance(30).await;
    }
    let refused = wx.stable(true).await;
    assert_eq!(errcode(&refused), Some(45009));
    assert_wire_snapshot!("stable_token_45009", refused);
    assert!(
        wx.stable(false).await.get("access_token").is_some(),
        "normal mode still works"
    );
    wx.sim.advance(86_400).await;
    assert!(
        wx.stable(true).await.get("access_token").is_some(),
        "a new day"
    );
}

#[tokio::test]
async fn stable_accepts_force_refresh_as_a_string() {
    let wx = Wx::start().await;
    let old = wx.access_token().await;
    let body = json!({
        "grant_type": "client_credential",
        "appid": wx.sim.appid(),
        "secret": wx.sim.secret(),
        "force_refresh": "true",
    });
    let forced = wx.post("/cgi-bin/stable_token", &[], body).await.json();
    assert_ne!(token_of(&forced), old);
}

#[tokio::test]
async fn normal_and_stable_tokens_are_isolated() {
    let wx = Wx::start().await;
    let stable = wx.access_token().await;
    let normal = token_of(&wx.token().await);
    wx.token().await;
    wx.sim.advance(301).await;
    assert_eq!(
        use_token(&wx, &normal).await,
        40001,
        "superseded by a cgi-bin re-issue"
    );
    assert_eq!(
        use_token(&wx, &stable).await,
        0,
        "cgi-bin/token did not touch it"
    );
    assert_eq!(wx.access_token().await, stable);
    let normal = token_of(&wx.token().await);
    wx.stable(true).await;
    assert_eq!(
        use_token(&wx, &normal).await,
        0,
        "force refresh did not touch it"
    );
}

#[tokio::test]
async fn stable_token_wire_errors() {
    let wx = Wx::start().await;
    let url = wx.url("/cgi-bin/stable_token");
    let get = wx.raw(wx.http.get(&url)).await.json();
    assert_eq!(errcode(&get), Some(43002));
    let empty = wx.raw(wx.http.post(&url)).await.json();
    assert_eq!(errcode(&empty), Some(44002));
    let bad_json = wx.raw(wx.http.post(&url).body("{not json")).await.json();
    assert_eq!(errcode(&bad_json), Some(47001));
    let form = wx
        .raw(
            wx.http
                .post(&url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body("grant_type=client_credential&appid=a&secret=b"),
        )
        .await
        .json();
    assert_eq!(errcode(&form), Some(40002));
    let (appid, secret) = (wx.sim.appid(), wx.sim.secret());
    let cases = [
        (json!({"appid": appid, "secret": secret}), 40002),
        (
            json!({"grant_type": "client_credential", "secret": secret}),
            41002,
        ),
        (
            json!({"grant_type": "client_credential", "appid": appid}),
            41004,
        ),
        (
            json!({"grant_type": "client_credential", "appid": "wx9", "secret": secret}),
            40013,
        ),
        (
            json!({"grant_type": "client_credential", "appid": appid, "secret": "x"}),
            40125,
        ),
    ];
    for (body, expected) in cases {
        let answer = wx
            .post("/cgi-bin/stable_token", &[], body.clone())
            .await
            .json();
        assert_eq!(errcode(&answer), Some(expected), "{body}");
    }
}
