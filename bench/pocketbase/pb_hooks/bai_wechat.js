// The WeChat calls of the re-created hooks (bai.pb.js): code2session for login, the stable access
// token and getuserphonenumber for the profile. Each returns a plain object, never throws:
// {openid} / {phone} on success, {status, msg, errcode?} for the route to answer.

// Our answer for a WeChat errcode at `step` ("login" or "phone"), as bai-service maps it.
function wxFailure(errcode, step) {
  switch (errcode) {
    case 40029:
    case 40163:
      return step === "phone"
        ? { status: 400, msg: "手机号授权凭证无效或已使用", errcode: errcode, field: "users_phone_code" }
        : { status: 400, msg: "微信登录凭证无效或已使用", errcode: errcode }
    case 40226:
      return { status: 403, msg: "微信判定该用户存在风险，已拒绝登录", errcode: errcode }
    case 45011:
      return { status: 429, msg: "微信接口调用过于频繁，请稍后再试", errcode: errcode }
    case -1:
      return { status: 503, msg: "微信服务繁忙，请稍后再试", errcode: errcode }
    default:
      return { status: 502, msg: "微信服务异常，请稍后再试", errcode: errcode }
  }
}

function base() {
  return $os.getenv("WECHAT_BASE") || "https://api.weixin.qq.com"
}

// One HTTP call; the answer's JSON body (jscode2session answers text/plain, so it is parsed
// here for every call) or a failure object.
function call(req) {
  let res
  try {
    res = $http.send(Object.assign({ timeout: 5 }, req))
  } catch (err) {
    return /timeout|deadline/i.test(String(err))
      ? { failure: { status: 504, msg: "微信服务响应超时，请稍后再试" } }
      : { failure: { status: 502, msg: "微信服务异常，请稍后再试" } }
  }
  if (res.statusCode !== 200) return { failure: { status: 502, msg: "微信服务异常，请稍后再试" } }
  try {
    return { body: JSON.parse(toString(res.body)) }
  } catch (_) {
    return { failure: { status: 502, msg: "微信服务异常，请稍后再试" } }
  }
}

// code2session. Returns {openid} or a failure.
function code2session(code) {
  const url = base() + "/sns/jscode2session?appid=" + encodeURIComponent($os.getenv("WECHAT_APPID")) +
    "&secret=" + encodeURIComponent($os.getenv("WECHAT_SECRET")) +
    "&js_code=" + encodeURIComponent(code) + "&grant_type=authorization_code"
  const r = call({ url: url, method: "GET" })
  if (r.failure) return r.failure
  const errcode = r.body.errcode || 0
  if (errcode === 0 && r.body.openid) return { openid: r.body.openid }
  return wxFailure(errcode, "login")
}

// The stable access token, cached in PocketBase's app store (shared by every pooled JS runtime)
// as "token|renewAtMs", renewed 5 minutes before it expires, like bai-service's cache.
const TOKEN_KEY = "wx:access_token"
const RENEW_BEFORE_MS = 300 * 1000

function accessToken(stale) {
  const cached = $app.store().get(TOKEN_KEY)
  if (cached) {
    const sep = cached.lastIndexOf("|")
    const value = cached.slice(0, sep)
    if (Date.now() < parseInt(cached.slice(sep + 1), 10) && value !== stale) return { token: value }
  }
  const fetch = (force) => call({
    url: base() + "/cgi-bin/stable_token",
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      grant_type: "client_credential",
      appid: $os.getenv("WECHAT_APPID"),
      secret: $os.getenv("WECHAT_SECRET"),
      force_refresh: force,
    }),
  })
  let r = fetch(false)
  if (!r.failure && stale && r.body.access_token === stale) r = fetch(true)
  if (r.failure) return r.failure
  if (r.body.errcode || !r.body.access_token) return wxFailure(r.body.errcode || 0, "token")
  const expiresMs = (r.body.expires_in || 7200) * 1000
  $app.store().set(TOKEN_KEY, r.body.access_token + "|" + (Date.now() + expiresMs - RENEW_BEFORE_MS))
  return { token: r.body.access_token }
}

function phoneCall(token, code, openid) {
  return call({
    url: base() + "/wxa/business/getuserphonenumber?access_token=" + encodeURIComponent(token),
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ code: code, openid: openid }),
  })
}

// getuserphonenumber for `openid`'s phone code. A stale access token (40001, 40014, 42001) is
// replaced and the call retried once. Returns {phone} or a failure.
function phoneNumber(code, openid) {
  let t = accessToken("")
  if (!t.token) return t
  let r = phoneCall(t.token, code, openid)
  if (!r.failure && [40001, 40014, 42001].indexOf(r.body.errcode) >= 0) {
    t = accessToken(t.token)
    if (!t.token) return t
    r = phoneCall(t.token, code, openid)
  }
  if (r.failure) return r.failure
  if (r.body.errcode) return wxFailure(r.body.errcode, "phone")
  const info = r.body.phone_info || {}
  const pure = info.purePhoneNumber || ""
  if (!pure) return { status: 502, msg: "微信服务异常，请稍后再试" }
  const cc = info.countryCode || "86"
  return { phone: info.phoneNumber || (cc === "86" ? pure : "+" + cc + pure) }
}

module.exports = { code2session, phoneNumber }
