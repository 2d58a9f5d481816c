#!/usr/bin/env bash
# Builds a Kind node image here from upstream parts, because `kindest/node` cannot be pulled on these machines:
#   a Debian 12 rootfs (debootstrap: systemd, containerd, runc, CNI plugins, iptables), kind's own base files
#   (entrypoint, systemd units, kubelet drop-ins: read from the sigs.k8s.io/kind module, not copied into this repo),
#   kubeadm/kubelet/kubectl and the control-plane images from the k8s.io/kubernetes module (test/cluster/build.sh),
#   crictl from sigs.k8s.io/cri-tools, test/cluster's CoreDNS (kubeadm's Corefile plugins), and a bridge CNI config of
#   our own in place of kindnetd. The image is `localhost/kdoctor-world/kind-node:<k8s version>`.
# Usage: test/world/kind-node.sh [--check]    (--check: exit 3 when a build is due, 0 when the image is current)
# Cached: the rootfs, binaries and image archives under $KDOCTOR_WORLD_CACHE/kind-node/<version>; a rerun whose
# image carries the current revision label returns at once. Prints the image name on its last stdout line.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$repo/test/cluster/lib.sh"

# Bumped with every change to what goes into the image: an older image is rebuilt.
NODE_REV=4
KIND_MODULE_VERSION=${KDOCTOR_KIND_VERSION:-v0.32.0}
CRICTL_VERSION=v1.34.0
image=${KDOCTOR_KIND_NODE_IMAGE:-localhost/kdoctor-world/kind-node:$K8S_VERSION}
wcache=${KDOCTOR_WORLD_CACHE:-/var/cache/kdoctor-world}/kind-node/$K8S_VERSION
mirror=${KDOCTOR_WORLD_MIRROR:-http://deb.debian.org/debian}
say() { printf 'kind-node: %s\n' "$*" >&2; }
fail() { printf 'kind-node: %s\n' "$*" >&2; exit 1; }

# kind bind-mounts the host's /lib/modules into every node; a kernel without modules on disk (this VM's) has none.
if [ "${1:-}" != --check ] && [ ! -e /lib/modules ] && [ "$(id -u)" = 0 ]; then
	mkdir -p /lib/modules && say 'made an empty /lib/modules (kind mounts it into the node; this kernel ships none)'
fi

current() { [ "$(podman image inspect --format '{{index .Labels "kdoctor.world.kind-node.rev"}}' "$image" 2>/dev/null)" = "$NODE_REV" ]; }
if [ "${1:-}" = --check ]; then
	current && exit 0
	say "$image (revision $NODE_REV) not built yet"
	exit 3
fi
if current; then
	say "$image (revision $NODE_REV) already built"
	echo "$image"
	exit 0
fi
[ "$(id -u)" = 0 ] || fail 'must run as root (debootstrap, podman import)'
for b in podman debootstrap tar; do command -v "$b" >/dev/null || fail "$b is not installed"; done

start=$(date +%s)
mkdir -p "$wcache/bin" "$wcache/images"
"$repo/test/cluster/build.sh" >&2 || fail 'test/cluster/build.sh failed (the Kubernetes binaries come from there)'
go=$(find_go)
export GOTOOLCHAIN=local CGO_ENABLED=0

if [ ! -x "$wcache/bin/crictl" ]; then
	tmp=$(mktemp -d)
	(cd /tmp && GOBIN="$tmp" nice -n 10 "$go" install -trimpath -ldflags '-s -w' "sigs.k8s.io/cri-tools/cmd/crictl@$CRICTL_VERSION") || fail 'building crictl failed'
	mv "$tmp/crictl" "$wcache/bin/crictl" && rm -rf "$tmp"
	say "built crictl $CRICTL_VERSION"
fi
# kind's base files (entrypoint, units, drop-ins) from its module, the version this project's kind CLI is built from.
kinddir=$(cd /tmp && "$go" mod download -json "sigs.k8s.io/kind@$KIND_MODULE_VERSION" | sed -n 's/^\s*"Dir": "\(.*\)",\?$/\1/p')
[ -d "$kinddir/images/base/files" ] || fail "sigs.k8s.io/kind@$KIND_MODULE_VERSION has no images/base/files"
base=$kinddir/images/base/files

# Two Debian roots, each made once: the node's, and a small one with iptables for the kube-proxy image.
debroot() { # DIR PACKAGES
	local dir=$1 pkgs=$2
	[ -e "$dir/.complete" ] && return 0
	say "debootstrap bookworm ($pkgs) into $dir"
	rm -rf "$dir.partial"
	debootstrap --variant=minbase --include="$pkgs" bookworm "$dir.partial" "$mirror" >"$dir.log" 2>&1 || fail "debootstrap failed: see $dir.log"
	rm -rf "$dir.partial"/var/cache/apt/archives/*.deb "$dir.partial"/var/lib/apt/lists/*
	touch "$dir.partial/.complete"
	rm -rf "$dir" && mv "$dir.partial" "$dir"
}
debroot "$wcache/rootfs" systemd,systemd-sysv,dbus,containerd,runc,containernetworking-plugins,iptables,nftables,conntrack,iproute2,ethtool,util-linux,mount,kmod,libseccomp2,pigz,e2fsprogs,ca-certificates,procps,socat
debroot "$wcache/proxy-rootfs" iptables,conntrack

# The images kubeadm asks for, each made from a binary: names exactly as `kubeadm config images list` prints them.
pm=(podman --root "$wcache/podman/root" --runroot /run/kdoctor-kind-node --storage-driver vfs)
mapfile -t wanted < <("$BIN_DIR/kubeadm" config images list --kubernetes-version "$K8S_VERSION" 2>/dev/null)
[ ${#wanted[@]} -ge 6 ] || fail "kubeadm config images list printed ${#wanted[@]} images"
ref_of() { printf '%s\n' "${wanted[@]}" | grep -m1 "/$1:" || fail "kubeadm lists no $1 image"; }
save_image() { # NAME REF CONTEXTDIR
	local name=$1 ref=$2 ctx=$3
	"${pm[@]}" build -q -t "$ref" -f "$ctx/Containerfile" "$ctx" >/dev/null || fail "podman build of $ref failed"
	"${pm[@]}" save -q -o "$wcache/images/$name.tar.tmp" "$ref" || fail "podman save of $ref failed"
	mv "$wcache/images/$name.tar.tmp" "$wcache/images/$name.tar"
}
binary_image() { # NAME BINARY-PATH [entrypoint]
	local name=$1 bin=$2 entry=${3:-} ref ctx
	# An archive older than its binary (a rebuilt CoreDNS, a new Kubernetes patch) is made again.
	[ -s "$wcache/images/$name.tar" ] && [ ! "$bin" -nt "$wcache/images/$name.tar" ] && return 0
	ref=$(ref_of "$name")
	ctx=$(mktemp -d)
	cp "$bin" "$ctx/$(basename "$bin")"
	{
		echo 'FROM scratch'
		if [ -n "$entry" ]; then
			echo "COPY $(basename "$bin") /$(basename "$bin")"
			echo "ENTRYPOINT [\"/$(basename "$bin")\"]"
		else
			# kubeadm's static pods name the command (`kube-apiserver`, `etcd`), found on the default PATH.
			echo "COPY $(basename "$bin") /usr/local/bin/$(basename "$bin")"
		fi
	} >"$ctx/Containerfile"
	save_image "$name" "$ref" "$ctx"
	rm -rf "$ctx"
}
for b in kube-apiserver kube-controller-manager kube-scheduler; do binary_image "$b" "$BIN_DIR/$b"; done
binary_image etcd "$BIN_DIR/etcd"
binary_image coredns "$BIN_DIR/coredns" entry
if [ ! -s "$wcache/images/kube-proxy.tar" ] || [ "$BIN_DIR/kube-proxy" -nt "$wcache/images/kube-proxy.tar" ]; then
	# kube-proxy shells out to iptables; it must use the backend (legacy or nft) the node's kubelet and CNI use,
	# so a wrapper picks the one holding more rules, as kind's entrypoint does for the node itself.
	ctx=$(mktemp -d)
	tar -C "$wcache/proxy-rootfs" --exclude=./.complete -cf "$ctx/root.tar" .
	cp "$BIN_DIR/kube-proxy" "$ctx/kube-proxy.real"
	cat >"$ctx/kube-proxy" <<-'EOF'
	#!/bin/sh
	legacy=$( (iptables-legacy-save; ip6tables-legacy-save) 2>/dev/null | grep -c '^-')
	nft=$( (iptables-nft-save; ip6tables-nft-save) 2>/dev/null | grep -c '^-')
	mode=nft
	[ "${legacy:-0}" -gt "${nft:-0}" ] && mode=legacy
	update-alternatives --set iptables /usr/sbin/iptables-$mode >/dev/null
	update-alternatives --set ip6tables /usr/sbin/ip6tables-$mode >/dev/null
	exec /usr/local/bin/kube-proxy.real "$@"
	EOF
	chmod 755 "$ctx/kube-proxy"
	printf 'FROM scratch\nADD root.tar /\nCOPY kube-proxy kube-proxy.real /usr/local/bin/\n' >"$ctx/Containerfile"
	save_image kube-proxy "$(ref_of kube-proxy)" "$ctx"
	rm -rf "$ctx"
fi
pause_ref=$(ref_of pause)
[ "$pause_ref" = "$PAUSE_IMAGE" ] || fail "kubeadm wants $pause_ref, test/cluster builds $PAUSE_IMAGE"
cp "$CACHE_DIR/images/pause.tar" "$wcache/images/pause.tar"

# The node: the Debian root, laid out as kind's base image and `kind build node-image` lay theirs out.
stage=$wcache/stage
rm -rf "$stage" && mkdir -p "$stage"
tar -C "$wcache/rootfs" --exclude=./.complete -c . | tar -C "$stage" -x
install -m 0755 "$base"/usr/local/bin/* "$stage/usr/local/bin/"
mkdir -p "$stage/kind/bin" "$stage/kind/manifests" "$stage/kind/images" "$stage/etc/kubernetes/manifests" "$stage/opt/cni/bin" "$stage/etc/cni/net.d"
install -m 0755 "$base"/kind/bin/* "$stage/kind/bin/"
install -m 0644 "$base"/etc/crictl.yaml "$stage/etc/"
install -m 0644 "$base"/etc/default/kubelet "$stage/etc/default/"
install -m 0644 "$base"/etc/sysctl.d/* "$stage/etc/sysctl.d/"
install -m 0644 "$base"/etc/systemd/system/kubelet.service "$base"/etc/systemd/system/kubelet.slice "$base"/etc/systemd/system/undo-mount-hacks.service "$stage/etc/systemd/system/"
mkdir -p "$stage/etc/systemd/system/kubelet.service.d"
install -m 0644 "$base"/etc/systemd/system/kubelet.service.d/* "$stage/etc/systemd/system/kubelet.service.d/"
# containerd is Debian's (/usr/bin); systemd cannot lower its OOM score where root lacks CAP_SYS_RESOURCE.
sed -e 's#^ExecStart=/usr/local/bin/containerd#ExecStart=/usr/bin/containerd#' -e '/^OOMScoreAdjust=/d' \
	"$base"/etc/systemd/system/containerd.service >"$stage/etc/systemd/system/containerd.service"
# kind's containerd config without the rootless snapshotter and the product-uuid hook spec (Debian's ctr
# has no `oci spec` patching here), and with restrict_oom_score_adj for the same missing capability.
awk '
	/^\[proxy_plugins/ {skip=1; next}
	/^\[/ {skip=0}
	skip {next}
	/base_runtime_spec/ {next}
	/^ *restrict_oom_score_adj/ {print "  restrict_oom_score_adj = true"; next}
	{print}
' "$base"/etc/containerd/config.toml >"$stage/etc/containerd/config.toml"
grep -q 'snapshotter = "overlayfs"' "$stage/etc/containerd/config.toml" || fail "kind's containerd config changed shape"
printf '\n[plugins."io.containerd.grpc.v1.cri".cni]\n  bin_dir = "/opt/cni/bin"\n  conf_dir = "/etc/cni/net.d"\n' >>"$stage/etc/containerd/config.toml"
for p in "$stage"/usr/lib/cni/*; do ln -sf "/usr/lib/cni/$(basename "$p")" "$stage/opt/cni/bin/"; done
# kindnetd's job on one node: a bridge with host-local addresses in kind's default pod subnet, hostPort via portmap.
cat >"$stage/etc/cni/net.d/10-kdoctor-bridge.conflist" <<-'EOF'
{
  "cniVersion": "0.4.0",
  "name": "kdoctor-kind",
  "plugins": [
    {"type": "bridge", "bridge": "kind0", "isGateway": true, "ipMasq": true, "hairpinMode": true,
     "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.244.0.0/24"}]], "routes": [{"dst": "0.0.0.0/0"}]}},
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF
install -m 0755 "$BIN_DIR/kubeadm" "$BIN_DIR/kubelet" "$BIN_DIR/kubectl" "$stage/usr/bin/"
install -m 0755 "$wcache/bin/crictl" "$stage/usr/local/bin/crictl"
printf '%s' "$K8S_VERSION" >"$stage/kind/version"
cp "$wcache"/images/*.tar "$stage/kind/images/"
# kind applies these two after kubeadm init: the CNI is node config here, and there is no volume provisioner.
cat >"$stage/kind/manifests/default-cni.yaml" <<-'EOF'
apiVersion: v1
kind: ConfigMap
metadata:
  name: kdoctor-node-cni
  namespace: kube-system
data:
  note: "Pod networking is the bridge CNI config in the node's /etc/cni/net.d (kdoctor's node image has no kindnetd)."
EOF
cat >"$stage/kind/manifests/default-storage.yaml" <<-'EOF'
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: standard
  annotations:
    storageclass.kubernetes.io/is-default-class: "true"
provisioner: kubernetes.io/no-provisioner
volumeBindingMode: WaitForFirstConsumer
EOF
# The control-plane images enter containerd at every boot, before the kubelet starts (kind pre-imports at build time).
cat >"$stage/etc/systemd/system/kdoctor-preload-images.service" <<-'EOF'
[Unit]
Description=Import the node's preloaded images into containerd
After=containerd.service
Requires=containerd.service
Before=kubelet.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/sh -ec 'for i in 1 2 3 4 5 6 7 8 9 10; do ctr version >/dev/null 2>&1 && break; sleep 1; done; for f in /kind/images/*.tar; do ctr -n k8s.io images import --all-platforms "$f"; done'

[Install]
WantedBy=multi-user.target
EOF
# What kind's base Dockerfile does to systemd: no units that fight a container, journald not reading kmsg.
(
	cd "$stage"
	find lib/systemd/system/sysinit.target.wants/ -name systemd-tmpfiles-setup.service -delete
	rm -f lib/systemd/system/multi-user.target.wants/* etc/systemd/system/*.wants/* lib/systemd/system/local-fs.target.wants/* \
		lib/systemd/system/sockets.target.wants/*udev* lib/systemd/system/sockets.target.wants/*initctl* lib/systemd/system/basic.target.wants/*
	echo 'ReadKMsg=no' >>etc/systemd/journald.conf
	mkdir -p etc/systemd/system/multi-user.target.wants
	for u in kubelet.service containerd.service undo-mount-hacks.service kdoctor-preload-images.service; do
		ln -sf "/etc/systemd/system/$u" "etc/systemd/system/multi-user.target.wants/$u"
	done
	ln -sf /dev/null etc/systemd/system/systemd-binfmt.service
	rm -f etc/machine-id && touch etc/machine-id
)
say "importing $image"
tar -C "$stage" -c . | podman import \
	--change 'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]' \
	--change 'ENV container=docker' \
	--change 'STOPSIGNAL SIGRTMIN+3' \
	--change "LABEL kdoctor.world.kind-node.rev=$NODE_REV" \
	- "$image" >/dev/null || fail "podman import of $image failed"
rm -rf "$stage"
say "built $image in $(($(date +%s) - start))s"
echo "$image"
