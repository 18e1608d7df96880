"""wechatpy, unchanged, against wechat-sim through its intercepting proxy.

Run by scripts/sdk-check.sh with HTTPS_PROXY and REQUESTS_CA_BUNDLE set; wechatpy itself only
knows https://api.weixin.qq.com. Exits non-zero on the first failed expectation.
"""

import json
import os
import sys
import urllib.request

import wechatpy
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException

SIM = os.environ["SIM_URL"]
APPID = os.environ["SIM_APPID"]
SECRET = os.environ["SIM_SECRET"]

# The control API is on loopback: urllib without a proxy, so only wechatpy uses the proxy.
DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def control(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(SIM + "/__sim" + path, data=data, method=method)
    req.add_header("content-type", "application/json")
    with DIRECT.open(req, timeout=10) as res:
        return json.loads(res.read())


def check(condition, what):
    if not condition:
        sys.exit("wechatpy check failed: " + what)


client = WeChatClient(APPID, SECRET)
token = client.access_token
check(isinstance(token, str) and len(token) > 20, "access token %r" % token)

minted = control("POST", "/login-codes", {"user": "py-alice"})
session = client.wxa.code_to_session(minted["code"])
check(session["openid"] == minted["openid"], "openid %r" % session)
check(len(session["session_key"]) == 24, "session_key")

try:
    client.wxa.code_to_session(minted["code"])
    sys.exit("wechatpy check failed: a reused code was accepted")
except WeChatClientException as error:
    check(error.errcode == 40163, "reuse errcode %r" % error.errcode)
    reuse = error

# The simulator served these calls itself: they are in its journal.
journal = control("GET", "/requests")
paths = [entry["endpoint"] for entry in journal]
check(paths.count("/cgi-bin/token") == 1, "journal %r" % paths)
check(paths.count("/sns/jscode2session") == 2, "journal %r" % paths)

print(
    "wechatpy %s: access token, code_to_session (openid %s), reuse -> %s(errcode=%d)"
    % (wechatpy.__version__, session["openid"], type(reuse).__name__, reuse.errcode)
)
