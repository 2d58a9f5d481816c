# Sourced by the test-world and cluster scripts: installs the Debian packages that are missing, so a warm
# run never touches apt. Usage: ensure_packages PREFIX PKG...   (PREFIX labels the log line)
ensure_packages() {
	local prefix=$1 p
	shift
	local missing=()
	for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
	if [ ${#missing[@]} -gt 0 ]; then
		printf '%s: installing %s\n' "$prefix" "${missing[*]}" >&2
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	fi
}
