#!/usr/bin/env bash
# Builds the peers bench/live.mjs runs beside kdoctor, k8sgpt and Popeye at pinned versions, from the Go module
# proxy: `go install MOD@VERSION` is refused here (the proxy withholds the version list), so the module is
# downloaded at its exact version and built in a writable copy. Cached: a second run returns at once.
set -euo pipefail
DIR=${KDOCTOR_PEERS_DIR:-/var/cache/kdoctor-peers}
GO=$(command -v go || echo /usr/local/go/bin/go)
[ -x "$GO" ] || { echo "peers: go is not installed (test/world/setup.sh installs it)" >&2; exit 2; }
mkdir -p "$DIR"
build() { # name module version package
	local name=$1 mod=$2 ver=$3 pkg=$4 src
	if [ -x "$DIR/$name" ] && [ "$(cat "$DIR/$name.version" 2>/dev/null)" = "$ver" ]; then return 0; fi
	echo "peers: building $name $ver from $mod (first run only)" >&2
	src=$(GOFLAGS=-mod=mod "$GO" mod download -json "$mod@$ver" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	[ -d "$src" ] || { echo "peers: go mod download of $mod@$ver gave no folder" >&2; exit 1; }
	rm -rf "$DIR/src-$name"
	cp -r "$src" "$DIR/src-$name"
	chmod -R u+w "$DIR/src-$name"
	(cd "$DIR/src-$name" && CGO_ENABLED=0 GOTOOLCHAIN=local nice -n 10 "$GO" build -trimpath -o "$DIR/$name.tmp" "$pkg")
	mv "$DIR/$name.tmp" "$DIR/$name"
	echo "$ver" >"$DIR/$name.version"
}
build k8sgpt github.com/k8sgpt-ai/k8sgpt v0.4.36 .
build popeye github.com/derailed/popeye v0.22.1 .
echo "peers: k8sgpt and popeye ready in $DIR" >&2
