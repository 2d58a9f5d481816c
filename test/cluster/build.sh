#!/usr/bin/env bash
# Builds the Kubernetes server binaries (and kubectl, etcd, the pause and test programs) from their Go
# modules into $CACHE_DIR/bin, because no release binary or container image can be downloaded here.
# A second run finds every binary in the cache and returns at once.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# kubeadm is for the Kind node image of test/world/kind-node.sh (kind runs `kubeadm init` inside the node).
k8s_bins=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl kubeadm)
want=("${k8s_bins[@]}" etcd coredns pause testapp)
images=(pause testapp coredns)
# A testapp cached from an older version of its source is rebuilt (binary and image).
if [ "$(cat "$BIN_DIR/testapp.version" 2>/dev/null)" != "$TESTAPP_VERSION" ] && [ "${1:-}" != --check ]; then
	rm -f "$BIN_DIR/testapp" "$CACHE_DIR/images/testapp.tar"
fi
# CoreDNS with the plugins kubeadm's Corefile names (the Kind node image of test/world/kind-node.sh uses it too):
# one built with another plugin list is rebuilt.
COREDNS_PLUGINS="reload ready health prometheus errors log loadbalance cache kubernetes loop forward"
if [ "$(cat "$BIN_DIR/coredns.plugins" 2>/dev/null)" != "$COREDNS_PLUGINS" ] && [ "${1:-}" != --check ]; then
	rm -f "$BIN_DIR/coredns" "$CACHE_DIR/images/coredns.tar"
fi
missing=()
for b in "${want[@]}"; do [ -x "$BIN_DIR/$b" ] || missing+=("$b"); done
[ "$(cat "$BIN_DIR/testapp.version" 2>/dev/null)" = "$TESTAPP_VERSION" ] || missing+=("testapp v$TESTAPP_VERSION")
[ "$(cat "$BIN_DIR/coredns.plugins" 2>/dev/null)" = "$COREDNS_PLUGINS" ] || missing+=("coredns ($COREDNS_PLUGINS)")
for i in "${images[@]}"; do [ -s "$CACHE_DIR/images/$i.tar" ] || missing+=("$i.tar"); done
# --check: only say whether a build is needed (exit 3), so tests can tell a cheap start from a cold one.
if [ "${1:-}" = --check ]; then
	[ ${#missing[@]} -eq 0 ] && exit 0
	log "not built yet: ${missing[*]}"
	exit 3
fi
if [ ${#missing[@]} -eq 0 ]; then
	log "binaries and images for $K8S_VERSION cached in $CACHE_DIR"
	exit 0
fi
log "building ${missing[*]} into $BIN_DIR (first run only; several minutes on 2 cores)"

go=$(find_go)
mkdir -p "$BIN_DIR" "$CACHE_DIR/src"
export GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0
# Low priority: the machine's cores are shared with other work that should stay responsive.
gobuild() { nice -n 10 "$go" build -trimpath "$@"; }

# Kubernetes: a throwaway main module that requires k8s.io/kubernetes and points each staging module
# (k8s.io/api, k8s.io/client-go, ...; v0.0.0 in its go.mod) at the published v0.x of the same release.
need_k8s=0
for b in "${k8s_bins[@]}"; do [ -x "$BIN_DIR/$b" ] || need_k8s=1; done
if [ $need_k8s = 1 ]; then
	src=$CACHE_DIR/src/kubernetes
	mkdir -p "$src"
	staging=v0.${K8S_VERSION#v1.}
	if [ ! -s "$src/go.mod.done" ]; then
		modfile=$(cd "$src" && "$go" mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/^\s*"GoMod": "\(.*\)",\?$/\1/p')
		[ -s "$modfile" ] || die "could not download k8s.io/kubernetes@$K8S_VERSION from the Go module proxy"
		{
			echo 'module kdoctor.local/cluster-build'
			echo
			grep -m1 '^go ' "$modfile"
			grep -m1 '^godebug ' "$modfile" || true
			echo
			echo "require k8s.io/kubernetes $K8S_VERSION"
			echo
			echo 'replace ('
			sed -n 's#^\s*\(k8s.io/[a-z0-9-]*\) => ./staging/src/.*#\t\1 => \1 '"$staging"'#p' "$modfile" | grep -v 'sample-'
			echo ')'
		} >"$src/go.mod"
		# Blank imports of the commands so `go mod tidy` records every module they need.
		{
			echo '//go:build tools'
			echo
			echo 'package tools'
			echo
			echo 'import ('
			for b in "${k8s_bins[@]}"; do echo "	_ \"k8s.io/kubernetes/cmd/$b\""; done
			echo ')'
		} >"$src/tools.go"
		(cd "$src" && "$go" mod tidy) || die "go mod tidy failed in $src"
		cp "$src/go.mod" "$src/go.mod.done"
	fi
	# The same version stamps the release build sets, so nodes and `kubectl version` report $K8S_VERSION.
	minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
	ldflags="-s -w"
	for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
		ldflags+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
		ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
	done
	pkgs=()
	for b in "${k8s_bins[@]}"; do [ -x "$BIN_DIR/$b" ] || pkgs+=("k8s.io/kubernetes/cmd/$b"); done
	start=$(date +%s)
	(cd "$src" && gobuild -ldflags "$ldflags" -o "$BIN_DIR/" "${pkgs[@]}") || die "building ${pkgs[*]} failed"
	log "built ${pkgs[*]##*/} in $(( $(date +%s) - start ))s"
fi

# etcd: its server module keeps `replace` lines for its own repo, so `go install …@version` refuses it;
# a tiny main module calling etcdmain.Main builds the same server.
if [ ! -x "$BIN_DIR/etcd" ]; then
	src=$CACHE_DIR/src/etcd
	mkdir -p "$src"
	cat >"$src/main.go" <<-'EOF'
	package main

	import (
		"os"

		"go.etcd.io/etcd/server/v3/etcdmain"
	)

	func main() { etcdmain.Main(os.Args) }
	EOF
	printf 'module kdoctor.local/etcd-build\n\ngo 1.23\n\nrequire go.etcd.io/etcd/server/v3 %s\n' "$ETCD_VERSION" >"$src/go.mod"
	start=$(date +%s)
	(cd "$src" && "$go" mod tidy && gobuild -ldflags '-s -w' -o "$BIN_DIR/etcd" .) || die 'building etcd failed'
	log "built etcd $ETCD_VERSION in $(( $(date +%s) - start ))s"
fi

# CoreDNS for Service names inside pods (the demo's services find each other by name). A main of our
# own with only the plugins a Kind cluster's Corefile uses, not the cloud DNS plugins and their SDKs.
if [ ! -x "$BIN_DIR/coredns" ]; then
	src=$CACHE_DIR/src/coredns
	mkdir -p "$src"
	{
		printf 'package main\n\nimport (\n\t"github.com/coredns/coredns/core/dnsserver"\n\t"github.com/coredns/coredns/coremain"\n\n'
		# The metrics plugin is the one the prometheus directive names.
		for p in $COREDNS_PLUGINS; do printf '\t_ "github.com/coredns/coredns/plugin/%s"\n' "${p/prometheus/metrics}"; done
		printf ')\n\n// The upstream plugin order (core/dnsserver/zdirectives.go) restricted to the plugins imported above.\n'
		printf 'func init() {\n\tdnsserver.Directives = []string{'
		for p in $COREDNS_PLUGINS; do printf '"%s", ' "$p"; done
		printf '}\n}\n\nfunc main() { coremain.Run() }\n'
	} >"$src/main.go"
	printf 'module kdoctor.local/coredns-build\n\ngo 1.22.7\n\nrequire github.com/coredns/coredns %s\n' "$COREDNS_VERSION" >"$src/go.mod"
	start=$(date +%s)
	(cd "$src" && gofmt -w main.go 2>/dev/null; "$go" mod tidy && gobuild -ldflags '-s -w' -o "$BIN_DIR/coredns" .) || die 'building coredns failed'
	echo "$COREDNS_PLUGINS" >"$BIN_DIR/coredns.plugins"
	log "built coredns $COREDNS_VERSION in $(( $(date +%s) - start ))s"
fi

# The pause and test programs live in this repo; copied to the cache so their module stays self-contained.
for prog in pause testapp; do
	if [ ! -x "$BIN_DIR/$prog" ]; then
		(cd "$HERE/images/$prog" && GOFLAGS= gobuild -ldflags '-s -w' -o "$BIN_DIR/$prog" .) || die "building $prog failed"
	fi
done
# Images as `podman save` archives, the form Kind's `load image-archive` and kdoctor's import take.
# A private podman store, so these names never show up in (or clash with) the machine's own images.
mkdir -p "$CACHE_DIR/images"
pm=(podman --root "$CACHE_DIR/podman/root" --runroot "$CACHE_DIR/podman/runroot" --storage-driver vfs)
build_image() { # name ref binary [entrypoint args...]
	local name=$1 ref=$2 bin=$3 ctx
	shift 3
	[ -s "$CACHE_DIR/images/$name.tar" ] && return 0
	command -v podman >/dev/null || die 'podman is not installed (apt-get install podman runc)'
	ctx=$(mktemp -d)
	cp "$BIN_DIR/$bin" "$ctx/$bin"
	local entry
	entry=$(printf '"%s",' "/$bin" "$@")
	printf 'FROM scratch\nCOPY %s /%s\nENTRYPOINT [%s]\n' "$bin" "$bin" "${entry%,}" >"$ctx/Containerfile"
	"${pm[@]}" build -q -t "$ref" -f "$ctx/Containerfile" "$ctx" >/dev/null || die "podman build of $ref failed"
	rm -f "$CACHE_DIR/images/$name.tar.tmp"
	"${pm[@]}" save -q -o "$CACHE_DIR/images/$name.tar.tmp" "$ref" || die "podman save of $ref failed"
	mv "$CACHE_DIR/images/$name.tar.tmp" "$CACHE_DIR/images/$name.tar"
	rm -rf "$ctx"
}
build_image pause "$PAUSE_IMAGE" pause
build_image testapp "$TEST_IMAGE" testapp
echo "$TESTAPP_VERSION" >"$BIN_DIR/testapp.version"
build_image coredns "$COREDNS_IMAGE" coredns
log "binaries and images ready in $CACHE_DIR"
