#!/usr/bin/env bash
# restore.sh [--yes] DUMP [DATABASE_URL] — restore a backup.sh dump into the database (objects in the dump
# are dropped and recreated, in one transaction: it all applies or nothing does). Stop web, worker and
# cron first. Without --yes it asks on a terminal and refuses without one.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=deploy/scripts/pg_env.sh
. "$here/pg_env.sh"

yes=0
if [ "${1:-}" = "--yes" ]; then yes=1; shift; fi
dump="${1:-}"
url="${2:-${DATABASE_URL:-}}"
[ -n "$dump" ] || { echo "usage: restore.sh [--yes] DUMP [DATABASE_URL]" >&2; exit 2; }
[ -f "$dump" ] || { echo "restore.sh: no such dump: $dump" >&2; exit 2; }
[ -n "$url" ] || { echo "restore.sh: give DATABASE_URL (argument or environment)" >&2; exit 2; }
pg_env_from_url "$url"
pg_restore --list "$dump" >/dev/null || { echo "restore.sh: $dump is not a pg_dump custom-format archive" >&2; exit 2; }

if [ "$yes" != 1 ]; then
    if [ ! -t 0 ]; then
        echo "restore.sh: this replaces the data in ${PGDATABASE:-the database} on ${PGHOST:-localhost}; pass --yes" >&2
        exit 2
    fi
    read -r -p "Replace the data in ${PGDATABASE:-the database} on ${PGHOST:-localhost} with $dump? [y/N] " answer
    [ "$answer" = "y" ] || [ "$answer" = "Y" ] || { echo "not restored"; exit 1; }
fi

pg_restore --clean --if-exists --no-owner --no-privileges --exit-on-error --single-transaction \
    --dbname="${PGDATABASE:-postgres}" "$dump"
echo "restored $dump into ${PGDATABASE:-postgres} on ${PGHOST:-localhost}"
