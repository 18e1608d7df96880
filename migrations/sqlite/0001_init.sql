-- Users of the mini-program, named after the original PocketBase collection.
-- Timestamps are text in PocketBase's format (2006-01-02 15:04:05.000Z) so that PocketBase
-- and this service can read each other's rows.
CREATE TABLE tbl_company (
    company_id   TEXT PRIMARY KEY NOT NULL,
    company_name TEXT NOT NULL DEFAULT '',
    created      TEXT NOT NULL,
    updated      TEXT NOT NULL
);

CREATE TABLE tbl_auth_users (
    id            TEXT PRIMARY KEY NOT NULL,
    users_id      TEXT NOT NULL UNIQUE,
    openid        TEXT NOT NULL UNIQUE,
    users_type    TEXT NOT NULL DEFAULT '游客',
    users_name    TEXT NOT NULL DEFAULT '',
    users_phone   TEXT NOT NULL DEFAULT '',
    users_picture TEXT NOT NULL DEFAULT '',
    company_id    TEXT NULL REFERENCES tbl_company (company_id) ON DELETE SET NULL,
    token_key     TEXT NOT NULL UNIQUE,
    created       TEXT NOT NULL,
    updated       TEXT NOT NULL
);

-- Deleted users keep their token key here, so that a token they still hold verifies and
-- answers 404 (user gone) instead of 401 (forged).
CREATE TABLE tbl_deleted_users (
    id        TEXT PRIMARY KEY NOT NULL,
    token_key TEXT NOT NULL,
    deleted   TEXT NOT NULL
);

-- The 429 guard: one row per claimed users_wx_code (hashed), shared by every replica.
CREATE TABLE request_guards (
    guard_key  TEXT PRIMARY KEY NOT NULL,
    expires_at BIGINT NOT NULL
);

-- Service-wide settings that every replica must agree on (the generated auth secret).
CREATE TABLE app_settings (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
