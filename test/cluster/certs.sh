#!/usr/bin/env bash
# Makes the cluster's PKI and kubeconfigs with openssl: a CA, the API server's serving certificate, one
# client certificate per component (so RBAC and the Node authorizer see real identities) and the
# service-account key pair. Kept across restarts; made anew only when the CA is missing.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

node_ip=$1
mkdir -p "$PKI"
chmod 700 "$CLUSTER_DIR" "$PKI"
cd "$PKI"

if [ ! -s ca.crt ]; then
	log "making certificates in $PKI"
	openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 3650 -subj '/CN=kdoctor-cluster-ca' 2>/dev/null
	openssl genrsa -out sa.key 2048 2>/dev/null
	openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
fi

# sign NAME SUBJECT EXTENSIONS: a key and a CA-signed certificate, skipped when already made.
sign() {
	[ -s "$1.crt" ] && return 0
	openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "$2" 2>/dev/null
	printf '%s\n' "$3" >"$1.ext"
	openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -out "$1.crt" -days 3650 -extfile "$1.ext" 2>/dev/null
	rm -f "$1.csr" "$1.ext"
}
# A node address that changed since the last run (another network) needs a new serving certificate.
if [ -s apiserver.crt ] && ! openssl x509 -in apiserver.crt -noout -text | grep -q "IP Address:$node_ip\b"; then
	rm -f apiserver.crt apiserver.key
fi
client='basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth'
# 10.96.0.1 is the first address of the service range: pods reach the API server there.
sign apiserver '/CN=kube-apiserver' "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:$NODE_NAME,IP:127.0.0.1,IP:10.96.0.1,IP:$node_ip"
sign admin '/O=system:masters/CN=kubernetes-admin' "$client"
sign apiserver-kubelet-client '/O=system:masters/CN=kube-apiserver-kubelet-client' "$client"
sign controller-manager '/CN=system:kube-controller-manager' "$client"
sign scheduler '/CN=system:kube-scheduler' "$client"
sign kube-proxy '/CN=system:kube-proxy' "$client"
sign kubelet "/O=system:nodes/CN=system:node:$NODE_NAME" "$client"
chmod 600 ./*.key

# kubeconfig NAME FILE: embeds the certificates so the file works from anywhere.
kubeconfig() {
	write_if_changed "$2" <<-EOF
	apiVersion: v1
	kind: Config
	clusters:
	- name: kdoctor
	  cluster:
	    server: https://127.0.0.1:$API_PORT
	    certificate-authority-data: $(base64 -w0 ca.crt)
	users:
	- name: $1
	  user:
	    client-certificate-data: $(base64 -w0 "$1.crt")
	    client-key-data: $(base64 -w0 "$1.key")
	contexts:
	- name: kdoctor
	  context:
	    cluster: kdoctor
	    user: $1
	current-context: kdoctor
	EOF
	chmod 600 "$2"
}
kubeconfig admin "$KUBECONFIG_ADMIN"
for c in controller-manager scheduler kube-proxy kubelet; do kubeconfig "$c" "$PKI/$c.kubeconfig"; done
