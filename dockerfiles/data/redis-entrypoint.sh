#!/bin/sh
# Like redis:7-alpine's entrypoint: flags go to redis-server, and without a config file Redis listens on every
# interface but refuses non-loopback clients (protected mode), which would make every other pod fail; so turn it off
# unless the caller set it.
set -eu
case "${1:-}" in -*) set -- redis-server "$@" ;; esac
if [ "${1:-}" = redis-server ]; then
	case " $* " in *" --protected-mode "*) ;; *) set -- "$@" --protected-mode no ;; esac
fi
exec "$@"
