# shellcheck shell=bash
# A throwaway PostgreSQL 15 on loopback for the PostgreSQL tests (crmcore.storage.postgres).
#
# Sourced by .ci/run (set -euo pipefail is on). It finds the PostgreSQL 15 binaries (installing
# them with apt only when absent), initialises a cluster in a temporary directory, starts it on a
# free port of 127.0.0.1 (trust authentication, loopback only), exports CRMCORE_POSTGRES_DSN for
# the tests and puts the stop command into TEARDOWN. As root (CI) the server runs as a non-root
# user (`postgres` if it exists, else a created `crmcore-pg`): PostgreSQL refuses to run as root.
# Locally: `TEARDOWN=(); source .ci/parts/10-postgres.sh`, then run the tests in that shell and
# stop the server with the command it prints (or `for s in "${TEARDOWN[@]}"; do eval "$s"; done`).
#
# fsync is off (CRMCORE_POSTGRES_FSYNC=on turns it on): the tests and the crash test kill client
# processes, never the server, so durability of the server itself is not what they check.

_pg_bin=""
for _pg_dir in /usr/local/bin /usr/lib/postgresql/15/bin; do
    if [ -x "$_pg_dir/initdb" ] && [ -x "$_pg_dir/pg_ctl" ] && [ -x "$_pg_dir/postgres" ]; then
        _pg_bin="$_pg_dir"
        break
    fi
done
if [ -z "$_pg_bin" ]; then
    echo "PostgreSQL 15 binaries not found: installing postgresql-15 with apt" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 >/dev/null
    _pg_bin=/usr/lib/postgresql/15/bin
fi
"$_pg_bin/postgres" --version

if [ "$(id -u)" -eq 0 ]; then
    if id postgres >/dev/null 2>&1; then
        _pg_user=postgres
    else
        _pg_user=crmcore-pg
        id "$_pg_user" >/dev/null 2>&1 || useradd --system --no-create-home "$_pg_user"
    fi
    _pg_as=(runuser -u "$_pg_user" --)
else
    _pg_user="$(id -un)"
    _pg_as=()
fi

_pg_root="$(mktemp -d "${TMPDIR:-/tmp}/crmcore-pg.XXXXXX")"
chmod 755 "$_pg_root"
[ "$(id -u)" -eq 0 ] && chown "$_pg_user" "$_pg_root"
_pg_port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
_pg_fsync="${CRMCORE_POSTGRES_FSYNC:-off}"

"${_pg_as[@]}" "$_pg_bin/initdb" -D "$_pg_root/data" -U crmcore --auth=trust \
    --encoding=UTF8 --no-locale >"$_pg_root/initdb.log" 2>&1 \
    || { cat "$_pg_root/initdb.log" >&2; false; }
TEARDOWN+=("rm -rf '$_pg_root'")
"${_pg_as[@]}" "$_pg_bin/pg_ctl" start -w -t 60 -D "$_pg_root/data" -l "$_pg_root/server.log" \
    -o "-c listen_addresses=127.0.0.1 -p $_pg_port -k $_pg_root -c max_connections=200 -c fsync=$_pg_fsync" \
    || { cat "$_pg_root/server.log" >&2; false; }
# Stop before the directory is removed (TEARDOWN runs in order: insert at the front).
TEARDOWN=("${_pg_as[*]} $_pg_bin/pg_ctl stop -D '$_pg_root/data' -m fast" "${TEARDOWN[@]}")

# The cluster's own `postgres` database: the tests make (and drop) one schema each.
export CRMCORE_POSTGRES_DSN="postgresql://crmcore@127.0.0.1:$_pg_port/postgres"
echo "PostgreSQL on 127.0.0.1:$_pg_port (data in $_pg_root, fsync=$_pg_fsync)"
echo "CRMCORE_POSTGRES_DSN=$CRMCORE_POSTGRES_DSN"
echo "stop it with: ${_pg_as[*]} $_pg_bin/pg_ctl stop -D '$_pg_root/data' -m fast && rm -rf '$_pg_root'"
