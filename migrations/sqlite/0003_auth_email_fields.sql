-- PocketBase's own auth fields, so that an imported user's record keeps them and the PocketBase
-- SDK routes answer them as PocketBase did. Users who sign in with WeChat have no email: '' and
-- false, which is what every record answered before.
ALTER TABLE tbl_auth_users ADD COLUMN email TEXT NOT NULL DEFAULT '';
ALTER TABLE tbl_auth_users ADD COLUMN email_visibility BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE tbl_auth_users ADD COLUMN verified BOOLEAN NOT NULL DEFAULT FALSE;
