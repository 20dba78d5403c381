#!/bin/sh
# PgBouncer for the compose stack: its config and auth file written from the environment at
# start (nothing secret lives in the image), then PgBouncer in the foreground.
#
#   PGBOUNCER_DB_HOST, PGBOUNCER_DB_PORT          where PostgreSQL is (db:5432)
#   PGBOUNCER_POOL_MODE, PGBOUNCER_POOL_SIZE      transaction / session; server connections
#   PGBOUNCER_MAX_CLIENT_CONN                     client connections accepted
#   PGBOUNCER_STATEMENT_TIMEOUT_MS                set on each server connection
#   PGBOUNCER_QUERY_WAIT_TIMEOUT_S                how long a client waits for a server connection
#   ARCADE_DB_PASSWORD                            the password of Arcade's role (required)
#   ARCADE_DB_SCRAM                               its SCRAM secret, as the database holds it: the auth
#                                                 file gets it instead of the password, so PgBouncer
#                                                 checks each client without deriving the key again
set -eu
: "${ARCADE_DB_PASSWORD:?ARCADE_DB_PASSWORD must be set (the password of the arcade role)}"
dir=/tmp/pgbouncer
mkdir -p "$dir"
umask 077
printf '"arcade" "%s"\n' "$(printf '%s' "${ARCADE_DB_SCRAM:-$ARCADE_DB_PASSWORD}" | sed 's/"/""/g')" > "$dir/userlist.txt"
cat > "$dir/pgbouncer.ini" <<INI
[databases]
arcade = host=${PGBOUNCER_DB_HOST:-db} port=${PGBOUNCER_DB_PORT:-5432} dbname=arcade connect_query='SET statement_timeout = ${PGBOUNCER_STATEMENT_TIMEOUT_MS:-5000}'

[pgbouncer]
listen_addr = 0.0.0.0
listen_port = 6432
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $dir/userlist.txt
stats_users = arcade
pool_mode = ${PGBOUNCER_POOL_MODE:-transaction}
default_pool_size = ${PGBOUNCER_POOL_SIZE:-20}
max_client_conn = ${PGBOUNCER_MAX_CLIENT_CONN:-1000}
ignore_startup_parameters = options,extra_float_digits
query_wait_timeout = ${PGBOUNCER_QUERY_WAIT_TIMEOUT_S:-10}
server_connect_timeout = 3
server_login_retry = 1
log_connections = 0
log_disconnections = 0
INI
exec pgbouncer "$dir/pgbouncer.ini"
