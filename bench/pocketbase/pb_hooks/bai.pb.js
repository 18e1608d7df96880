/// <reference path="../pb_data/types.d.ts" />
// A minimal re-creation of the original bai_api_pb_hooks routes for PocketBase 0.40 (JSVM),
// used only to benchmark the original's architecture against bai-service (docs/pocketbase-baseline.md).
// Routes and response shapes follow spec/seed-openapi.yaml; helpers are in bai_utils.js, the
// WeChat calls in bai_wechat.js.
// Configuration: WECHAT_BASE, WECHAT_APPID, WECHAT_SECRET, GUARD_TTL_MS (environment).

routerAdd("POST", "/api/system/test-helloworld", (e) => {
  return e.json(200, {
    code: 200,
    msg: "操作成功",
    data: { message: "Hello, World!", timestamp: new Date().toISOString(), status: "success", build_time: null },
  })
})

// Health: one database round trip.
routerAdd("POST", "/api/system/health", (e) => {
  const u = require(`${__hooks}/bai_utils.js`)
  try {
    const row = new DynamicModel({ ok: 0 })
    $app.db().newQuery("SELECT 1 AS ok").one(row)
    if (row.ok !== 1) throw new Error("unexpected answer")
  } catch (err) {
    return e.json(503, { code: 503, msg: "服务不可用", data: { status: "unhealthy", timestamp: u.nowIso() } })
  }
  return e.json(200, { code: 200, msg: "操作成功", data: { status: "healthy", timestamp: u.nowIso() } })
})

// Login/register in one: code2session at WeChat, find or create the user by openid, PocketBase's
// own auth response with the contract's meta.
routerAdd("POST", "/api/wechat/login", (e) => {
  const u = require(`${__hooks}/bai_utils.js`)
  const request = u.jsonBody(e)
  if (request.failed) return request.failed
  const body = request.body
  const code = typeof body.users_wx_code === "string" ? body.users_wx_code.trim() : ""
  if (!code) {
    return u.fail(e, 400, "参数错误：users_wx_code 不能为空", { field: "users_wx_code", reason: "required" })
  }
  if (code.length > 128) {
    return u.fail(e, 400, "参数错误：users_wx_code 过长", { field: "users_wx_code", reason: "too_long" })
  }

  const claim = u.claimCode(code)
  if (claim.held) {
    e.response.header().set("Retry-After", "10")
    return u.fail(e, 429, "重复请求过于频繁")
  }

  const wx = require(`${__hooks}/bai_wechat.js`).code2session(code)
  if (!wx.openid) {
    // Transient upstream failures release the claim so that the user may retry.
    if (wx.status >= 500 || wx.status === 429) $app.store().remove(claim.key)
    if (wx.status === 429) e.response.header().set("Retry-After", "60")
    if (wx.status === 503) e.response.header().set("Retry-After", "1")
    return u.fail(e, wx.status, wx.msg, wx.errcode ? { errcode: wx.errcode } : {})
  }

  const found = u.findOrCreateUser(wx.openid)
  return found.created
    ? u.authResponse(e, found.record, "register_success", "注册成功")
    : u.authResponse(e, found.record, "login_success", "登录成功")
})

// Profile: name, picture and the phone number WeChat gives for users_phone_code (bound to the
// bearer's openid), saved on the auth record PocketBase loaded from the token. Nothing is saved
// unless every check and the WeChat call succeeded.
routerAdd("POST", "/api/wechat/profile", (e) => {
  const u = require(`${__hooks}/bai_utils.js`)
  if (!e.auth || !e.auth.getString("openid")) {
    return u.fail(e, 401, "token 无效或已过期")
  }
  const request = u.jsonBody(e)
  if (request.failed) return request.failed
  const body = request.body
  const fields = [
    u.cleanField("users_name", body.users_name, 32),
    u.cleanField("users_picture", body.users_picture, 512, { url: true, noSpace: true }),
    u.cleanField("users_phone_code", body.users_phone_code, 128, { noSpace: true }),
  ]
  const bad = fields.find((f) => f.error)
  if (bad) return u.fail(e, 400, "参数错误：" + bad.error.field + " " + bad.error.reason, bad.error)
  const [name, picture, phoneCode] = fields.map((f) => f.value)

  const phone = require(`${__hooks}/bai_wechat.js`).phoneNumber(phoneCode, e.auth.getString("openid"))
  if (!phone.phone) {
    if (phone.status === 429) e.response.header().set("Retry-After", "60")
    if (phone.status === 503) e.response.header().set("Retry-After", "1")
    const data = {}
    if (phone.field) data.field = phone.field
    if (phone.errcode) data.errcode = phone.errcode
    return u.fail(e, phone.status, phone.msg, data)
  }

  const record = e.auth
  record.set("users_name", name)
  record.set("users_phone", phone.phone)
  record.set("users_picture", picture)
  record.set("users_type", u.isInfoComplete(record) ? u.REGISTERED : u.GUEST)
  $app.save(record)
  return e.json(200, {
    code: 200,
    msg: "更新成功",
    data: { status: "update_success", user: u.userInfo(record) },
  })
}, $apis.requireAuth("tbl_auth_users"))

// A fresh token for the bearer's user (PocketBase verifies the token and loads the record).
routerAdd("POST", "/api/wechat/refresh-token", (e) => {
  const u = require(`${__hooks}/bai_utils.js`)
  if (!e.auth || !e.auth.getString("openid")) {
    return u.fail(e, 401, "token 无效或已过期")
  }
  return u.authResponse(e, e.auth, "login_success", "刷新成功")
}, $apis.requireAuth("tbl_auth_users"))
