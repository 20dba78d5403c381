# PostgreSQL 15 and PgBouncer from Debian's packages, for machines that cannot pull the official
# images (`gameday images build --offline` builds it on a debootstrapped base).
#
#   target pgbouncer   PgBouncer alone (the compose file's `pgbouncer` service builds this one)
#   target db          PostgreSQL 15 started like the official postgres image, PgBouncer included
#
# No secret is baked in: passwords come from the environment when a container starts.
ARG BASE_IMAGE=debian:bookworm-slim

FROM ${BASE_IMAGE} AS pgbouncer
# Packages must not start services while an image is being built.
RUN set -eux; \
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; \
    mkdir -p /etc/postgresql-common/createcluster.d; \
    echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.d/gameday.conf; \
    apt-get update; \
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends pgbouncer; \
    rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt /var/log/dpkg.log; \
    mkdir -p /var/run/postgresql; chown postgres:postgres /var/run/postgresql
COPY docker/pgbouncer/entrypoint.sh /usr/local/bin/pgbouncer-entrypoint
USER postgres
EXPOSE 6432
ENTRYPOINT ["pgbouncer-entrypoint"]

FROM pgbouncer AS db
USER root
RUN set -eux; \
    apt-get update; \
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql-15; \
    rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt /var/log/dpkg.log; \
    test ! -e /var/lib/postgresql/15/main; \
    # JIT is off in the lab (jit=off): its LLVM runtime is most of the image, so it goes
    rm -rf /usr/lib/postgresql/15/lib/llvmjit* /usr/lib/postgresql/15/lib/bitcode /usr/lib/*/libLLVM-*; \
    mkdir -p /var/lib/postgresql/data /docker-entrypoint-initdb.d; \
    chown postgres:postgres /var/lib/postgresql/data; chmod 700 /var/lib/postgresql/data
ENV PATH=/usr/lib/postgresql/15/bin:$PATH \
    PGDATA=/var/lib/postgresql/data \
    LANG=C.UTF-8
COPY docker/db/docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
EXPOSE 5432
STOPSIGNAL SIGINT
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["postgres"]
