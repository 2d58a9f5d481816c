#!/usr/bin/env bash
# Builds the real kind CLI from its Go module (no binary downloads reach this machine) into the
# test-world cache, so adapter tests can run `kind version`, `kind get clusters` and a failing create.
# Usage: test/world/kind.sh [version]   (default v0.32.0, the minimum Kubernaut requires)
# Prints the path of the kind binary on its last line.
set -euo pipefail

version="${1:-${KDOCTOR_KIND_VERSION:-v0.32.0}}"

if [ "$(id -u)" = 0 ]; then
	cache="${KDOCTOR_WORLD_CACHE:-/var/cache/kdoctor-world}/bin"
else
	cache="${KDOCTOR_WORLD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kdoctor-world}/bin"
fi
mkdir -p "$cache"

bin="$cache/kind"
if [ -x "$bin" ] && "$bin" version 2>/dev/null | grep -q "kind ${version} "; then
	echo "kind.sh: $("$bin" version) already at $bin" >&2
	echo "$bin"
	exit 0
fi

gobin="$(command -v go || true)"
[ -z "$gobin" ] && [ -x /usr/local/go/bin/go ] && gobin=/usr/local/go/bin/go
if [ -z "$gobin" ]; then
	echo "kind.sh: go is not installed (needed to build kind from sigs.k8s.io/kind)" >&2
	exit 1
fi

# The proxy may lack the requested version: fall back to the newest it has and say so.
if ! (cd /tmp && "$gobin" list -m "sigs.k8s.io/kind@${version}" >/dev/null 2>&1); then
	newest="$(cd /tmp && "$gobin" list -m -versions sigs.k8s.io/kind | tr ' ' '\n' | tail -1)"
	echo "kind.sh: sigs.k8s.io/kind@${version} is not on the module proxy; using the newest it has: ${newest}" >&2
	version="$newest"
fi

start=$(date +%s)
# A temp GOBIN then a rename, so a half-built binary never sits at $bin.
tmp="$(mktemp -d "$cache/.kind-build.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
(cd /tmp && GOBIN="$tmp" CGO_ENABLED=0 "$gobin" install "sigs.k8s.io/kind@${version}")
mv -f "$tmp/kind" "$bin"
echo "kind.sh: built $("$bin" version) in $(( $(date +%s) - start ))s at $bin" >&2
echo "$bin"
