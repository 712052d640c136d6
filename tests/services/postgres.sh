#!/usr/bin/env bash
# A throw-away PostgreSQL server for the sweep tests, on 127.0.0.1 only; needs no systemd.
#
#   export "$(tests/services/postgres.sh)"    # start (installing Debian's postgresql if missing) and export
#                                             # TWEETBERT_TEST_POSTGRES_URL for the tests
#   tests/services/postgres.sh stop           # stop the server (its data directory is kept for the next start)
#   tests/services/postgres.sh purge          # stop and delete the data directory
#
# Idempotent: a running server is reused. The role may create databases: each test makes its own.
# Settings (environment): TWEETBERT_PG_DIR (data directory, default /tmp/tweetbert-postgres),
# TWEETBERT_PG_PORT (default 55432, not 5432, so a system cluster is left alone).
set -euo pipefail

action=${1:-start}
dir=${TWEETBERT_PG_DIR:-/tmp/tweetbert-postgres}
port=${TWEETBERT_PG_PORT:-55432}
role=tweetbert
password=tweetbert
database=tweetbert

say() { echo "postgres.sh: $*" >&2; }

bindir() {
    local version
    version=$(ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -n 1)
    [[ -n $version ]] && echo "/usr/lib/postgresql/$version/bin"
}

# Runs a command as the server's owner: initdb and postgres refuse to run as root.
as_owner() {
    if [[ $(id -u) -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

install_server() {
    if [[ -n $(bindir) ]]; then
        return
    fi
    if [[ $(id -u) -ne 0 ]]; then
        say "PostgreSQL is not installed and installing it needs root: apt-get install postgresql"
        exit 1
    fi
    say "installing Debian's postgresql"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends postgresql >&2
}

bin=""
case $action in
    start)
        install_server
        bin=$(bindir)
        if [[ ! -s $dir/PG_VERSION ]]; then
            mkdir -p "$dir"
            [[ $(id -u) -eq 0 ]] && chown postgres: "$dir"
            chmod 700 "$dir"
            printf '%s\n' "$password" > "$dir.pwfile"
            [[ $(id -u) -eq 0 ]] && chown postgres: "$dir.pwfile"
            as_owner "$bin/initdb" --pgdata "$dir" --username postgres --auth-local trust \
                --auth-host scram-sha-256 --pwfile "$dir.pwfile" --encoding UTF8 --locale C >&2
            rm -f "$dir.pwfile"
        fi
        if ! as_owner "$bin/pg_ctl" --pgdata "$dir" status > /dev/null 2>&1; then
            # The socket goes into the data directory: /run/postgresql may not exist or be writable.
            as_owner "$bin/pg_ctl" --pgdata "$dir" --log "$dir/server.log" --wait \
                --options "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories='$dir' -c max_connections=200" \
                start >&2
        fi
        psql=("$bin/psql" --host "$dir" --port "$port" --username postgres --no-psqlrc --quiet --tuples-only
              --set ON_ERROR_STOP=1)
        if [[ -z $(as_owner "${psql[@]}" --command "SELECT 1 FROM pg_roles WHERE rolname = '$role'") ]]; then
            as_owner "${psql[@]}" --command "CREATE ROLE $role LOGIN CREATEDB PASSWORD '$password'" >&2
        fi
        if [[ -z $(as_owner "${psql[@]}" --command "SELECT 1 FROM pg_database WHERE datname = '$database'") ]]; then
            as_owner "${psql[@]}" --command "CREATE DATABASE $database OWNER $role" >&2
        fi
        echo "TWEETBERT_TEST_POSTGRES_URL=postgresql://$role:$password@127.0.0.1:$port/$database"
        ;;
    stop|purge)
        bin=$(bindir)
        if [[ -n $bin && -s $dir/PG_VERSION ]] && as_owner "$bin/pg_ctl" --pgdata "$dir" status > /dev/null 2>&1; then
            as_owner "$bin/pg_ctl" --pgdata "$dir" --wait --mode fast stop >&2
        fi
        if [[ $action == purge ]]; then
            rm -rf "$dir"
        fi
        ;;
    *)
        say "usage: $0 [start|stop|purge]"
        exit 2
        ;;
esac
