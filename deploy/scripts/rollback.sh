#!/usr/bin/env bash
# rollback.sh [TAG] — run web, worker and cron on an earlier image again (default: the previous tag that
# deploy.sh recorded), without migrating; then health-check. The database stays as it is: migrations are
# written to be backward compatible; if one is not, restore the backup the deploy made (restore.sh).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
# shellcheck source=deploy/scripts/deploy_lib.sh
. deploy/scripts/deploy_lib.sh

current="$(read_tag current-tag)"
tag="${1:-$(read_tag previous-tag)}"
[ -n "$tag" ] || die "no tag given and no previous tag recorded in $STATE_DIR"
[[ "$tag" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]] || die "'$tag' is not a valid image tag"
docker image inspect "$IMAGE:$tag" >/dev/null 2>&1 || die "image $IMAGE:$tag is not on this host"

say "rolling back to $IMAGE:$tag (from ${current:-unknown})"
start_tag "$tag"
if healthy "$tag"; then
    # a rollback after a failed deploy keeps the recorded previous tag (current is still the good one)
    if [ -n "$current" ] && [ "$current" != "$tag" ]; then
        record_tags "$tag" "$current"
    else
        record_tags "$tag" "$(read_tag previous-tag)"
    fi
    say "running $IMAGE:$tag"
    exit 0
fi
die "$IMAGE:$tag is not healthy either"
