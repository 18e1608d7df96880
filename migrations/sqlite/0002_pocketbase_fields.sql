-- Fields of an imported PocketBase record that have no column here (email, emailVisibility,
-- verified, the password hash, a company's record id, fields a deployment added), kept verbatim
-- as one JSON object per record so that `bai-service import pocketbase` never drops data.
-- `id` is the user's record id (collection tbl_auth_users) or the company_id (tbl_company).
CREATE TABLE pocketbase_fields (
    collection TEXT NOT NULL,
    id         TEXT NOT NULL,
    fields     TEXT NOT NULL,
    PRIMARY KEY (collection, id)
);
