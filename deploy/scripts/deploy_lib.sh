# Sourced by deploy.sh and rollback.sh.
#   CANDLEWISE_STATE_DIR   where the deployed image tags are kept (default var/deploy): current-tag, previous-tag
#   DEPLOY_HEALTH_RETRIES  health checks before giving up (default 30)
#   DEPLOY_HEALTH_INTERVAL seconds between them (default 5)
#   WORKER_SCALE           RQ worker containers to run (default 2)
STATE_DIR="${CANDLEWISE_STATE_DIR:-var/deploy}"
HEALTH_RETRIES="${DEPLOY_HEALTH_RETRIES:-30}"
HEALTH_INTERVAL="${DEPLOY_HEALTH_INTERVAL:-5}"
WORKER_SCALE="${WORKER_SCALE:-2}"
IMAGE="${CANDLEWISE_IMAGE:-candlewise}"

say() { echo "[$(date -u +%H:%M:%S)] $*"; }
die() { echo "error: $*" >&2; exit 1; }

compose() { docker compose "$@"; }

read_tag() { cat "$STATE_DIR/$1" 2>/dev/null || true; }

record_tags() {  # record_tags CURRENT PREVIOUS
    mkdir -p "$STATE_DIR"
    printf '%s\n' "$1" > "$STATE_DIR/current-tag"
    printf '%s\n' "$2" > "$STATE_DIR/previous-tag"
}

# healthy TAG: web answers /healthz and a worker heartbeats, within the retry budget
healthy() {
    local tag="$1" i
    for ((i = 1; i <= HEALTH_RETRIES; i++)); do
        if CANDLEWISE_TAG="$tag" compose exec -T web python -m workers.run health web \
            && CANDLEWISE_TAG="$tag" compose exec -T worker python -m workers.run health worker; then
            say "healthy: $IMAGE:$tag"
            return 0
        fi
        say "not healthy yet ($i/$HEALTH_RETRIES)"
        sleep "$HEALTH_INTERVAL"
    done
    return 1
}

# start_tag TAG: run the app services on TAG's image without touching migrations or other services
start_tag() {
    CANDLEWISE_TAG="$1" compose up -d --no-deps --no-build --scale worker="$WORKER_SCALE" web worker cron
}
