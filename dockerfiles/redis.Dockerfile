# Redis that behaves like redis:7-alpine (redis-server on 6379 reachable from other pods, redis-cli on PATH),
# built from Debian's Redis 7 so it builds offline on a base that already has the package.
# Context: dockerfiles/data.
ARG BASE_IMAGE=docker.io/library/debian:bookworm-slim
FROM ${BASE_IMAGE}
RUN if ! command -v redis-server >/dev/null; then \
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server \
      && rm -rf /var/lib/apt/lists/*; \
    fi
COPY redis-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
RUN chmod 0755 /usr/local/bin/docker-entrypoint.sh && mkdir -p /data && chown redis:redis /data
WORKDIR /data
USER redis
EXPOSE 6379
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["redis-server"]
