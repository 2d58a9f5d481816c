/** How to install each tool kdoctor runs, per OS: shared by the missing-tool error and `kdoctor setup`. */
export type Platform = 'darwin' | 'linux' | string;

const HINTS: Record<string, {apt: string; brew: string}> = {
	podman: {apt: '`sudo apt-get install podman runc`', brew: '`brew install podman && podman machine init && podman machine start`'},
	docker: {
		apt: '`sudo apt-get install docker.io` (or Docker Engine from docs.docker.com)',
		brew: '`brew install --cask docker` and start Docker Desktop',
	},
	kind: {
		apt: '`go install sigs.k8s.io/kind@v0.32.0` (Debian has no kind package) and put $(go env GOPATH)/bin on PATH',
		brew: '`brew install kind` (or `go install sigs.k8s.io/kind@v0.32.0`)',
	},
	kubectl: {apt: '`sudo apt-get install kubernetes-client` or the pkgs.k8s.io kubectl package', brew: '`brew install kubectl`'},
	ctr: {
		apt: '`sudo apt-get install containerd`',
		brew: 'ctr only runs where containerd runs (inside the cluster node); use the kind provider on macOS',
	},
	go: {apt: '`sudo apt-get install golang-go` (or a current Go from go.dev/dl)', brew: '`brew install go`'},
	lsof: {apt: '`sudo apt-get install lsof`', brew: 'lsof ships with macOS; check PATH'},
	openssl: {apt: '`sudo apt-get install openssl`', brew: 'openssl (LibreSSL) ships with macOS; check PATH, or `brew install openssl`'},
};

/** Fedora and RHEL name these packages differently from Debian. */
const DNF: Record<string, string> = {
	podman: '`sudo dnf install -y podman`',
	docker: '`sudo dnf install -y moby-engine`',
	go: '`sudo dnf install -y golang`',
	kubectl: '`sudo dnf install -y kubernetes-client`',
	containerd: '`sudo dnf install -y containerd`',
	openssl: '`sudo dnf install -y openssl`',
};

/** The install hint for a tool on this platform: brew on macOS, dnf on Fedora-like Linux, apt otherwise. */
export function installHint(tool: string, platform: Platform = process.platform, family: string[] = []): string {
	const base = tool.split('/').pop() ?? tool;
	const hint = HINTS[base];
	if (!hint) return platform === 'darwin' ? `install ${base} with Homebrew` : `install ${base} with your package manager`;
	if (platform === 'darwin') return hint.brew;
	if (family.some((f) => ['fedora', 'rhel', 'centos'].includes(f)) && DNF[base]) return DNF[base];
	return hint.apt;
}
