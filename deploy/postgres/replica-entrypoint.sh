#!/bin/sh
# The read replica: on an empty volume, copy the primary (pg_basebackup -R writes
# standby.signal and primary_conninfo), then run as a hot standby that streams.
set -eu
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    until pg_isready -h postgres-primary -p 5432 -q; do sleep 1; done
    PGPASSWORD="$REPLICATION_PASSWORD" pg_basebackup -h postgres-primary -p 5432 -U replicator \
        -D "$PGDATA" -R -X stream --checkpoint=fast
    chmod 700 "$PGDATA"
fi
exec postgres -c hot_standby=on -c max_standby_streaming_delay=30s
