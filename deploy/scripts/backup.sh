#!/usr/bin/env bash
# backup.sh [DATABASE_URL] — pg_dump the Candlewise database (custom format) into BACKUP_DIR and keep the
# newest BACKUP_KEEP dumps. Prints the path of the new dump. Compose: `docker compose run --rm backup`.
#   DATABASE_URL  postgresql://user[:password]@host[:port]/db (also postgresql+psycopg2://, postgres://)
#   BACKUP_DIR    default ./var/backups          BACKUP_KEEP   default 14
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=deploy/scripts/pg_env.sh
. "$here/pg_env.sh"

url="${1:-${DATABASE_URL:-}}"
[ -n "$url" ] || { echo "backup.sh: give DATABASE_URL (argument or environment)" >&2; exit 2; }
dir="${BACKUP_DIR:-./var/backups}"
keep="${BACKUP_KEEP:-14}"
[[ "$keep" =~ ^[1-9][0-9]*$ ]] || { echo "backup.sh: BACKUP_KEEP must be a whole number >= 1, got '$keep'" >&2; exit 2; }

pg_env_from_url "$url"
mkdir -p "$dir"
stamp="$(date -u +%Y%m%dT%H%M%S.%3NZ)"
name="candlewise-$stamp.dump"
n=1
while [ -e "$dir/$name" ]; do name="candlewise-$stamp-$n.dump"; n=$((n + 1)); done
partial="$dir/.$name.partial"
trap 'rm -f "$partial"' EXIT

pg_dump --format=custom --compress=6 --no-owner --no-privileges --file="$partial"
pg_restore --list "$partial" >/dev/null   # the archive reads back, or this backup fails
mv "$partial" "$dir/$name"
trap - EXIT

# rotation: newest first (by modification time), drop everything after the first $keep
mapfile -t dumps < <(find "$dir" -maxdepth 1 -type f -name 'candlewise-*.dump' -printf '%T@ %f\n' \
    | sort -rn | cut -d' ' -f2-)
for old in "${dumps[@]:$keep}"; do
    rm -f -- "$dir/$old"
done
echo "$dir/$name"
