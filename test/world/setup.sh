#!/usr/bin/env bash
# Builds kdoctor's test world on a fresh Debian 12 machine (root, no container registry):
# Podman configured to run here, and four local stand-in images made without any pull:
#   localhost/kdoctor-world/go-toolset:1   for registry.access.redhat.com/ubi9 and ubi10 go-toolset (host Go + busybox)
#   localhost/kdoctor-world/ubi-minimal:1  for registry.access.redhat.com/ubi9 and ubi10 ubi-minimal (busybox; dnf,
#                                          microdnf and useradd shims, the UBI CA bundle path and zoneinfo)
#   localhost/kdoctor-world/postgres:1     for docker.io/library/postgres:16-alpine (Debian's PostgreSQL 15)
#   localhost/kdoctor-world/redis:1        for redis:7-alpine (Debian's Redis 7)
# Idempotent: every step is skipped when its result already exists, so a warm run takes a second.
set -euo pipefail

start=$(date +%s)
repo=$(cd "$(dirname "$0")/../.." && pwd)
cache=${KDOCTOR_WORLD_CACHE:-/var/cache/kdoctor-world}
# KDOCTOR_WORLD_PREFIX exists to time a cold run beside a world that others are using; normal runs leave it unset.
prefix=${KDOCTOR_WORLD_PREFIX:-localhost/kdoctor-world}
mirror=${KDOCTOR_WORLD_MIRROR:-http://deb.debian.org/debian}
log() { printf 'world: %s\n' "$*"; }

[ "$(id -u)" = 0 ] || { echo 'world: setup.sh must run as root (apt-get, podman import, debootstrap)' >&2; exit 1; }

# Packages: Podman with runc (crun fails on setrlimit here), containerd and CNI for the node stand-in, busybox for the tiny rootfs, debootstrap for the data services.
source "$(dirname "${BASH_SOURCE[0]}")/../lib/packages.sh"
# catatonit: podman's pause image for `podman pod create` (a warm machine may have it from other work; a new one does not).
ensure_packages world podman runc catatonit containerd containernetworking-plugins busybox-static iptables conntrack socat debootstrap ca-certificates openssl tzdata tmux time

# Every binary the tests drive must really be there now: a missing one is one line naming it, not nine failed tests later.
need_bin() { # NAME PACKAGE
	command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || { echo "world: $1 is not on PATH after installing $2: the tests that need it cannot run" >&2; exit 1; }
}
for pair in podman:podman runc:runc catatonit:catatonit containerd:containerd ctr:containerd busybox:busybox-static iptables:iptables conntrack:conntrack socat:socat debootstrap:debootstrap openssl:openssl tmux:tmux; do
	need_bin "${pair%%:*}" "${pair#*:}"
done
[ -x /usr/lib/cni/bridge ] || { echo 'world: /usr/lib/cni/bridge is missing after installing containernetworking-plugins' >&2; exit 1; }
[ -x /usr/bin/time ] || { echo 'world: /usr/bin/time is missing after installing time' >&2; exit 1; }
command -v go >/dev/null 2>&1 || [ -x /usr/local/go/bin/go ] || { echo 'world: go is not installed (neither on PATH nor /usr/local/go/bin/go): install Go first' >&2; exit 1; }

# Podman config: no default ulimits (setrlimit is refused in this sandbox), runc, and cgroupfs (no systemd session for the systemd manager).
conf=/etc/containers/containers.conf
want='[containers]
default_ulimits = []
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"'
if ! { grep -q '^default_ulimits = \[\]' "$conf" && grep -q '^runtime = "runc"' "$conf" && grep -q '^cgroup_manager = "cgroupfs"' "$conf"; } 2>/dev/null; then
	# Keep whatever was there: an admin's settings are worth a backup, not a silent overwrite.
	[ -s "$conf" ] && cp "$conf" "$conf.kdoctor-world.bak" && log "kept the old $conf as $conf.kdoctor-world.bak"
	mkdir -p /etc/containers
	printf '%s\n' "$want" >"$conf"
	log "wrote $conf"
fi

# Fills DIR with busybox (every applet as a link), the host CA bundle, /tmp 1777 and the given passwd lines.
make_busybox_rootfs() {
	local dir=$1 passwd=$2 group=$3
	mkdir -p "$dir"/{bin,usr/bin,usr/sbin,sbin,etc/ssl/certs,root,tmp,var/tmp}
	cp /bin/busybox "$dir/bin/busybox"
	# One link per applet in /bin, so `sh`, `ls`, `wget`, `nc` … work as in a real distro image.
	for a in $("$dir/bin/busybox" --list); do [ -e "$dir/bin/$a" ] || ln -s busybox "$dir/bin/$a"; done
	ln -sf ../../bin/env "$dir/usr/bin/env"
	cp /etc/ssl/certs/ca-certificates.crt "$dir/etc/ssl/certs/ca-certificates.crt"
	# Red Hat's path for the same bundle, so a Go binary finds it either way.
	mkdir -p "$dir/etc/pki/tls/certs" && ln -s ../../../ssl/certs/ca-certificates.crt "$dir/etc/pki/tls/certs/ca-bundle.crt"
	# UBI 10's Dockerfiles (Kubernaut's) copy these two from the builder into a scratch image.
	mkdir -p "$dir/etc/pki/ca-trust/extracted/pem" "$dir/usr/share"
	cp /etc/ssl/certs/ca-certificates.crt "$dir/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem"
	cp -r /usr/share/zoneinfo "$dir/usr/share/zoneinfo"
	# Stand-ins for UBI's package managers: nothing can be fetched here, and what they would install is present.
	for pm in dnf microdnf; do
		printf '#!/bin/sh\necho "%s (kdoctor test world stand-in): nothing to fetch offline; ca-certificates and tzdata are in the image: $*"\n' "$pm" >"$dir/usr/bin/$pm"
		chmod 755 "$dir/usr/bin/$pm"
	done
	# useradd -r -u UID -g GROUP NAME as shadow-utils does it for a system user: one passwd line.
	cat >"$dir/usr/sbin/useradd" <<'SH'
#!/bin/sh
uid=; gid=0; name=
while [ $# -gt 0 ]; do
	case $1 in
	-u) uid=$2; shift 2 ;;
	-g) case $2 in root) gid=0 ;; *) gid=$2 ;; esac; shift 2 ;;
	-r | -M | -N) shift ;;
	-*) shift 2 ;;
	*) name=$1; shift ;;
	esac
done
[ -n "$name" ] || { echo "useradd: no user name" >&2; exit 2; }
grep -q "^$name:" /etc/passwd && { echo "useradd: user '$name' already exists" >&2; exit 9; }
[ -n "$uid" ] || uid=$(awk -F: 'BEGIN{m=999} $3>=100 && $3<1000 && $3>m {m=$3} END{print m+1}' /etc/passwd)
echo "$name:x:$uid:$gid::/home/$name:/sbin/nologin" >>/etc/passwd
SH
	chmod 755 "$dir/usr/sbin/useradd"
	printf '%s\n' "$passwd" >"$dir/etc/passwd"
	printf '%s\n' "$group" >"$dir/etc/group"
	chmod 1777 "$dir/tmp" "$dir/var/tmp"
}

# The stand-ins' revision: an image of an older one (no dnf/useradd shims) is made again.
world_rev=2
current() { # IMAGE: exists and is of this revision
	podman image exists "$1" && [ "$(podman image inspect --format '{{index .Config.Labels "kdoctor.world.rev"}}' "$1" 2>/dev/null)" = "$world_rev" ]
}

# `podman import` of a folder: numeric owners, so uid 1001 stays 1001 whatever the host's passwd says.
import_dir() {
	local dir=$1 image=$2; shift 2
	tar --numeric-owner -C "$dir" -cf - . | podman import --quiet "$@" - "$image" >/dev/null
}

# A podman process killed while committing an image (a machine shut down mid-build) leaves an image without its
# manifest, and every later `podman images` fails on it; podman's own advice is to remove it, so the world does.
for _ in 1 2 3 4 5; do
	# `podman images` fails on exactly such an image: under pipefail that must not end the script.
	broken=$( (podman images -q 2>&1 >/dev/null || true) | sed -n 's/.*image with ID "\([0-9a-f]\{64\}\)" (consider removing the image.*/\1/p' | head -n1)
	[ -n "$broken" ] || break
	echo "world: removing damaged image $broken (no manifest: an interrupted commit)" >&2
	podman rmi -f "$broken" >/dev/null 2>&1 || break
done

work=$(mktemp -d /tmp/kdoctor-world.XXXXXX)
trap 'rm -rf "$work"' EXIT

if ! current "$prefix/go-toolset:1"; then
	# Go may be installed without being on root's PATH (/usr/local/go is where the official tarball goes).
	goexe=$(command -v go || echo /usr/local/go/bin/go)
	goroot=$("$goexe" env GOROOT 2>/dev/null || true)
	log "building $prefix/go-toolset:1 (host Go $("$goexe" version 2>/dev/null | awk '{print $3}'))"
	[ -x "$goroot/bin/go" ] || { echo "world: no Go toolchain on the host (go env GOROOT); install Go first" >&2; exit 1; }
	r=$work/go-toolset
	make_busybox_rootfs "$r" 'root:x:0:0:root:/root:/bin/sh
default:x:1001:0:Default Application User:/opt/app-root/src:/bin/sh' 'root:x:0:'
	mkdir -p "$r/usr/local" "$r/opt/app-root/src"
	# GOROOT without its own test suite and API lists: nothing a build reads, 30 MB less per import.
	tar -C "$goroot" --exclude=./test --exclude=./api -cf - . | { mkdir -p "$r/usr/local/go" && tar -C "$r/usr/local/go" -xf -; }
	chown -R 1001:0 "$r/opt/app-root"
	# Env like UBI's go-toolset (HOME is the workdir, user 1001); GOCACHE/GOPATH in /tmp so 1001 can always write them, GOTOOLCHAIN=local so no toolchain download is ever tried.
	import_dir "$r" "$prefix/go-toolset:1" \
		--change 'ENV PATH=/usr/local/go/bin:/bin:/usr/bin:/usr/sbin:/sbin' \
		--change 'ENV GOTOOLCHAIN=local' \
		--change 'ENV HOME=/opt/app-root/src' \
		--change 'ENV GOCACHE=/tmp/go-cache' \
		--change 'ENV GOPATH=/tmp/go' \
		--change 'WORKDIR /opt/app-root/src' \
		--change 'USER 1001' \
		--change "LABEL kdoctor.world.rev=$world_rev" \
		--change 'CMD ["/bin/sh"]'
	rm -rf "$r"
fi

if ! current "$prefix/ubi-minimal:1"; then
	log "building $prefix/ubi-minimal:1"
	r=$work/ubi-minimal
	make_busybox_rootfs "$r" 'root:x:0:0:root:/root:/bin/sh
default:x:1001:0:Default Application User:/opt/app-root/src:/bin/sh
nobody:x:65534:65534:Kernel Overflow User:/:/sbin/nologin' 'root:x:0:
nobody:x:65534:'
	mkdir -p "$r/opt/app-root/src" "$r/usr/local/bin"
	chown 1001:0 "$r/opt/app-root/src"
	import_dir "$r" "$prefix/ubi-minimal:1" --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin' \
		--change "LABEL kdoctor.world.rev=$world_rev" --change 'CMD ["/bin/sh"]'
	rm -rf "$r"
fi

# One Debian rootfs for both data services, made once (debootstrap is the slow part) and kept in the cache.
rootfs=$cache/rootfs
if ! podman image exists "$prefix/postgres:1" || ! podman image exists "$prefix/redis:1"; then
	if ! podman image exists "$prefix/debian-data:1"; then
		if [ ! -e "$rootfs/.complete" ]; then
			log "debootstrap bookworm (postgresql, redis-server) into $rootfs"
			rm -rf "$rootfs.partial" && mkdir -p "$cache"
			debootstrap --variant=minbase --include=postgresql,redis-server bookworm "$rootfs.partial" "$mirror" >"$cache/debootstrap.log" 2>&1 \
				|| { tail -20 "$cache/debootstrap.log" >&2; exit 1; }
			# Dead weight, 260 MB of 640: the package's own cluster (the entrypoint runs initdb into PGDATA), apt caches, docs,
			# and LLVM with z3, needed only by PostgreSQL's optional JIT (without llvmjit.so the server simply runs with jit off).
			(cd "$rootfs.partial" && rm -rf var/lib/postgresql/15 etc/postgresql/15 var/cache/apt/archives/*.deb var/lib/apt/lists/* \
				usr/share/doc usr/share/man usr/share/locale usr/lib/*-linux-gnu/libLLVM-14.so* usr/lib/*-linux-gnu/libz3.so* \
				usr/lib/postgresql/15/lib/llvmjit* usr/lib/postgresql/15/lib/bitcode)
			touch "$rootfs.partial/.complete"
			rm -rf "$rootfs" && mv "$rootfs.partial" "$rootfs"
		fi
		log "importing $prefix/debian-data:1"
		import_dir "$rootfs" "$prefix/debian-data:1" --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' --change 'CMD ["/bin/bash"]'
	fi
	# The same Dockerfiles the demo profile builds; here on the local base, so nothing is pulled or installed.
	for svc in postgres redis; do
		podman image exists "$prefix/$svc:1" && continue
		log "building $prefix/$svc:1"
		podman build --quiet --build-arg "BASE_IMAGE=$prefix/debian-data:1" -t "$prefix/$svc:1" \
			-f "$repo/dockerfiles/$svc.Dockerfile" "$repo/dockerfiles/data" >/dev/null
	done
fi

present=0
for i in go-toolset ubi-minimal postgres redis; do podman image exists "$prefix/$i:1" && present=$((present + 1)); done
echo "world: ready: $present/4 images ($prefix/{go-toolset,ubi-minimal,postgres,redis}:1) in $(($(date +%s) - start))s"
[ "$present" = 4 ]
