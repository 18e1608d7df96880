"""Schemathesis hooks for `just contract` (scripts/contract.sh loads them via SCHEMATHESIS_HOOKS).

WeChat codes are opaque and minted by WeChat, never chosen by a client: a schema-valid random
`users_wx_code` or `users_phone_code` is a code WeChat never issued, and the service rightly answers
400 (WeChat 40029). Left alone, every positive login and profile request would be a 400, and
positive_data_acceptance could not tell "WeChat said no" from "our validation rejected a name the
schema allows" — the check would be blind on exactly the fields it exists for.

So, in *positive* request bodies only, a code that our own rule accepts (non-blank, no whitespace)
is replaced with one the in-process simulator honours: `dev:<user>` for logins and
`dev-phone:<digits>` for phone numbers, derived from the generated value so the run stays
reproducible under a fixed seed. Codes our rule rejects, and every negative body, are sent as
generated, so negative_data_rejection still sees the codes the fuzzer made up. The substitute is
itself schema-valid (schemathesis revalidates modified cases), so the case stays positive.
"""

from __future__ import annotations

import hashlib
import os
import re

import schemathesis
from schemathesis.core.parameters import ParameterLocation

# The service's code rule (service/src/users/sanitize.rs `sanitize_code`): after dropping control
# and invisible format characters (the STRIPPED table of service/src/api/fields.rs) and trimming,
# non-empty and no whitespace inside.
_INVISIBLE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064"
    "\u2066-\u206f\ufeff\ufff9-\ufffb\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0001\U000e0020-\U000e007f]"
)


def _plausible_code(value: object) -> bool:
    if not isinstance(value, str):
        return False
    cleaned = _INVISIBLE.sub("", value).strip()
    return bool(cleaned) and not any(c.isspace() for c in cleaned) and len(cleaned) <= 128


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def _login_code(value: str) -> str:
    return "dev:st-" + _digest(value)[:16]


def _phone_code(value: str) -> str:
    # A mainland mobile number: 1, then 10 digits taken from the digest.
    digits = "".join(str(int(c, 16) % 10) for c in _digest(value)[:10])
    return "dev-phone:1" + digits


_SUBSTITUTES = {
    ("POST", "/api/wechat/login"): ("users_wx_code", _login_code),
    ("POST", "/api/wechat/profile"): ("users_phone_code", _phone_code),
}


# The PocketBase SDK's routes answer only for this service's one auth collection (by name or id)
# and, for `records/{id}`, only the token's own record: anything else is a 404 by design (a
# record the rules hide). Positive requests are aimed at what exists, so they reach the handler.
_POCKETBASE_PATHS = {
    "/api/collections/{collection}/auth-refresh",
    "/api/collections/{collection}/records/{id}",
}
_COLLECTIONS = ("tbl_auth_users", "pbc_421601843")
_RECORD_ID = os.environ.get("BAI_CONTRACT_RECORD_ID", "")


def _aim_at_existing_record(case) -> None:
    meta = case.meta
    if meta is not None and meta.is_negative_at(ParameterLocation.PATH):
        return
    params = dict(case.path_parameters or {})
    if "collection" in params:
        params["collection"] = _COLLECTIONS[int(_digest(str(params["collection"]))[0], 16) % 2]
    if "id" in params and _RECORD_ID:
        params["id"] = _RECORD_ID
    case.path_parameters = params


@schemathesis.hook
def before_call(context, case, kwargs):
    if case.operation.path in _POCKETBASE_PATHS:
        _aim_at_existing_record(case)
        return
    rule = _SUBSTITUTES.get((case.operation.method.upper(), case.operation.path))
    if rule is None or not isinstance(case.body, dict):
        return
    meta = case.meta
    if meta is not None and meta.is_negative_at(ParameterLocation.BODY):
        return
    field, substitute = rule
    value = case.body.get(field)
    if _plausible_code(value):
        case.body = {**case.body, field: substitute(value)}
