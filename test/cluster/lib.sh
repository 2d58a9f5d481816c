# Shared settings for the local cluster scripts (sourced, not run): one place for versions and paths
# so up.sh, down.sh and build.sh can never disagree about where things live.

# One pinned Kubernetes release: the newest 1.33 patch the Go module proxy serves that builds with Go 1.26.
K8S_VERSION=${KDOCTOR_K8S_VERSION:-v1.33.13}
# Debian 12 ships etcd 3.4, below the 3.5 that Kubernetes 1.31+ is tested against, so etcd is built too
# (3.5.21 is the client version k8s.io/kubernetes v1.33.13 itself requires).
ETCD_VERSION=${KDOCTOR_ETCD_VERSION:-v3.5.21}
PAUSE_IMAGE=registry.k8s.io/pause:3.10
# Bumped with every change to images/testapp: build.sh rebuilds a cached testapp of another version.
TESTAPP_VERSION=2
TEST_IMAGE=localhost/kdoctor-cluster/testapp:$TESTAPP_VERSION
COREDNS_VERSION=${KDOCTOR_COREDNS_VERSION:-v1.12.0}
COREDNS_IMAGE=localhost/kdoctor-cluster/coredns:${COREDNS_VERSION#v}
NODE_NAME=${KDOCTOR_CLUSTER_NODE:-kdoctor-node}

CLUSTER_DIR=${KDOCTOR_CLUSTER_DIR:-/tmp/kdoctor-cluster}
CACHE_ROOT=${KDOCTOR_CLUSTER_CACHE:-/var/cache/kdoctor-cluster}
CACHE_DIR=$CACHE_ROOT/$K8S_VERSION
BIN_DIR=$CACHE_DIR/bin
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

PKI=$CLUSTER_DIR/pki
RUN=$CLUSTER_DIR/run
LOGS=$CLUSTER_DIR/logs
KUBECONFIG_ADMIN=$CLUSTER_DIR/admin.kubeconfig
CONTAINERD_SOCK=$RUN/containerd.sock
API_PORT=${KDOCTOR_CLUSTER_API_PORT:-6443}
# Not podman's 10.88.0.0/16: its podman0 bridge already routes that range on this host.
POD_CIDR=10.244.0.0/16
SERVICE_CIDR=10.96.0.0/12
DNS_IP=10.96.0.10

# Kernel settings the kubelet and kube-proxy change on start (host-wide): up.sh saves them, down.sh puts them back.
NODE_SYSCTLS=(vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops kernel.keys.root_maxkeys
	kernel.keys.root_maxbytes net.ipv4.conf.all.route_localnet)

# Every message on stderr so the last stdout line of up.sh stays the kubeconfig path.
log() { printf 'cluster: %s\n' "$*" >&2; }
die() { printf 'cluster: %s\n' "$*" >&2; exit 1; }

# A Go new enough for Kubernetes 1.33 (go 1.24): Debian's golang-go (1.19) on PATH is not.
find_go() {
	local g v
	for g in "$(command -v go 2>/dev/null)" /usr/local/go/bin/go; do
		[ -n "$g" ] && [ -x "$g" ] || continue
		v=$("$g" env GOVERSION 2>/dev/null) || continue
		v=${v#go}
		if [ "${v%%.*}" -gt 1 ] || { [ "${v%%.*}" = 1 ] && [ "$(echo "$v" | cut -d. -f2)" -ge 24 ]; }; then
			echo "$g"
			return 0
		fi
	done
	die 'Go 1.24 or newer is needed to build Kubernetes 1.33 from the k8s.io/kubernetes module (none on PATH or in /usr/local/go)'
}

# The binaries and tools the scripts run, all from the cache or Debian.
kubectl_() { "$BIN_DIR/kubectl" --kubeconfig "$KUBECONFIG_ADMIN" "$@"; }
ctr_() { ctr --address "$CONTAINERD_SOCK" --namespace k8s.io "$@"; }

# Writes stdin to FILE only when it differs: kube-proxy exits when its config file changes under it.
write_if_changed() {
	local tmp
	tmp=$(mktemp "$1.XXXXXX")
	cat >"$tmp"
	if cmp -s "$tmp" "$1"; then rm -f "$tmp"; else mv -f "$tmp" "$1"; fi
}

# A process's start time (field 22 of /proc/PID/stat, after the command name that may hold spaces):
# with the pid it names one process for good, since pids get reused but never with the same start time.
starttime() {
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	s=${s##*) }
	# shellcheck disable=SC2086 # splitting the fields is the point
	set -- $s
	echo "${20}"
}

# Records a started process as "PID STARTTIME" in run/NAME.pid.
record() { echo "$2 $(starttime "$2" || true)" >"$RUN/$1.pid"; }

# True when the process recorded in run/NAME.pid is still the one we started.
running() {
	local f=$RUN/$1.pid pid st
	[ -f "$f" ] || return 1
	read -r pid st <"$f" || true
	[ -n "$pid" ] && [ -n "$st" ] && [ "$(starttime "$pid" || true)" = "$st" ]
}

# The recorded pid of NAME (first field of its pid file).
pid_of() { local pid _; read -r pid _ <"$RUN/$1.pid"; echo "$pid"; }
