# shellcheck shell=bash
# Sourced by .ci/run: a throw-away PostgreSQL server for the history tests (tests/history).
# Installs the distribution's postgresql when it is missing, starts a fresh cluster in a
# temporary folder, listening on 127.0.0.1 only (a free port; its unix socket in that
# folder), and exports PELVISCOPE_TEST_PG_URL. Idempotent: a reachable server named by
# PELVISCOPE_TEST_PG_URL already is kept. Stop it with: pg_ctl -D "$PELVISCOPE_TEST_PG_DIR/data" stop
pelviscope_pg_setup() {
    local bin dir port run=()
    if [ -n "${PELVISCOPE_TEST_PG_URL:-}" ] && command -v pg_isready >/dev/null &&
        pg_isready -q -d "$PELVISCOPE_TEST_PG_URL"; then
        return 0
    fi
    if ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
        if [ "$(id -u)" != 0 ]; then
            echo "postgresql.sh: PostgreSQL is not installed and this is not root" >&2
            return 1
        fi
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            postgresql >/dev/null
    fi
    bin=$(find /usr/lib/postgresql -path '*/bin/initdb' | sort -V | tail -n 1)
    bin=${bin%/initdb}
    dir=$(mktemp -d "${TMPDIR:-/tmp}/pelviscope-pg.XXXXXX")
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    if [ "$(id -u)" = 0 ]; then  # initdb refuses to run as root
        chown postgres: "$dir"
        run=(runuser -u postgres --)
    fi
    "${run[@]}" "$bin/initdb" -D "$dir/data" -U pelviscope --auth=trust -E UTF8 >"$dir/initdb.log"
    "${run[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -o \
        "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c full_page_writes=off" \
        start >/dev/null
    "${run[@]}" "$bin/createdb" -h 127.0.0.1 -p "$port" -U pelviscope pelviscope_test
    export PELVISCOPE_TEST_PG_DIR="$dir"
    export PELVISCOPE_TEST_PG_URL="postgresql://pelviscope@127.0.0.1:$port/pelviscope_test"
    echo "postgresql.sh: throw-away server at $PELVISCOPE_TEST_PG_URL ($dir)"
}
pelviscope_pg_setup
