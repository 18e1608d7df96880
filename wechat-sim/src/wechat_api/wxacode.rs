//! Mini-program codes: `POST /wxa/getwxacodeunlimit`, `/wxa/getwxacode` and
//! `/cgi-bin/wxaapp/createwxaqrcode`. The answer is a real PNG whose QR payload is a JSON
//! object naming the app, the page or path and the scene, so a test can decode what its
//! backend asked for. Errors are JSON, as at WeChat.

use qrcode::{Color, QrCode};
use serde::Serialize;
use serde_json::Value;

use super::{Call, field};
use crate::wire::{Reply, WxError, WxResult};

const PNG: &str = "image/png";
/// `scene` may hold at most 32 visible characters from this set.
const SCENE_CHARS: &str = "!#$&'()*+,/:;=?@-._~";
const MAX_SCENE: usize = 32;
/// `path` of the limited codes: at most 128 bytes.
const MAX_PATH: usize = 128;

#[derive(Serialize)]
struct Payload<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    appid: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    page: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scene: Option<&'a str>,
    env_version: &'a str,
}

/// The requested width in pixels, clamped to WeChat's 280..=1280 (default 430).
fn width(body: &serde_json::Map<String, Value>) -> u32 {
    body.get("width")
        .and_then(Value::as_u64)
        .map_or(430, |w| w.clamp(280, 1280) as u32)
}

fn env_version(body: &serde_json::Map<String, Value>) -> Result<&str, WxError> {
    match field(body, "env_version").unwrap_or("release") {
        env @ ("release" | "trial" | "develop") => Ok(env),
        _ => Err(WxError(40097)),
    }
}

/// Token, POST and JSON body: what every code call checks first. Returns (appid, body).
fn begin(call: &Call) -> Result<(String, serde_json::Map<String, Value>), WxError> {
    call.require_post()?;
    let token = call.query("access_token").ok_or(WxError(41001))?;
    let appid = call
        .sim
        .state()
        .tokens
        .check(token, call.now_ms)
        .map_err(WxError)?;
    Ok((appid, call.json_body()?))
}

pub fn unlimited(call: &Call) -> WxResult {
    let (appid, body) = begin(call)?;
    let scene = field(&body, "scene").ok_or(WxError(40169))?;
    let scene_ok = scene.chars().count() <= MAX_SCENE
        && scene
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || SCENE_CHARS.contains(c));
    if !scene_ok {
        return Err(WxError(40169));
    }
    // The page of a published mini-program: no leading slash, no query string.
    let page = field(&body, "page");
    if page.is_some_and(|p| p.starts_with('/') || p.contains('?') || p.len() > MAX_PATH) {
        return Err(WxError(41030));
    }
    let payload = Payload {
        kind: "wxacodeunlimit",
        appid: &appid,
        page,
        path: None,
        scene: Some(scene),
        env_version: env_version(&body)?,
    };
    render(&payload, width(&body))
}

fn limited(call: &Call, kind: &'static str) -> WxResult {
    let (appid, body) = begin(call)?;
    let path = field(&body, "path").ok_or(WxError(40159))?;
    if path.len() > MAX_PATH {
        return Err(WxError(40159));
    }
    let payload = Payload {
        kind,
        appid: &appid,
        page: None,
        path: Some(path),
        scene: None,
        env_version: env_version(&body)?,
    };
    render(&payload, width(&body))
}

pub fn wxacode(call: &Call) -> WxResult {
    limited(call, "wxacode")
}

pub fn qrcode(call: &Call) -> WxResult {
    limited(call, "wxaqrcode")
}

/// The payload as a black-on-white QR code with a 4-module quiet zone, about `width` pixels
/// wide, as an 8-bit greyscale PNG.
fn render(payload: &Payload, width: u32) -> WxResult {
    let text = serde_json::to_string(payload).map_err(|_| WxError(-1))?;
    let code = QrCode::new(text.as_bytes()).map_err(|_| WxError(-1))?;
    let modules = code.width() as u32;
    let colors = code.to_colors();
    let quiet = 4;
    let scale = (width / (modules + 2 * quiet)).max(1);
    let side = (modules + 2 * quiet) * scale;
    let mut pixels = vec![255u8; (side * side) as usize];
    for (i, color) in colors.iter().enumerate() {
        if *color != Color::Dark {
            continue;
        }
        let (mx, my) = (i as u32 % modules, i as u32 / modules);
        for dy in 0..scale {
            let y = (my + quiet) * scale + dy;
            let row = (y * side) as usize;
            let x0 = ((mx + quiet) * scale) as usize;
            pixels[row + x0..row + x0 + scale as usize].fill(0);
        }
    }
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, side, side);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(|_| WxError(-1))?;
        writer.write_image_data(&pixels).map_err(|_| WxError(-1))?;
    }
    Ok(Reply::binary(out, PNG))
}
