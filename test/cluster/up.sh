#!/usr/bin/env bash
# Brings up a single-node Kubernetes on this machine from upstream parts (etcd, the control plane,
# a real kubelet on containerd, kube-proxy, CoreDNS), the stand-in for a Kind cluster where Kind's
# node image cannot be pulled. Idempotent: running parts are kept, missing parts are started.
# Prints the admin kubeconfig path as its last stdout line; everything else goes to stderr.
#
# Env: KDOCTOR_CLUSTER_DIR (state, default /tmp/kdoctor-cluster), KDOCTOR_CLUSTER_CACHE (binaries),
# KDOCTOR_CLUSTER_PORTS="8080:30080,..." (host port → NodePort forwards, as Kind's extraPortMappings).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# One up or down at a time: test files run in parallel workers and may all ask for the cluster at once.
exec 9>"$CLUSTER_DIR.lock"
flock 9

t0=$(date +%s)
[ "$(id -u)" = 0 ] || die 'up.sh must run as root (containerd, kubelet, iptables and mounts need it)'
[ "$(uname -s)" = Linux ] || die "a local cluster needs Linux; this is $(uname -s)"

# Debian packages the node needs; installed only when missing so a warm run never touches apt.
source "$(dirname "${BASH_SOURCE[0]}")/../lib/packages.sh"
ensure_packages cluster containerd runc containernetworking-plugins iptables conntrack socat openssl podman curl

bash "$HERE/build.sh"

mkdir -p "$CLUSTER_DIR" "$RUN" "$LOGS"
chmod 700 "$CLUSTER_DIR"

# The address pods and the API server's `kubernetes` Service use for this node: the default route's.
dev=$(ip -4 route show default | sed -n 's/.* dev \([^ ]*\).*/\1/p' | head -1)
node_ip=$(ip -4 -o addr show ${dev:+dev "$dev"} scope global | awk '{print $4}' | cut -d/ -f1 | head -1)
[ -n "$node_ip" ] || die 'this host has no non-loopback IPv4 address for the node'
echo "$node_ip" >"$RUN/node-ip"
bash "$HERE/certs.sh" "$node_ip"

# start NAME CMD...: runs CMD detached (own session, output to logs/NAME.log) unless already up.
start() {
	local name=$1
	shift
	if running "$name"; then return 0; fi
	log "starting $name"
	# 9>&- : the daemons must not inherit the lock, or every later up/down would wait on them forever.
	setsid "$@" >>"$LOGS/$name.log" 2>&1 </dev/null 9>&- &
	record "$name" $!
}

# wait_for WHAT SECONDS CMD...: polls CMD until it succeeds; on timeout shows the log that explains why.
wait_for() {
	local what=$1 secs=$2 i
	shift 2
	for ((i = 0; i < secs * 2; i++)); do
		if "$@" >/dev/null 2>&1; then return 0; fi
		sleep 0.5
	done
	log "timed out after ${secs}s waiting for $what"
	return 1
}
show_log() { log "last lines of $LOGS/$1.log:"; tail -n 25 "$LOGS/$1.log" >&2 || true; exit 1; }
alive_or_log() { running "$1" || { log "$1 exited"; show_log "$1"; }; }
# A port another program holds would make NAME fail later with a less clear message.
need_port() {
	running "$2" && return 0
	ss -Htln "sport = :$1" | grep -q . || return 0
	die "port $1, which $2 needs, is taken: $(ss -Htlnp "sport = :$1" | sed -n 's/.*users:((\("[^"]*",pid=[0-9]*\).*/\1/p' | head -1) (another cluster? try npm run cluster:down)"
}
need_port 2379 etcd
need_port "$API_PORT" kube-apiserver
need_port 10250 kubelet

start etcd "$BIN_DIR/etcd" --name "$NODE_NAME" --data-dir "$CLUSTER_DIR/etcd" \
	--listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
	--listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
	--initial-cluster "$NODE_NAME=http://127.0.0.1:2380" --listen-metrics-urls http://127.0.0.1:2381 \
	--quota-backend-bytes 2147483648 --log-level warn

# containerd with a private root, state, socket and CNI config, so it never meets the system one.
mkdir -p "$CLUSTER_DIR/containerd" "$CLUSTER_DIR/cni/net.d"
write_if_changed "$CLUSTER_DIR/containerd/config.toml" <<EOF
version = 2
root = "$CLUSTER_DIR/containerd/root"
state = "$CLUSTER_DIR/containerd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]
[grpc]
  address = "$CONTAINERD_SOCK"
[ttrpc]
  address = "$CONTAINERD_SOCK.ttrpc"
[debug]
  address = "$RUN/containerd-debug.sock"
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "$CLUSTER_DIR/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  netns_mounts_under_state_dir = true
  enable_unprivileged_ports = true
  # This root lacks CAP_SYS_RESOURCE, so runc cannot set the negative oom_score_adj the CRI asks for
  # (pause: -998); clamp it to containerd's own instead of failing every sandbox.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "$RUN/runc"
        BinaryName = "$(command -v runc)"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$CLUSTER_DIR/cni/net.d"
EOF
# bridge + host-local give each pod an address on kdoctor0; portmap serves hostPort; containerd adds loopback itself.
write_if_changed "$CLUSTER_DIR/cni/net.d/10-kdoctor.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "kdoctor",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "kdoctor0",
      "isGateway": true,
      "ipMasq": true,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{"subnet": "$POD_CIDR"}]],
        "routes": [{"dst": "0.0.0.0/0"}],
        "dataDir": "$CLUSTER_DIR/cni/ipam"
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF
start containerd containerd --config "$CLUSTER_DIR/containerd/config.toml"
wait_for containerd 30 ctr_ version || show_log containerd

# Images go in the way `kind load image-archive` puts them in a Kind node: a containerd import of a podman save.
have=$(ctr_ images ls -q)
for i in pause testapp coredns; do
	ref=$(tar -xOf "$CACHE_DIR/images/$i.tar" manifest.json | sed -n 's/.*"RepoTags":\["\([^"]*\)".*/\1/p')
	if ! grep -qx "$ref" <<<"$have"; then
		ctr_ images import --all-platforms "$CACHE_DIR/images/$i.tar" >/dev/null || die "importing $i.tar into containerd failed"
	fi
done

wait_for etcd 30 curl -fsS http://127.0.0.1:2379/health || show_log etcd
start kube-apiserver "$BIN_DIR/kube-apiserver" \
	--advertise-address "$node_ip" --bind-address 0.0.0.0 --secure-port "$API_PORT" \
	--etcd-servers http://127.0.0.1:2379 \
	--client-ca-file "$PKI/ca.crt" --tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" \
	--kubelet-client-certificate "$PKI/apiserver-kubelet-client.crt" --kubelet-client-key "$PKI/apiserver-kubelet-client.key" \
	--kubelet-preferred-address-types InternalIP,Hostname \
	--service-account-issuer https://kubernetes.default.svc.cluster.local \
	--service-account-key-file "$PKI/sa.pub" --service-account-signing-key-file "$PKI/sa.key" \
	--service-cluster-ip-range "$SERVICE_CIDR" --authorization-mode Node,RBAC \
	--enable-admission-plugins NodeRestriction --allow-privileged=true --profiling=false
apiserver_ready() {
	curl -fsS --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" "https://127.0.0.1:$API_PORT/readyz"
}
wait_for kube-apiserver 120 apiserver_ready || show_log kube-apiserver

start kube-controller-manager "$BIN_DIR/kube-controller-manager" \
	--kubeconfig "$PKI/controller-manager.kubeconfig" \
	--authentication-kubeconfig "$PKI/controller-manager.kubeconfig" --authorization-kubeconfig "$PKI/controller-manager.kubeconfig" \
	--bind-address 127.0.0.1 --leader-elect=false --use-service-account-credentials=true \
	--service-account-private-key-file "$PKI/sa.key" --root-ca-file "$PKI/ca.crt" \
	--cluster-signing-cert-file "$PKI/ca.crt" --cluster-signing-key-file "$PKI/ca.key" \
	--service-cluster-ip-range "$SERVICE_CIDR" --cluster-cidr "$POD_CIDR" --allocate-node-cidrs=false
start kube-scheduler "$BIN_DIR/kube-scheduler" \
	--kubeconfig "$PKI/scheduler.kubeconfig" \
	--authentication-kubeconfig "$PKI/scheduler.kubeconfig" --authorization-kubeconfig "$PKI/scheduler.kubeconfig" \
	--bind-address 127.0.0.1 --leader-elect=false

# kubelet: cgroupfs because this host has cgroup v1 and no systemd; evictions and image GC only at
# the very edge, since the disk is shared with other work and a DiskPressure taint would break tests.
mkdir -p "$CLUSTER_DIR/kubelet"
write_if_changed "$CLUSTER_DIR/kubelet/config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $PKI/ca.crt}
authorization: {mode: Webhook}
cgroupDriver: cgroupfs
containerRuntimeEndpoint: unix://$CONTAINERD_SOCK
imageServiceEndpoint: unix://$CONTAINERD_SOCK
clusterDomain: cluster.local
clusterDNS: [$DNS_IP]
failSwapOn: false
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
rotateCertificates: false
serializeImagePulls: false
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: 100Mi, nodefs.available: 1%, nodefs.inodesFree: 1%, imagefs.available: 1%}
resolvConf: /etc/resolv.conf
EOF
# Saved once per cluster life, before anything changes them, so down.sh can leave the host as it was.
[ -s "$RUN/sysctl.saved" ] || sysctl -e "${NODE_SYSCTLS[@]}" >"$RUN/sysctl.saved" 2>/dev/null || true
start kubelet "$BIN_DIR/kubelet" --config "$CLUSTER_DIR/kubelet/config.yaml" \
	--kubeconfig "$PKI/kubelet.kubeconfig" --hostname-override "$NODE_NAME" --node-ip "$node_ip" \
	--root-dir "$CLUSTER_DIR/kubelet/root" --cert-dir "$CLUSTER_DIR/kubelet/pki"

# kube-proxy in iptables mode; NodePorts answer on every local address, 127.0.0.1 included.
write_if_changed "$CLUSTER_DIR/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: $PKI/kube-proxy.kubeconfig}
mode: iptables
clusterCIDR: $POD_CIDR
hostnameOverride: $NODE_NAME
bindAddress: 127.0.0.1
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
conntrack: {maxPerCore: 0}
EOF
start kube-proxy "$BIN_DIR/kube-proxy" --config "$CLUSTER_DIR/kube-proxy.yaml"

for c in kube-controller-manager kube-scheduler kubelet kube-proxy; do sleep 0.2; alive_or_log "$c"; done

node_ready() { kubectl_ get node "$NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' | grep -qx True; }
wait_for "node $NODE_NAME to be Ready" 180 node_ready || { kubectl_ describe node "$NODE_NAME" >&2 || true; show_log kubelet; }

# CoreDNS at 10.96.0.10, as in a Kind cluster, so pods find Services by name.
sed -e "s#@IMAGE@#$COREDNS_IMAGE#" -e "s#@DNS_IP@#$DNS_IP#" "$HERE/coredns.yaml" | kubectl_ apply -f - >/dev/null
# The smoke pod: the locally built image, imported above, never pulled. Pods are refused until the
# controller-manager has made the namespace's default ServiceAccount.
kubectl_ create namespace kdoctor-cluster-check >/dev/null 2>&1 || true
wait_for 'the default ServiceAccount' 60 kubectl_ -n kdoctor-cluster-check get serviceaccount default || show_log kube-controller-manager
kubectl_ apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Pod
metadata: {name: smoke, namespace: kdoctor-cluster-check, labels: {app: smoke}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: $TEST_IMAGE
    imagePullPolicy: Never
    readinessProbe:
      httpGet: {path: /, port: 8080}
      periodSeconds: 1
EOF
pod_ready() { kubectl_ -n kdoctor-cluster-check get pod smoke -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' | grep -qx True; }
wait_for 'the smoke pod to run' 120 pod_ready || { kubectl_ -n kdoctor-cluster-check describe pod smoke >&2 || true; show_log kubelet; }
dns_ready() { kubectl_ -n kube-system get deploy coredns -o jsonpath='{.status.readyReplicas}' | grep -qx 1; }
wait_for 'CoreDNS' 120 dns_ready || { kubectl_ -n kube-system describe pods -l k8s-app=kube-dns >&2 || true; exit 1; }

# Host port → NodePort forwards, for flows written against Kind's extraPortMappings.
IFS=',' read -r -a pairs <<<"${KDOCTOR_CLUSTER_PORTS:-}"
for pair in "${pairs[@]}"; do
	[ -n "$pair" ] || continue
	host=${pair%%:*} nodeport=${pair##*:}
	start "forward-$host" socat "TCP-LISTEN:$host,bind=127.0.0.1,reuseaddr,fork" "TCP:127.0.0.1:$nodeport"
	echo "$nodeport" >"$RUN/forward-$host.nodeport"
done
# Every forward still running, including those an earlier run started.
ports=()
for f in "$RUN"/forward-*.pid; do
	[ -e "$f" ] || continue
	host=$(basename "$f" .pid); host=${host#forward-}
	running "forward-$host" && ports+=("{\"hostPort\": $host, \"nodePort\": $(cat "$RUN/forward-$host.nodeport")}")
done

cat >"$CLUSTER_DIR/cluster.json" <<EOF
{
  "kubeconfig": "$KUBECONFIG_ADMIN",
  "containerdSocket": "$CONTAINERD_SOCK",
  "containerdNamespace": "k8s.io",
  "version": "$K8S_VERSION",
  "nodeName": "$NODE_NAME",
  "nodeIP": "$node_ip",
  "kubelet": "kubelet",
  "testImage": "$TEST_IMAGE",
  "binDir": "$BIN_DIR",
  "portForwards": [$(IFS=,; echo "${ports[*]:-}")]
}
EOF
log "up in $(( $(date +%s) - t0 ))s: Kubernetes $K8S_VERSION, node $NODE_NAME Ready, real kubelet on containerd"
echo "$KUBECONFIG_ADMIN"
