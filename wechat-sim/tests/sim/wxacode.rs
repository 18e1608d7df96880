//! Mini-program codes: real PNGs whose QR payload is decoded here, and each errcode.

use std::io::Cursor;

use serde_json::{Value, json};
use wechat_sim::Fault;

use crate::helpers::{Wx, errcode};

struct Image {
    status: u16,
    content_type: String,
    bytes: Vec<u8>,
}

async fn call(wx: &Wx, path: &str, token: &str, body: Value) -> Image {
    let response = wx
        .http
        .post(format!("{}{path}", wx.sim.base_url()))
        .query(&[("access_token", token)])
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    Image {
        status,
        content_type,
        bytes: response.bytes().await.unwrap().to_vec(),
    }
}

/// PNG → greyscale → the QR code's text, decoded as JSON.
fn decode(png_bytes: &[u8]) -> Value {
    let decoder = png::Decoder::new(Cursor::new(png_bytes));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Grayscale);
    let (w, h) = (info.width as usize, info.height as usize);
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| buf[y * w + x]);
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code");
    let (_, text) = grids[0].decode().expect("a readable QR code");
    serde_json::from_str(&text).expect("the payload is JSON")
}

fn json_of(image: &Image) -> Value {
    serde_json::from_slice(&image.bytes).expect("a JSON error")
}

#[tokio::test]
async fn unlimited_code_encodes_scene_and_page() {
    let wx = Wx::start().await;
    let token = wx.access_token().await;
    let body = json!({"scene": "id=42&from=share", "page": "pages/item/index", "width": 430, "env_version": "trial"});
    let image = call(&wx, "/wxa/getwxacodeunlimit", &token, body).await;
    assert_eq!(image.status, 200);
    assert_eq!(image.content_type, "image/png");
    assert!(image.bytes.starts_with(b"\x89PNG\r\n\x1a\n"));
    let payload = decode(&image.bytes);
    assert_eq!(
        payload,
        json!({"type": "wxacodeunlimit", "appid": wx.sim.appid(), "page": "pages/item/index",
               "scene": "id=42&from=share", "env_version": "trial"})
    );
    let journal = wx.sim.requests_to("/wxa/getwxacodeunlimit").await;
    assert_eq!(journal[0].status, 200);
}

#[tokio::test]
async fn limited_codes_encode_the_path() {
    let wx = Wx::start().await;
    let token = wx.access_token().await;
    for (path, kind) in [
        ("/wxa/getwxacode", "wxacode"),
        ("/cgi-bin/wxaapp/createwxaqrcode", "wxaqrcode"),
    ] {
        let image = call(&wx, path, &token, json!({"path": "pages/index?id=7"})).await;
        assert_eq!(image.content_type, "image/png", "{path}");
        let payload = decode(&image.bytes);
        assert_eq!(payload["type"], kind);
        assert_eq!(payload["path"], "pages/index?id=7");
        assert_eq!(payload["env_version"], "release");
    }
}

#[tokio::test]
async fn each_errcode() {
    let wx = Wx::start().await;
    let token = wx.access_token().await;
    let cases = [
        (
            "/wxa/getwxacodeunlimit",
            json!({"page": "pages/index"}),
            40169,
        ),
        (
            "/wxa/getwxacodeunlimit",
            json!({"scene": "x".repeat(33)}),
            40169,
        ),
        ("/wxa/getwxacodeunlimit", json!({"scene": "中文"}), 40169),
        (
            "/wxa/getwxacodeunlimit",
            json!({"scene": "a", "page": "/pages/index"}),
            41030,
        ),
        (
            "/wxa/getwxacodeunlimit",
            json!({"scene": "a", "page": "pages/index?x=1"}),
            41030,
        ),
        (
            "/wxa/getwxacodeunlimit",
            json!({"scene": "a", "env_version": "beta"}),
            40097,
        ),
        ("/wxa/getwxacode", json!({}), 40159),
        ("/wxa/getwxacode", json!({"path": "p".repeat(129)}), 40159),
        (
            "/cgi-bin/wxaapp/createwxaqrcode",
            json!({"width": 300}),
            40159,
        ),
    ];
    for (path, body, expected) in cases {
        let image = call(&wx, path, &token, body.clone()).await;
        assert!(
            image.content_type.starts_with("application/json"),
            "{path} {body}"
        );
        assert_eq!(errcode(&json_of(&image)), Some(expected), "{path} {body}");
    }
    let bad = call(
        &wx,
        "/wxa/getwxacodeunlimit",
        "81_nope",
        json!({"scene": "a"}),
    )
    .await;
    assert_eq!(errcode(&json_of(&bad)), Some(40001));
    let get = wx
        .get("/wxa/getwxacode", &[("access_token", &token)])
        .await
        .json();
    assert_eq!(errcode(&get), Some(43002));
}

#[tokio::test]
async fn faults_apply_to_images() {
    let wx = Wx::start().await;
    let token = wx.access_token().await;
    wx.sim
        .inject(Fault::errcode("/wxa/getwxacodeunlimit", 45009))
        .await;
    let failed = call(&wx, "/wxa/getwxacodeunlimit", &token, json!({"scene": "a"})).await;
    assert_eq!(errcode(&json_of(&failed)), Some(45009));
    wx.sim
        .inject(Fault::truncated("/wxa/getwxacodeunlimit"))
        .await;
    let cut = call(&wx, "/wxa/getwxacodeunlimit", &token, json!({"scene": "a"})).await;
    let whole = call(&wx, "/wxa/getwxacodeunlimit", &token, json!({"scene": "a"})).await;
    assert_eq!(cut.bytes.len(), whole.bytes.len() / 2);
}
