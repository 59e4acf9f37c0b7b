#!/usr/bin/env bash
# CI: the README's two-role PostgreSQL setup with two real roles. A superuser creates the owner and
# the app's role as the README says, the owner migrates, and .ci/two_roles.py runs as the app's
# role under production settings. Everything made here is dropped again, whatever happens.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
suffix="$(.venv/bin/python -c 'import secrets; print(secrets.token_hex(4))')"
owner="muteadmin_ci_owner_$suffix"
app="muteadmin_ci_app_$suffix"
database="muteadmin_ci_two_roles_$suffix"
password="$(.venv/bin/python -c 'import secrets; print(secrets.token_hex(16))')"
workdir="$(mktemp -d)"
superuser=(psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -U postgres)

cleanup() {
    "${superuser[@]}" -d postgres -c "DROP DATABASE IF EXISTS $database WITH (FORCE)" \
        -c "DROP ROLE IF EXISTS $app" -c "DROP ROLE IF EXISTS $owner" || true
    rm -rf "$workdir"
}
trap cleanup EXIT

"${superuser[@]}" -d postgres \
    -c "CREATE ROLE $owner LOGIN PASSWORD '$password'" \
    -c "CREATE ROLE $app LOGIN PASSWORD '$password'" \
    -c "CREATE DATABASE $database OWNER $owner"
"${superuser[@]}" -d "$database" <<SQL
ALTER DEFAULT PRIVILEGES FOR ROLE $owner IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO $app;
ALTER DEFAULT PRIVILEGES FOR ROLE $owner IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO $app;
GRANT USAGE, CREATE ON SCHEMA public TO $app;
SQL

export DEBUG=false ALLOWED_HOSTS=127.0.0.1
SECRET_KEY="$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(50))')"
AUDIT_CHAIN_KEY="$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(48))')"
export SECRET_KEY AUDIT_CHAIN_KEY AUDIT_CHECKPOINT_PATH="$workdir/audit-checkpoints.jsonl"

DATABASE_URL="postgres://$owner:$password@127.0.0.1:5432/$database" \
    .venv/bin/python manage.py migrate --no-input >/dev/null
echo "migrated as $owner"
DATABASE_URL="postgres://$app:$password@127.0.0.1:5432/$database" \
    .venv/bin/python manage.py shell --no-imports -c "$(cat .ci/two_roles.py)"
echo "served as $app: rows completed and chained, completed rows refused to it, verified"
