# A generated PocketBase 0.40.6 data dir (tests/fixtures/pocketbase-0.40.6.sql plus N users: half
# with a complete profile, a third linked to one of 1 000 companies, a tenth with an email,
# bcrypt-length password hashes), for scripts/bench-import.sh and scripts/bench-growth.sh; sourced,
# not run. Needs sqlite3 and the repository root as the working directory.

generate_pocketbase() { # N DIR: a PocketBase data dir with N users
    mkdir -p "$2"
    { cat tests/fixtures/pocketbase-0.40.6.sql
      cat <<SQL
PRAGMA journal_mode = WAL;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)
INSERT INTO tbl_company (id, company_id, company_name, created, updated)
SELECT printf('c%014d', i), printf('C%05d', i), '公司 ' || i, '2025-01-01 08:00:00.000Z', '2025-01-01 08:00:00.000Z' FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1)
INSERT INTO tbl_auth_users (id, tokenKey, email, emailVisibility, verified, password, openid, users_id,
    users_type, users_name, users_phone, users_picture, company_id, created, updated)
SELECT printf('%015d', i), printf('k%049d', i),
    CASE WHEN i % 10 = 0 THEN 'u' || i || '@example.com' ELSE '' END, i % 10 = 0, i % 20 = 0,
    '\$2a\$10\$abcdefghijklmnopqrstuuv0123456789abcdefghijklmnopqrstu',
    printf('o%027d', i), printf('U%08d', i),
    CASE WHEN i % 2 = 0 THEN '注册用户' ELSE '游客' END,
    CASE WHEN i % 2 = 0 THEN '用户' || i ELSE '' END,
    CASE WHEN i % 2 = 0 THEN printf('138%08d', i) ELSE '' END,
    CASE WHEN i % 2 = 0 THEN 'https://img.example/' || i || '.png' ELSE '' END,
    CASE WHEN i % 3 = 0 THEN printf('C%05d', 1 + i % 1000) ELSE '' END,
    '2025-01-02 08:00:00.000Z', '2025-01-03 08:00:00.000Z' FROM n;
SQL
    } | sqlite3 "$2/data.db" >/dev/null
}
