/**
 * The live cluster as kdoctor's one live engine sees it: facts about pods, events and controllers, the kube port the
 * commands and `up` reach the API server through, and the watch port the engine mirrors objects from. Adapters
 * (src/adapters/kube*.ts) implement them with @kubernetes/client-node; tests give real or recorded ones.
 */
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
	logs(
		namespace: string,
		pod: string,
		container: string,
		opts: {previous?: boolean; tailLines?: number; timestamps?: boolean},
	): Promise<string>;
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
	/** A ConfigMap's or Secret's data as text (a Secret's decoded), or undefined when there is none of that name. */
	readData(kind: 'ConfigMap' | 'Secret', namespace: string, name: string): Promise<Record<string, string> | undefined>;
	/** A merge patch of an object's status subresource (what a controller the cluster does not run would write). */
	patchStatus(
		object: {apiVersion: string; kind: string; namespace: string; name: string},
		status: Record<string, unknown>,
		signal?: AbortSignal,
	): Promise<void>;
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

/** A pod as the watch delivers it: facts plus its controller, resolved to a workload by the model. */
export type LivePod = PodFacts & {uid: string; ownerKind?: string; ownerName?: string};
export type LiveReplicaSet = {uid: string; namespace: string; name: string; deployment?: string; revision: number};
export type LiveDeployment = DeploymentFacts & {uid: string; conditions?: Condition[]; refs?: TemplateRefs; createdAt?: string};
export type LiveEvent = EventFacts & {uid: string; involvedUid?: string};
export type LiveNode = {
	uid: string;
	name: string;
	ready: boolean;
	images: string[];
	conditions?: Condition[];
	taints?: {key: string; effect: string}[];
	unschedulable?: boolean;
};
export type LiveService = {
	uid: string;
	namespace: string;
	name: string;
	type: string;
	selector?: Record<string, string>;
	createdAt: string;
	ports?: {port: number; targetPort?: string | number}[];
};
export type LiveEndpoints = {uid: string; namespace: string; name: string; ready: number; notReady: number};

/** What a pod template needs to exist before a pod can be made of it: the references a controller's pods resolve. */
export type TemplateRefs = {
	serviceAccount?: string;
	configMaps: {name: string; optional: boolean}[];
	secrets: {name: string; optional: boolean}[];
	claims: string[];
	imagePullSecrets: string[];
	/** The container ports (and their names) the template declares, for a Service's targetPort. */
	ports: {name?: string; port: number}[];
};

export type Condition = {type: string; status: string; reason?: string; message?: string};

/** A StatefulSet, DaemonSet or Job (a Deployment is LiveDeployment): how many pods it wants, how many are ready. */
export type LiveController = {
	uid: string;
	namespace: string;
	name: string;
	kind: 'StatefulSet' | 'DaemonSet' | 'Job';
	desired: number;
	ready: number;
	failed?: number;
	conditions: Condition[];
	refs: TemplateRefs;
	createdAt: string;
};
export type LiveClaim = {uid: string; namespace: string; name: string; phase: string; storageClass?: string; createdAt: string};
/** Objects whose only fact that matters is that they exist: ServiceAccounts, ConfigMaps, Secrets (never their data). */
export type LiveNamed = {uid: string; namespace: string; name: string};
export type LiveIngress = {
	uid: string;
	namespace: string;
	name: string;
	backends: {service: string; port?: string | number}[];
	createdAt: string;
};
export type LiveWebhook = {
	uid: string;
	name: string;
	kind: 'ValidatingWebhookConfiguration' | 'MutatingWebhookConfiguration';
	services: {namespace: string; name: string; webhook: string}[];
	createdAt: string;
};

export type LiveKind =
	| 'pods'
	| 'replicasets'
	| 'deployments'
	| 'events'
	| 'nodes'
	| 'services'
	| 'endpoints'
	| 'statefulsets'
	| 'daemonsets'
	| 'jobs'
	| 'persistentvolumeclaims'
	| 'serviceaccounts'
	| 'configmaps'
	| 'secrets'
	| 'ingresses'
	| 'validatingwebhookconfigurations'
	| 'mutatingwebhookconfigurations';
export type LiveObject =
	| LivePod
	| LiveReplicaSet
	| LiveDeployment
	| LiveEvent
	| LiveNode
	| LiveService
	| LiveEndpoints
	| LiveController
	| LiveClaim
	| LiveNamed
	| LiveIngress
	| LiveWebhook;

/** How one watched resource is doing: a resource that cannot be read is reported, never taken for healthy. */
export type ResourceStatus = {
	resource: LiveKind;
	/** `listed`: read once, for a one-look command (no watch follows). */
	state: 'listing' | 'watching' | 'listed' | 'retrying' | 'forbidden';
	message?: string;
	at: number;
	relists: number;
};

/** What the watches report into: the whole list after a (re)list, then each change. */
export type LiveSink = {
	reset(kind: LiveKind, items: LiveObject[]): void;
	upsert(kind: LiveKind, item: LiveObject): void;
	remove(kind: LiveKind, uid: string): void;
	status(s: ResourceStatus): void;
};

/** The live cluster as the triage engine reaches it: watches, logs, and (optionally) the node's image store. */
export interface LivePort {
	/**
	 * Mirrors pods, events, deployments, replicasets, services, endpoints (of the namespace, or all) and nodes into the
	 * sink until the signal aborts.
	 */
	subscribe(namespace: string | undefined, sink: LiveSink, signal: AbortSignal): void;
	/** Last lines of a container's log, each prefixed by its RFC 3339 time (the API's timestamps=true). */
	logs(namespace: string, pod: string, container: string, opts: {previous?: boolean; tailLines?: number}): Promise<string>;
	/** Image names in the node's store through the provider, when kdoctor can reach it; else node status is used. */
	nodeImages?(): Promise<string[]>;
}
