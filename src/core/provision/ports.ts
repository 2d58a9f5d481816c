/**
 * The ports the provisioning engine reaches the world through. Adapters in src/adapters implement them
 * with execa and @kubernetes/client-node; tests give recorded or real implementations.
 */

export type Stream = 'stdout' | 'stderr';
export type LineSink = (line: string, stream: Stream) => void;

export type ExecRequest = {
	/** argv[0] is the program; never a shell string. */
	argv: string[];
	env?: Record<string, string>;
	cwd?: string;
	/** Text written to the child's stdin (a manifest for `kubectl apply -f -`). */
	input?: string;
	/** Every output line as it arrives (a build's progress). */
	onLine?: LineSink;
	/** Aborting kills the child and everything it started. */
	signal?: AbortSignal;
	timeoutMs?: number;
};

export type ExecResult = {
	argv: string[];
	exitCode: number | null;
	/** Set when the child died of a signal (SIGKILL from the OOM killer, SIGTERM from a cancel). */
	signal?: string;
	stdout: string;
	stderr: string;
	timedOut: boolean;
	cancelled: boolean;
	durationMs: number;
};

/** A program kdoctor needs is not installed; `hint` says how to get it. */
export class ToolMissingError extends Error {
	constructor(
		readonly tool: string,
		readonly hint: string,
	) {
		super(`${tool} is not installed or not on PATH: ${hint}`);
	}
}

export interface ExecPort {
	/** Runs to completion; a non-zero exit is a result, not a throw. Throws ToolMissingError for a missing program. */
	run(req: ExecRequest): Promise<ExecResult>;
}

export type EngineName = 'podman' | 'docker';

/** What the container engine says about itself; the memory budget builds must share comes from here. */
export type EngineInfo = {
	engine: EngineName;
	version: string;
	/** Architecture the engine runs containers natively as (amd64, arm64). */
	arch: string;
	os: string;
	cpus: number;
	/** Memory of the machine the engine runs in (the podman machine VM on a Mac), MiB. */
	memTotalMiB: number;
	/** Memory that builds and the cluster node may use together, MiB, and where that figure came from. */
	budgetMiB: number;
	budgetSource: string;
	rootless: boolean;
	/** Present on macOS/Windows where the engine runs in a podman machine. */
	machine?: {name: string; cpus: number; memoryMiB: number; diskGiB: number; rootful: boolean; state: string};
	/** Whether each build's peak memory can be measured (cgroup accounting the engine exposes). */
	measuresPeak: boolean;
};

export type BuildRequest = {
	/** The full reference the engine will hold, with podman's localhost/ prefix. */
	image: string;
	dockerfile: string;
	context: string;
	buildArgs: Record<string, string>;
	platform?: string;
	/** Ignore the engine's layer cache too (`--rebuild`: a forced build really builds). */
	noCache?: boolean;
	/** Extra `-v host:container[:ro]` mounts (a Go module cache). */
	volumes?: string[];
	/** Identifies this build for peak-memory accounting (the step id). */
	key: string;
	onLine?: LineSink;
	signal?: AbortSignal;
	timeoutMs?: number;
};

export type BuildResult = {
	ok: boolean;
	exitCode: number | null;
	cancelled: boolean;
	timedOut: boolean;
	durationMs: number;
	/** Peak memory of the build's containers, MiB, where the engine lets it be measured. */
	peakMiB?: number;
	/** The last lines of output, for the diagnosis when the build failed. */
	tail: string[];
};

export interface EnginePort {
	readonly name: EngineName;
	info(): Promise<EngineInfo>;
	build(req: BuildRequest): Promise<BuildResult>;
	imageExists(ref: string): Promise<boolean>;
	/** `podman save -o tar ref`: the archive Kind or containerd imports. Removes a stale tar first. */
	save(ref: string, tarPath: string, signal?: AbortSignal): Promise<void>;
	/** References of every image the engine holds (with their localhost/ prefix). */
	images(): Promise<string[]>;
	/** A container's state on this engine (a Kind node), or undefined when there is none. */
	containerState(name: string): Promise<string | undefined>;
}

export type ClusterProviderName = 'kind' | 'existing';

export type ClusterSpec = {
	name: string;
	/** The Kind config file kdoctor wrote for this run. */
	configPath?: string;
	kubeconfigPath: string;
	/** Working directory kind runs in, so a relative extraMount (./coverdata) resolves. */
	cwd: string;
	waitSeconds: number;
};

/** Creates (or finds) the cluster and gets images into its node exactly as the node will see them. */
export interface ClusterProvider {
	readonly name: ClusterProviderName;
	/** Names of clusters that already exist (kind get clusters), or the context for existing. */
	exists(spec: ClusterSpec): Promise<boolean>;
	create(spec: ClusterSpec, onLine?: LineSink, signal?: AbortSignal): Promise<void>;
	delete(spec: ClusterSpec, signal?: AbortSignal): Promise<void>;
	/** Writes the cluster's kubeconfig to spec.kubeconfigPath (mode 0600) and returns that path. */
	kubeconfig(spec: ClusterSpec): Promise<string>;
	/** Imports an archive made by EnginePort.save into the node. */
	loadArchive(spec: ClusterSpec, tarPath: string, onLine?: LineSink, signal?: AbortSignal): Promise<void>;
	/** Image references the node's containerd holds (crictl images / ctr images ls). */
	nodeImages(spec: ClusterSpec): Promise<string[]>;
	/** Node-side logs for the evidence bundle (kind export logs); resolves to the files written. */
	exportLogs(spec: ClusterSpec, dir: string): Promise<string[]>;
}

// The cluster's facts and the kube port belong to the one live engine (core/cluster); provisioning uses them.
export type {AppliedObject, ContainerFacts, DeploymentFacts, EventFacts, KubePort, PodFacts, ProbeFacts} from '../cluster/ports.js';

/** Host facts: ports, files and time, so checks can be tested with recorded values. */
/** A certificate and its private key, PEM. */
export type PemPair = {cert: string; key: string};

/** What a PEM certificate says of itself, read by a real X.509 parser. */
export type CertFacts = {
	subject: string;
	notAfter: string;
	/** DNS names and IP addresses of its subjectAltName. */
	names: string[];
	keyType: string;
	keyBits?: number;
	/** The private key given with it is its own. */
	keyMatches?: boolean;
	/** The CA given with it issued it (name and signature). */
	issuedByCa?: boolean;
	/** SHA-256 of the DER, colon-separated hex: safe to show, names the certificate without its key. */
	fingerprint: string;
};

/** Makes and reads X.509 certificates (openssl's argv in the adapter; no hand-rolled ASN.1). */
export interface CertPort {
	/** A self-signed CA, ECDSA P-256, as Kubernaut's GenerateInterServiceTLS makes. */
	ca(commonName: string, days: number, signal?: AbortSignal): Promise<PemPair>;
	/** A serving certificate signed by the CA, ECDSA P-256, serverAuth, with these DNS names and IP addresses. */
	serving(ca: PemPair, commonName: string, dnsNames: string[], ips: string[], days: number, signal?: AbortSignal): Promise<PemPair>;
	/** A self-signed RSA 2048 certificate for signing (Kubernaut's GenerateSigningCertSecret, AU-9). */
	signing(commonName: string, organization: string | undefined, days: number, signal?: AbortSignal): Promise<PemPair>;
	/** Facts of a certificate, or undefined when the text is not one. */
	inspect(certPem: string, opts?: {keyPem?: string; caPem?: string}): CertFacts | undefined;
}

export interface HostPort {
	/** The process holding a TCP port on the host, or undefined when it is free. */
	portHolder(port: number): Promise<{pid?: number; command?: string} | undefined>;
	/** Free space where the engine stores images, GiB. */
	freeDiskGiB(path: string): Promise<number>;
}

/** Reading and writing the run folder and the history file: atomically, never half-written. */
export interface StorePort {
	readText(path: string): string | undefined;
	writeAtomic(path: string, text: string): void;
	append(path: string, text: string): void;
	mkdirp(path: string): void;
}
