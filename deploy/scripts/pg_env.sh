# Sourced by backup.sh and restore.sh: turn a database URL into libpq's PG* variables, so the password
# never appears on a command line (ps) and SQLAlchemy's "+driver" URLs work too.
pg_env_from_url() {
    local url="$1" rest userinfo hostport db
    if [[ ! "$url" =~ ^postgres(ql)?(\+[a-z0-9]+)?:// ]]; then
        echo "not a PostgreSQL URL: ${url%%://*}://..." >&2
        return 2
    fi
    rest="${url#*://}"
    db="${rest#*/}"
    [ "$db" != "$rest" ] || db=""
    db="${db%%\?*}"
    hostport="${rest%%/*}"
    if [[ "$hostport" == *@* ]]; then
        userinfo="${hostport%@*}"
        hostport="${hostport##*@}"
        export PGUSER="${userinfo%%:*}"
        if [[ "$userinfo" == *:* ]]; then export PGPASSWORD="${userinfo#*:}"; fi
    fi
    if [[ "$hostport" == *:* ]]; then
        export PGHOST="${hostport%%:*}" PGPORT="${hostport##*:}"
    elif [ -n "$hostport" ]; then
        export PGHOST="$hostport"
    fi
    [ -z "$db" ] || export PGDATABASE="$db"
}
