// The PocketBase JS SDK against bai-service after the import (scripts/migrate-check.sh):
// a token PocketBase issued → authStore.save → authRefresh() → getOne(id) → send('/api/wechat/profile').
// Usage: node migrate-check-sdk.cjs SDK_DIR BASE_URL TOKEN RECORD_ID
const [sdkDir, baseUrl, token, recordId] = process.argv.slice(2);
const sdk = require(require.resolve("pocketbase/cjs", { paths: [sdkDir] }));
const PocketBase = sdk.default || sdk;

function check(cond, what) {
  if (!cond) {
    console.error(`SDK: ${what}`);
    process.exit(1);
  }
}

(async () => {
  const pb = new PocketBase(baseUrl);
  pb.autoCancellation(false);
  pb.authStore.save(token, null);
  const auth = await pb.collection("tbl_auth_users").authRefresh();
  check(auth.record.id === recordId, `authRefresh() record ${auth.record.id}, not ${recordId}`);
  check(pb.authStore.isValid && pb.authStore.token !== token, "authRefresh() stored a new valid token");
  const record = await pb.collection("tbl_auth_users").getOne(recordId);
  check(record.id === recordId, "getOne(own id)");
  const profile = await pb.send("/api/wechat/profile", {
    method: "POST",
    body: { users_name: "SDK 用户", users_phone_code: "dev-phone:13900139000", users_picture: "https://img.example/sdk.png" },
  });
  check(profile.code === 200 && profile.data.user.pb_id === recordId, `profile: ${JSON.stringify(profile)}`);
  try {
    await pb.collection("tbl_auth_users").getOne("nosuchrecord123");
    check(false, "getOne(another id) should fail");
  } catch (err) {
    check(err.status === 404, `getOne(another id): ${err.status} ${err.message}`);
  }
  console.log("SDK ok: authRefresh, getOne, send(profile) as record " + recordId);
})().catch((err) => {
  console.error(`SDK: ${err.status} ${err.message} ${JSON.stringify(err.response)}`);
  process.exit(1);
});
