#!/usr/bin/env bash
# Stops everything up.sh started, by the pids it recorded, tears down pod sandboxes so their network
# namespaces, addresses and iptables rules go with them, unmounts what the node mounted, and removes the
# state (logs stay in $CLUSTER_DIR/logs). Exits non-zero if any process of the cluster is left.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# One up or down at a time: test files run in parallel workers and may all ask for the cluster at once.
exec 9>"$CLUSTER_DIR.lock"
flock 9

[ "$(id -u)" = 0 ] || die 'down.sh must run as root'
[ -d "$CLUSTER_DIR" ] || { log "nothing to stop: $CLUSTER_DIR does not exist"; exit 0; }

# stop NAME PATTERN: SIGTERM, then SIGKILL after 10 s; only the recorded pid, and only if it is still ours.
stop() {
	local name=$1 pattern=$2 pid i
	if running "$name" "$pattern"; then
		pid=$(cat "$RUN/$name.pid")
		log "stopping $name (pid $pid)"
		kill -TERM "$pid" 2>/dev/null || true
		for ((i = 0; i < 40; i++)); do [ -d "/proc/$pid" ] || break; sleep 0.25; done
		[ -d "/proc/$pid" ] && { log "$name ignored SIGTERM; killing it"; kill -KILL "$pid" 2>/dev/null || true; sleep 0.2; }
	fi
	rm -f "$RUN/$name.pid"
}

for f in "$RUN"/forward-*.pid; do
	[ -e "$f" ] || continue
	n=$(basename "$f" .pid)
	stop "$n" "TCP-LISTEN:${n#forward-},"
done

# Pods first, through the API while it still runs: the kubelet then stops each sandbox through the
# CRI, which runs the CNI DEL that frees the pod's address, veth, netns and portmap rules.
stop kube-controller-manager "$BIN_DIR/kube-controller-manager"
stop kube-scheduler "$BIN_DIR/kube-scheduler"
if running kube-apiserver "$BIN_DIR/kube-apiserver" && running kubelet "$BIN_DIR/kubelet" && [ -s "$KUBECONFIG_ADMIN" ]; then
	kubectl_ delete pods --all --all-namespaces --force --grace-period=0 --wait=false >/dev/null 2>&1 || true
	# Sandboxes (pause) are the last tasks to go; ctr lists them while they live.
	for ((i = 0; i < 60; i++)); do
		[ -z "$(ctr_ tasks ls -q 2>/dev/null)" ] && break
		sleep 0.5
	done
fi
stop kubelet "$BIN_DIR/kubelet"
stop kube-proxy "$BIN_DIR/kube-proxy"
# kube-proxy's own teardown of its KUBE-* chains (iptables, and nftables/ipvs if it ever used them).
[ -x "$BIN_DIR/kube-proxy" ] && "$BIN_DIR/kube-proxy" --cleanup >/dev/null 2>&1 || true
stop kube-apiserver "$BIN_DIR/kube-apiserver"
stop etcd "$BIN_DIR/etcd"

# Whatever the kubelet did not tear down: kill and delete the tasks while containerd still runs.
if running containerd "$CLUSTER_DIR/containerd/config.toml"; then
	for t in $(ctr_ tasks ls -q 2>/dev/null); do
		ctr_ tasks kill -s SIGKILL "$t" >/dev/null 2>&1 || true
	done
	sleep 0.5
	for t in $(ctr_ tasks ls -q 2>/dev/null); do ctr_ tasks delete -f "$t" >/dev/null 2>&1 || true; done
fi
stop containerd "$CLUSTER_DIR/containerd/config.toml"

# Shims of our containerd outlive it by design; they name our socket on their command line.
ours() {
	local p
	for p in /proc/[0-9]*; do
		{ tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null | grep -qF -- "$1" && echo "${p#/proc/}"
	done
	return 0
}
for pid in $(ours "$CONTAINERD_SOCK"); do
	log "killing leftover shim $pid"
	kill -KILL "$pid" 2>/dev/null || true
done

# Mounts under the cluster folder (overlay rootfs, secret tmpfs, netns binds), deepest first.
awk -v d="$CLUSTER_DIR/" 'index($5, d) == 1 {print $5}' /proc/self/mountinfo | sort -r | while read -r m; do
	umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || log "could not unmount $m"
done

# The bridge, and the KUBE-* chains the kubelet makes (kube-proxy cleaned its own); the CNI plugins
# removed their CNI-* rules on each sandbox teardown, and podman may have CNI-* chains of its own.
ip link show kdoctor0 >/dev/null 2>&1 && ip link delete kdoctor0
for table in nat filter mangle; do
	for chain in $(iptables -t "$table" -S 2>/dev/null | awk '$1 == "-N" && ($2 ~ /^KUBE-/) {print $2}'); do
		iptables -t "$table" -S | awk -v c="$chain" '$1 == "-A" && $0 ~ ("-j " c "( |$)") {sub(/^-A/, "-D"); print}' | while read -r rule; do
			eval "iptables -t $table $rule" 2>/dev/null || true
		done
	done
	for chain in $(iptables -t "$table" -S 2>/dev/null | awk '$1 == "-N" && ($2 ~ /^KUBE-/) {print $2}'); do
		iptables -t "$table" -F "$chain" 2>/dev/null || true
	done
	for chain in $(iptables -t "$table" -S 2>/dev/null | awk '$1 == "-N" && ($2 ~ /^KUBE-/) {print $2}'); do
		iptables -t "$table" -X "$chain" 2>/dev/null || true
	done
done

if [ -s "$RUN/sysctl.saved" ]; then
	sed 's/ = /=/' "$RUN/sysctl.saved" | while read -r kv; do sysctl -q -w "$kv" >/dev/null 2>&1 || log "could not restore $kv"; done
fi

left=$(ours "$CLUSTER_DIR")
if [ -n "$left" ]; then
	log "processes of the cluster still running: $left"
	exit 1
fi
if awk -v d="$CLUSTER_DIR/" 'index($5, d) == 1' /proc/self/mountinfo | grep -q .; then
	log "mounts under $CLUSTER_DIR remain; keeping the folder"
	exit 1
fi
find "$CLUSTER_DIR" -mindepth 1 -maxdepth 1 ! -name logs -exec rm -rf {} +
log "down: no process of the cluster is running; logs kept in $LOGS"
