#!/usr/bin/env bash
# Install (Debian's postgresql package) and start a local PostgreSQL server for the tests, and
# create the test role and database. Prints the SQLAlchemy URL of the test database on stdout.
# Needs root for apt-get; exits non-zero (saying why) when it cannot provide a server.
set -euo pipefail
log() { echo "pg-test-server: $*" >&2; }

if ! command -v pg_lsclusters >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    log "PostgreSQL is not installed and this is not a root Debian machine: install postgresql yourself"
    exit 1
  fi
  log "installing Debian's postgresql package"
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
fi

cluster=$(pg_lsclusters -h | awk 'NR==1 {print $1" "$2}')
if [ -z "$cluster" ]; then
  ver=$(ls /usr/lib/postgresql | sort -V | tail -1)
  log "creating cluster $ver main"
  pg_createcluster "$ver" main >&2
  cluster="$ver main"
fi
set -- $cluster
ver=$1; name=$2
port=$(pg_lsclusters -h | awk -v v="$ver" -v n="$name" '$1==v && $2==n {print $3}')
status=$(pg_lsclusters -h | awk -v v="$ver" -v n="$name" '$1==v && $2==n {print $4}')
if [ "$status" != online ]; then
  log "starting cluster $ver $name on port $port"
  pg_ctlcluster "$ver" "$name" start >&2
fi
for _ in $(seq 1 30); do
  pg_isready -q -h 127.0.0.1 -p "$port" && break
  sleep 1
done
pg_isready -q -h 127.0.0.1 -p "$port" || { log "server did not come up on port $port"; exit 1; }

psql_admin() { su postgres -c "psql -p $port -v ON_ERROR_STOP=1 -qtAc \"$1\""; }
if [ "$(psql_admin "SELECT 1 FROM pg_roles WHERE rolname='zorgstroom'")" != 1 ]; then
  psql_admin "CREATE ROLE zorgstroom LOGIN PASSWORD 'zorgstroom' CREATEDB" >&2
fi
# A BI role for the grant test (make grant-bi): no login; the test role may SET ROLE to it.
if [ "$(psql_admin "SELECT 1 FROM pg_roles WHERE rolname='zorgstroom_bi_test'")" != 1 ]; then
  psql_admin "CREATE ROLE zorgstroom_bi_test NOLOGIN" >&2
  psql_admin "GRANT zorgstroom_bi_test TO zorgstroom" >&2
fi
for db in zorgstroom_test zorgstroom_dagster_test; do
  if [ "$(psql_admin "SELECT 1 FROM pg_database WHERE datname='$db'")" != 1 ]; then
    psql_admin "CREATE DATABASE $db OWNER zorgstroom" >&2
  fi
done
echo "postgresql+psycopg://zorgstroom:zorgstroom@127.0.0.1:$port/zorgstroom_test"
