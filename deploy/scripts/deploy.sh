#!/usr/bin/env bash
# deploy.sh [--tag TAG] [--no-pull] — deploy the checked-out code with docker compose:
#   1. back up the database (deploy/scripts/backup.sh in the backup service)
#   2. pull the code (git pull --ff-only) and build the image, tagged TAG (default: the git commit)
#   3. migrate (the migrate service: flask db upgrade)
#   4. start web, worker and cron on the new image (and the rest of the stack)
#   5. health-check web and a worker; on failure roll back to the previous tag (rollback.sh) and exit 1
# The deployed and previous tags are kept in var/deploy/ (CANDLEWISE_STATE_DIR).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
# shellcheck source=deploy/scripts/deploy_lib.sh
. deploy/scripts/deploy_lib.sh

tag="" pull=1
while [ $# -gt 0 ]; do
    case "$1" in
        --tag) [ $# -ge 2 ] || die "--tag needs a value"; tag="$2"; shift 2 ;;
        --no-pull) pull=0; shift ;;
        -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
        *) die "unknown argument: $1 (see --help)" ;;
    esac
done
[[ -z "$tag" || "$tag" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]] || die "--tag '$tag' is not a valid image tag"

env_file="${CANDLEWISE_ENV_FILE:-.env}"
[ -f "$env_file" ] || die "$env_file is missing: cp .env.example .env and fill it in"
secrets_dir="${CANDLEWISE_SECRETS_DIR:-deploy/secrets}"
if [ ! -s "$secrets_dir/metrics_token" ]; then
    say "creating the metrics token in $secrets_dir/metrics_token"
    mkdir -p "$secrets_dir" && chmod 700 "$secrets_dir"
    (umask 022 && od -An -N32 -tx1 /dev/urandom | tr -d ' \n' > "$secrets_dir/metrics_token")
fi

previous="$(read_tag current-tag)"
if [ "$pull" = 1 ]; then
    say "pulling the code"
    git pull --ff-only
fi
tag="${tag:-$(git rev-parse --short=12 HEAD)}"
say "deploying $IMAGE:$tag (previous: ${previous:-none})"

say "1/5 backup"
compose run --rm backup || die "the backup failed: nothing was changed"

say "2/5 build"
CANDLEWISE_TAG="$tag" compose build || die "the build failed: nothing was changed"

say "3/5 migrate"
CANDLEWISE_TAG="$tag" compose run --rm migrate \
    || die "the migration failed (rolled back by PostgreSQL): the running version is unchanged"

say "4/5 start"
CANDLEWISE_TAG="$tag" compose up -d --remove-orphans --scale worker="$WORKER_SCALE"

say "5/5 health check"
if healthy "$tag"; then
    record_tags "$tag" "$previous"
    say "deployed $IMAGE:$tag"
    exit 0
fi
if [ -z "$previous" ]; then
    die "$IMAGE:$tag is not healthy and there is no previous tag to roll back to"
fi
say "$IMAGE:$tag is not healthy: rolling back to $previous"
deploy/scripts/rollback.sh "$previous" || die "the rollback to $previous failed too: see docs/operations.md"
die "deploy of $tag failed; rolled back to $previous"
