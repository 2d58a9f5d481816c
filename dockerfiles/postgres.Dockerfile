# PostgreSQL that behaves like docker.io/library/postgres:16-alpine (POSTGRES_USER/PASSWORD/DB on first
# start, initdb into PGDATA, 0.0.0.0:5432, scram-sha-256 for remote logins, pg_isready/psql on PATH),
# built from Debian's PostgreSQL 15 so it needs no pull from a prohibited registry (ADR-028) and builds offline
# on a base that already has the packages (the test world passes BASE_IMAGE=localhost/kdoctor-world/debian-data:1).
# Context: dockerfiles/data.
ARG BASE_IMAGE=docker.io/library/debian:bookworm-slim
FROM ${BASE_IMAGE}
# A stock Debian base lacks PostgreSQL: install it, and drop the package's own cluster (the entrypoint runs initdb).
RUN if [ ! -x /usr/lib/postgresql/15/bin/postgres ]; then \
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql-15 postgresql-client-15 \
      && rm -rf /var/lib/apt/lists/* /var/lib/postgresql/15 /etc/postgresql/15; \
    fi
ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PGDATA=/var/lib/postgresql/data \
    LANG=C.UTF-8
COPY postgres-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
RUN chmod 0755 /usr/local/bin/docker-entrypoint.sh && mkdir -p /var/lib/postgresql/data /var/run/postgresql \
    && chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql && chmod 2777 /var/run/postgresql
# postgres shuts down fast and cleanly on SIGINT, as the official image does.
STOPSIGNAL SIGINT
EXPOSE 5432
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["postgres"]
