// Helpers shared by the routes in bai.pb.js. PocketBase runs each route handler in its own
// scope (handlers cannot see top-level declarations of the .pb.js file), so the handlers
// `require()` this module; the JSVM caches it per pooled runtime.

const USERS = "tbl_auth_users"
const GUEST = "游客"
const REGISTERED = "注册用户"

// The contract's error envelope: {code, msg, data} with code = the HTTP status.
function fail(e, status, msg, data) {
  return e.json(status, { code: status, msg: msg, data: data || {} })
}

// The request's JSON body as `{body}`, or `{failed}`: the 415 or 400 answer to return instead.
function jsonBody(e) {
  const ctype = (e.request.header.get("Content-Type") || "").toLowerCase()
  if (!ctype.startsWith("application/json")) {
    return { failed: fail(e, 415, "请求体必须为 application/json") }
  }
  try {
    return { body: e.requestInfo().body }
  } catch (_) {
    return { failed: fail(e, 400, "参数错误：请求体不是合法的 JSON") }
  }
}

function nowIso() {
  return new Date().toISOString()
}

function maskPhone(phone) {
  const s = String(phone || "")
  if (s.length >= 7) return s.slice(0, 3) + "*".repeat(s.length - 7) + s.slice(-4)
  if (s.length > 2) return s.slice(0, 1) + "*".repeat(s.length - 2) + s.slice(-1)
  return s ? "*".repeat(s.length) : ""
}

function isInfoComplete(record) {
  return !!(record.getString("users_name") && record.getString("users_phone") &&
    record.getString("users_picture"))
}

// `tbl_company` row of the user as a plain object, or null.
function findCompany(companyId) {
  if (!companyId) return null
  try {
    const c = $app.findFirstRecordByData("tbl_company", "company_id", companyId)
    return {
      company_id: c.getString("company_id"),
      company_name: c.getString("company_name"),
      created: c.getString("created"),
      updated: c.getString("updated"),
    }
  } catch (_) {
    return null
  }
}

// The contract's UserInfo.
function userInfo(record) {
  const companyId = record.getString("company_id")
  return {
    pb_id: record.id,
    users_id: record.getString("users_id"),
    users_type: record.getString("users_type"),
    users_name: record.getString("users_name"),
    users_phone: record.getString("users_phone"),
    users_phone_masked: maskPhone(record.getString("users_phone")),
    users_picture: record.getString("users_picture"),
    openid: record.getString("openid"),
    company_id: companyId,
    company: findCompany(companyId),
    created: record.getString("created"),
    updated: record.getString("updated"),
  }
}

// `{token, record, meta}` through PocketBase's own auth response (it signs the token with the
// record's tokenKey + the collection secret). authMethod "" = no MFA check and no login alert.
function authResponse(e, record, status, msg) {
  return $apis.recordAuthResponse(e, record, "", {
    code: 200,
    msg: msg,
    data: { status: status, is_info_complete: isInfoComplete(record), user: userInfo(record) },
  })
}

// `U` + YYMMDD + 8 characters of Crockford-ish base32, like the Rust service's users_id.
function newUsersId() {
  const d = new Date()
  const pad = (n) => (n < 10 ? "0" : "") + n
  const day = String(d.getUTCFullYear()).slice(2) + pad(d.getUTCMonth() + 1) + pad(d.getUTCDate())
  return "U" + day + $security.randomStringWithAlphabet(8, "0123456789ABCDEFGHJKMNPQRSTVWXYZ")
}

// The 429 guard for a double-tapped login button: the first request for a code claims it for
// GUARD_TTL_MS (default 10 s) in PocketBase's in-memory app store.
function claimCode(code) {
  const ttl = parseInt($os.getenv("GUARD_TTL_MS") || "10000", 10)
  const key = "wxcode:" + $security.sha256(code)
  const now = Date.now()
  let held = false
  $app.store().setFunc(key, (old) => {
    if (old && old > now) {
      held = true
      return old
    }
    return now + ttl
  })
  return { held: held, key: key }
}

// Input hygiene of the profile's fields, a short version of bai-service's sanitiser: control
// and zero-width characters dropped, NFC, trimmed, then required and a maximum length in
// characters. Returns {value} or {error: {field, reason}}.
const STRIPPED = /[\u0000-\u001F\u007F-\u009F\u00AD\u061C\u115F\u1160\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u206F\u2800\u3164\uFEFF\uFFA0\uFFF9-\uFFFB]/g

function cleanField(field, input, max, opts) {
  const s = (typeof input === "string" ? input : "").replace(STRIPPED, "").normalize("NFC").trim()
  if (!s) return { error: { field: field, reason: "不能为空" } }
  if (Array.from(s).length > max) return { error: { field: field, reason: "长度不能超过 " + max + " 个字符" } }
  if (opts && opts.noSpace && /\s/.test(s)) return { error: { field: field, reason: "不能包含空白字符" } }
  if (opts && opts.url && !/^https?:\/\/[^\/?#:@\s]+/i.test(s)) {
    return { error: { field: field, reason: "必须是 http 或 https 地址" } }
  }
  return { value: s }
}

// Finds the user by openid or creates a guest. Returns {record, created}.
function findOrCreateUser(openid) {
  try {
    return { record: $app.findFirstRecordByData(USERS, "openid", openid), created: false }
  } catch (_) {
    // not found: create below
  }
  const record = new Record($app.findCollectionByNameOrId(USERS))
  record.set("openid", openid)
  record.set("users_id", newUsersId())
  record.set("users_type", GUEST)
  // Auth records need a password; these users never use one.
  record.setRandomPassword()
  try {
    $app.save(record)
    return { record: record, created: true }
  } catch (err) {
    // A concurrent first login of the same openid won the unique index: this is a login.
    try {
      return { record: $app.findFirstRecordByData(USERS, "openid", openid), created: false }
    } catch (_) {
      throw err
    }
  }
}

module.exports = {
  USERS, GUEST, REGISTERED, fail, jsonBody, nowIso, isInfoComplete, userInfo, authResponse, claimCode,
  cleanField, findOrCreateUser,
}
