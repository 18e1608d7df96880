/// <reference path="../pb_data/types.d.ts" />
// The original's two collections, as design.md §3 describes them: `tbl_company` (base) and the
// auth collection `tbl_auth_users` that the WeChat hooks log users into. Only what the hooks
// read and write; password/email auth stay off (users only ever log in through WeChat).
migrate((app) => {
  const company = new Collection({
    type: "base",
    name: "tbl_company",
    fields: [
      { name: "company_id", type: "text", required: true, max: 64 },
      { name: "company_name", type: "text", max: 128 },
      { name: "created", type: "autodate", onCreate: true },
      { name: "updated", type: "autodate", onCreate: true, onUpdate: true },
    ],
    indexes: ["CREATE UNIQUE INDEX idx_tbl_company_company_id ON tbl_company (company_id)"],
  })
  app.save(company)

  const users = new Collection({
    type: "auth",
    name: "tbl_auth_users",
    fields: [
      { name: "users_id", type: "text", required: true, max: 32 },
      { name: "openid", type: "text", required: true, max: 64 },
      { name: "users_type", type: "text", required: true, max: 16 },
      { name: "users_name", type: "text", max: 32 },
      { name: "users_phone", type: "text", max: 32 },
      { name: "users_picture", type: "text", max: 512 },
      { name: "company_id", type: "text", max: 64 },
      { name: "created", type: "autodate", onCreate: true },
      { name: "updated", type: "autodate", onCreate: true, onUpdate: true },
    ],
    indexes: [
      "CREATE UNIQUE INDEX idx_tbl_auth_users_openid ON tbl_auth_users (openid)",
      "CREATE UNIQUE INDEX idx_tbl_auth_users_users_id ON tbl_auth_users (users_id)",
      "CREATE INDEX idx_tbl_auth_users_company_id ON tbl_auth_users (company_id)",
    ],
    passwordAuth: { enabled: false },
    // Login alerts need an e-mail address; these users have none.
    authAlert: { enabled: false },
  })
  app.save(users)
  // The system fields exist once saved. WeChat users have no e-mail address.
  users.fields.getByName("email").required = false
  // Auth records must have a password, which PocketBase stores as a bcrypt hash; cost 0 means
  // PocketBase's default (bcrypt's 10). BAI_PB_PASSWORD_COST only exists for the benchmark's
  // sensitivity run (scripts/bench-pocketbase.sh, login-new-cost4).
  const cost = parseInt($os.getenv("BAI_PB_PASSWORD_COST") || "0", 10)
  if (cost > 0) users.fields.getByName("password").cost = cost
  app.save(users)
}, (app) => {
  app.delete(app.findCollectionByNameOrId("tbl_auth_users"))
  app.delete(app.findCollectionByNameOrId("tbl_company"))
})
