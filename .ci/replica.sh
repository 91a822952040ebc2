#!/usr/bin/env bash
# Make a streaming read replica of the local PostgreSQL cluster (port 5432) answer
# on REPLICA_PORT (5433). Run as root; safe to run again: a replica that answers is
# left alone, a data directory already copied is only started.
set -euo pipefail

VERSION="$(ls /etc/postgresql | sort -n | tail -1)"
BIN="/usr/lib/postgresql/$VERSION/bin"
HBA="/etc/postgresql/$VERSION/main/pg_hba.conf"
PORT="${REPLICA_PORT:-5433}"
DATA="/var/lib/postgresql/$VERSION/replica$PORT"
AS_PG=(runuser -u postgres --)

if pg_isready -h 127.0.0.1 -p "$PORT" -q 2>/dev/null; then
    echo "read replica: already answering on port $PORT"
    exit 0
fi

# The primary must accept replication connections from this machine.
if ! grep -Eq '^[[:space:]]*host[[:space:]]+replication[[:space:]]+all[[:space:]]+127\.0\.0\.1/32[[:space:]]+trust' "$HBA"; then
    echo "host replication all 127.0.0.1/32 trust" >>"$HBA"
    "${AS_PG[@]}" psql -h 127.0.0.1 -p 5432 -U postgres -qAtc "SELECT pg_reload_conf()" >/dev/null
fi

if [ ! -f "$DATA/standby.signal" ]; then
    echo "read replica: copying the primary into $DATA (pg_basebackup -R)"
    rm -rf "$DATA"
    install -d -o postgres -g postgres -m 700 "$DATA"
    "${AS_PG[@]}" "$BIN/pg_basebackup" -h 127.0.0.1 -p 5432 -U postgres -D "$DATA" -R -X stream --checkpoint=fast
    # Debian keeps the cluster's configuration in /etc: the copy gets its own.
    cat >"$DATA/postgresql.conf" <<EOF
port = $PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '/var/run/postgresql'
hot_standby = on
max_connections = 100
shared_buffers = 64MB
# A query on the replica may be cancelled by replay; tests pause replay instead.
max_standby_streaming_delay = 30s
EOF
    cat >"$DATA/pg_hba.conf" <<EOF
local all all trust
host all all 127.0.0.1/32 trust
EOF
    chown postgres:postgres "$DATA/postgresql.conf" "$DATA/pg_hba.conf"
fi

install -d -o postgres -g postgres /var/run/postgresql
"${AS_PG[@]}" "$BIN/pg_ctl" -D "$DATA" -l "$DATA/replica.log" -w -t 60 start
pg_isready -h 127.0.0.1 -p "$PORT"
"${AS_PG[@]}" psql -h 127.0.0.1 -p "$PORT" -U postgres -qAtc "SELECT 'read replica in recovery: ' || pg_is_in_recovery()"
