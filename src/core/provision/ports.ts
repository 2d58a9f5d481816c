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

export type ContainerFacts = {
	name: string;
	image: string;
	ready: boolean;
	restartCount: number;
	waitingReason?: string;
	waitingMessage?: string;
	terminatedReason?: string;
	exitCode?: number;
	lastTerminatedReason?: string;
	lastExitCode?: number;
};

export type PodFacts = {
	name: string;
	namespace: string;
	phase: string;
	ready: boolean;
	labels: Record<string, string>;
	/** Owner chain top (Deployment/Job name) when known. */
	owner?: string;
	createdAt: string;
	unschedulableMessage?: string;
	containers: ContainerFacts[];
	imagePullPolicy: Record<string, string>;
	/** Being deleted (a rollout or scale-down is removing it). */
	terminating?: boolean;
	/** Belongs to a ReplicaSet that is not its Deployment's newest revision: a leftover of an earlier template. */
	stale?: boolean;
};

export type EventFacts = {
	namespace: string;
	object: string;
	kind: string;
	reason: string;
	message: string;
	type: string;
	count: number;
	lastSeen: string;
};

export type AppliedObject = {kind: string; name: string; namespace?: string};

/** What `up` needs of the API server: apply manifests, read pods/events/logs for fail-fast and evidence. */
export interface KubePort {
	/** Server-side apply of each document, in order (the namespace is created when missing). */
	apply(docs: Record<string, unknown>[], namespace: string, signal?: AbortSignal): Promise<AppliedObject[]>;
	pods(namespace: string, selector?: string): Promise<PodFacts[]>;
	events(namespace: string): Promise<EventFacts[]>;
	/** With timestamps, each line starts with its RFC 3339 time, as `kubectl logs --timestamps`. */
	logs(namespace: string, pod: string, container: string, opts: {previous?: boolean; tailLines?: number; timestamps?: boolean}): Promise<string>;
	/** Whether a Job finished: 'complete', 'failed' or 'running'. */
	jobStatus(namespace: string, name: string): Promise<'complete' | 'failed' | 'running' | 'missing'>;
	/** When a Job completed (ISO time), or undefined when it has not or does not exist. */
	jobCompletedAt(namespace: string, name: string): Promise<string | undefined>;
	/** Deletes one pod (its controller makes a new one at once, without the crash-loop back-off). */
	deletePod(namespace: string, name: string): Promise<void>;
	/** Deletes a Job and its pods, and waits until it is gone. */
	deleteJob(namespace: string, name: string, signal?: AbortSignal): Promise<void>;
	/** Objects as YAML for the evidence bundle (kubectl get -o yaml of pods, deployments, services…). */
	dump(namespace: string): Promise<string>;
	scale(namespace: string, deployment: string, replicas: number): Promise<void>;
	/**
	 * Calls onChange whenever a pod or event of the namespace changes, until the signal aborts; a dropped watch
	 * is re-opened. Waits wake on it instead of polling, so a fault is seen when the API server has it.
	 */
	watch?(namespace: string, onChange: () => void, signal: AbortSignal): void;
	deployment(namespace: string, name: string): Promise<DeploymentFacts | undefined>;
	/** Image names the nodes report holding (node status, as the kubelet last posted it), without digests. */
	nodeImages(): Promise<string[]>;
	/** A strategic merge patch of a Deployment (what `kubectl patch deployment` sends by default). */
	patchDeployment(namespace: string, name: string, patch: Record<string, unknown>): Promise<void>;
}

export type ProbeFacts = {path?: string; port?: string | number};

/** A Deployment as fixes and their verification read it: the template's containers and the rollout's progress. */
export type DeploymentFacts = {
	namespace: string;
	name: string;
	generation: number;
	observedGeneration: number;
	replicas: number;
	updatedReplicas: number;
	readyReplicas: number;
	availableReplicas: number;
	selector: string;
	containers: {
		name: string;
		image: string;
		env: {name: string; value?: string; fromSource?: boolean}[];
		memoryLimit?: string;
		memoryRequest?: string;
		readinessProbe?: ProbeFacts;
	}[];
};

/** Host facts: ports, files and time, so checks can be tested with recorded values. */
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
