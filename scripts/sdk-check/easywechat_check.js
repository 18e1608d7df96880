// node-easywechat, unchanged, against wechat-sim through its intercepting proxy.
//
// Run by scripts/sdk-check.sh with NODE_EXTRA_CA_CERTS and global-agent preloaded
// (NODE_OPTIONS="-r global-agent/bootstrap", GLOBAL_AGENT_HTTP_PROXY): the SDK's axios then
// tunnels https://api.weixin.qq.com through the proxy. Exits non-zero on the first failure.
'use strict';

const assert = require('node:assert/strict');
const { MiniApp } = require('node-easywechat');
const version = require('node-easywechat/package.json').version;

const sim = process.env.SIM_URL;

// Node's fetch (undici) ignores global-agent, so the control API is reached directly.
async function control(method, path, body) {
  const res = await fetch(`${sim}/__sim${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  assert.equal(res.status, 200, `${method} ${path}`);
  return res.json();
}

async function main() {
  const app = new MiniApp({ app_id: process.env.SIM_APPID, secret: process.env.SIM_SECRET });

  const token = await app.getAccessToken().getToken();
  assert.ok(typeof token === 'string' && token.length > 20, `access token ${token}`);

  const minted = await control('POST', '/login-codes', { user: 'node-alice' });
  const session = await app.getUtils().codeToSession(minted.code);
  assert.equal(session.openid, minted.openid);
  assert.equal(session.session_key.length, 24);

  // node-easywechat reports a failed code2session as an Error carrying WeChat's answer.
  await assert.rejects(app.getUtils().codeToSession(minted.code), /"errcode":40163/);

  const paths = (await control('GET', '/requests')).map((entry) => entry.endpoint);
  assert.equal(paths.filter((p) => p === '/cgi-bin/token').length, 1, paths.join(' '));
  assert.equal(paths.filter((p) => p === '/sns/jscode2session').length, 2, paths.join(' '));

  console.log(
    `node-easywechat ${version}: access token, codeToSession (openid ${session.openid}), reuse -> 40163`,
  );
}

main().catch((error) => {
  console.error(`node-easywechat check failed: ${error.stack || error}`);
  process.exit(1);
});
