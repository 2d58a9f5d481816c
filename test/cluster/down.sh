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

# stop NAME...: SIGTERM to each together, then SIGKILL to any still there after 10 s; only recorded
# pids, and only while they are still the processes we started.
stop() {
	local name pid i pids=() names=()
	for name in "$@"; do
		if running "$name"; then
			pid=$(pid_of "$name")
			log "stopping $name (pid $pid)"
			kill -TERM "$pid" 2>/dev/null || true
			pids+=("$pid")
			names+=("$name")
		fi
		rm -f "$RUN/$name.pid"
	done
	for ((i = 0; i < 100; i++)); do
		local alive=0
		for pid in "${pids[@]}"; do [ -d "/proc/$pid" ] && alive=1; done
		[ $alive = 0 ] && return 0
		sleep 0.1
	done
	for i in "${!pids[@]}"; do
		[ -d "/proc/${pids[$i]}" ] || continue
		log "${names[$i]} ignored SIGTERM; killing it"
		kill -KILL "${pids[$i]}" 2>/dev/null || true
	done
	sleep 0.2
}

forwards=()
for f in "$RUN"/forward-*.pid; do [ -e "$f" ] && forwards+=("$(basename "$f" .pid)"); done

# Pods first, through the API while it still runs: the kubelet then stops each sandbox through the
# CRI, which runs the CNI DEL that frees the pod's address, veth, netns and portmap rules.
stop ${forwards[@]+"${forwards[@]}"} kube-controller-manager kube-scheduler
if running kube-apiserver && running kubelet && [ -s "$KUBECONFIG_ADMIN" ]; then
	kubectl_ delete pods --all --all-namespaces --force --grace-period=0 --wait=false >/dev/null 2>&1 || true
	# Sandboxes (pause) are the last tasks to go; ctr lists them while they live.
	for ((i = 0; i < 60; i++)); do
		[ -z "$(ctr_ tasks ls -q 2>/dev/null)" ] && break
		sleep 0.5
	done
fi
stop kubelet kube-proxy
# kube-proxy's own teardown of its KUBE-* chains (iptables, and nftables/ipvs if it ever used them).
[ -x "$BIN_DIR/kube-proxy" ] && "$BIN_DIR/kube-proxy" --cleanup >/dev/null 2>&1 || true
stop kube-apiserver
stop etcd

# Whatever the kubelet did not tear down: kill and delete the tasks while containerd still runs.
if running containerd; then
	for t in $(ctr_ tasks ls -q 2>/dev/null); do
		ctr_ tasks kill -s SIGKILL "$t" >/dev/null 2>&1 || true
	done
	sleep 0.5
	for t in $(ctr_ tasks ls -q 2>/dev/null); do ctr_ tasks delete -f "$t" >/dev/null 2>&1 || true; done
fi
stop containerd

# ours TEXT: pids of the programs up.sh runs (never a shell, an editor or a `tail -f` of our logs)
# whose command line names TEXT. The shims of our containerd outlive it by design and name its socket.
ours() {
	local p cmd args
	for p in /proc/[0-9]*; do
		# Builtins only (no pipe into grep -q, whose early exit plus pipefail would turn a match into a miss).
		mapfile -d '' args <"$p/cmdline" 2>/dev/null || continue
		case "${args[0]:-}" in
		*/etcd | */kube-apiserver | */kube-controller-manager | */kube-scheduler | */kubelet | */kube-proxy) ;;
		containerd | */containerd | */containerd-shim-runc-v2 | socat | */socat) ;;
		*) continue ;;
		esac
		cmd="${args[*]}"
		[[ $cmd == *"$1"* ]] && echo "${p#/proc/}"
	done
	return 0
}
# They exit by themselves once their containers are gone: wait a little before killing any.
for ((i = 0; i < 30; i++)); do [ -z "$(ours "$CONTAINERD_SOCK")" ] && break; sleep 0.2; done
shims=$(ours "$CONTAINERD_SOCK")
if [ -n "$shims" ]; then
	log "killing leftover shims: $(echo $shims)"
	kill -KILL $shims 2>/dev/null || true
fi

# Mounts under the cluster folder (overlay rootfs, secret tmpfs, netns binds), deepest first.
awk -v d="$CLUSTER_DIR/" 'index($5, d) == 1 {print $5}' /proc/self/mountinfo | sort -r | while read -r m; do
	umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || log "could not unmount $m"
done

# The bridge, and the KUBE-* chains the kubelet makes (kube-proxy cleaned its own); the CNI plugins
# removed their CNI-* rules on each sandbox teardown, and podman may have CNI-* chains of its own.
if ip link show kdoctor0 >/dev/null 2>&1; then ip link delete kdoctor0 || log 'could not delete the kdoctor0 bridge'; fi
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

# The kubelet's cgroup tree (its default root, "kubepods"): empty once every pod process is gone.
for d in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/kubepods; do
	[ -d "$d" ] && { find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || log "could not remove all of $d"; }
done
if [ -s "$RUN/sysctl.saved" ]; then
	sed 's/ = /=/' "$RUN/sysctl.saved" | while read -r kv; do sysctl -q -w "$kv" >/dev/null 2>&1 || log "could not restore $kv"; done
fi

# Last, any process still naming the cluster folder (one whose pid file a failed run lost): ours too.
left=$(ours "$CLUSTER_DIR")
if [ -n "$left" ]; then
	log "stopping unrecorded processes of the cluster: $(echo $left)"
	kill -TERM $left 2>/dev/null || true
	for ((i = 0; i < 40; i++)); do [ -z "$(ours "$CLUSTER_DIR")" ] && break; sleep 0.25; done
	left=$(ours "$CLUSTER_DIR")
	if [ -n "$left" ]; then kill -KILL $left 2>/dev/null || true; sleep 0.5; fi
fi
left=$(ours "$CLUSTER_DIR")
if [ -n "$left" ]; then
	log "processes of the cluster still running: $(echo $left)"
	exit 1
fi
if awk -v d="$CLUSTER_DIR/" 'index($5, d) == 1' /proc/self/mountinfo | grep -q .; then
	log "mounts under $CLUSTER_DIR remain; keeping the folder"
	exit 1
fi
find "$CLUSTER_DIR" -mindepth 1 -maxdepth 1 ! -name logs -exec rm -rf {} +
log "down: no process of the cluster is running; logs kept in $LOGS"
