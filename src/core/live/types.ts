import type {DeploymentFacts, EventFacts, PodFacts} from '../provision/ports.js';

/** A pod as the watch delivers it: facts plus its controller, resolved to a workload by the model. */
export type LivePod = PodFacts & {uid: string; ownerKind?: string; ownerName?: string};
export type LiveReplicaSet = {uid: string; namespace: string; name: string; deployment?: string; revision: number};
export type LiveDeployment = DeploymentFacts & {uid: string};
export type LiveEvent = EventFacts & {uid: string; involvedUid?: string};
export type LiveNode = {uid: string; name: string; ready: boolean; images: string[]};
export type LiveService = {uid: string; namespace: string; name: string; type: string; selector?: Record<string, string>; createdAt: string};
export type LiveEndpoints = {uid: string; namespace: string; name: string; ready: number; notReady: number};

export type LiveKind = 'pods' | 'replicasets' | 'deployments' | 'events' | 'nodes' | 'services' | 'endpoints';
export type LiveObject = LivePod | LiveReplicaSet | LiveDeployment | LiveEvent | LiveNode | LiveService | LiveEndpoints;

/** How one watched resource is doing: a resource that cannot be read is reported, never taken for healthy. */
export type ResourceStatus = {resource: LiveKind; state: 'listing' | 'watching' | 'retrying' | 'forbidden'; message?: string; at: number; relists: number};

/** What the watches report into: the whole list after a (re)list, then each change. */
export type LiveSink = {
	reset(kind: LiveKind, items: LiveObject[]): void;
	upsert(kind: LiveKind, item: LiveObject): void;
	remove(kind: LiveKind, uid: string): void;
	status(s: ResourceStatus): void;
};

/** The live cluster as the triage engine reaches it: watches, logs, and (optionally) the node's image store. */
export interface LivePort {
	/** Mirrors pods, events, deployments, replicasets, services, endpoints (of the namespace, or all) and nodes into the sink until the signal aborts. */
	subscribe(namespace: string | undefined, sink: LiveSink, signal: AbortSignal): void;
	/** Last lines of a container's log, each prefixed by its RFC 3339 time (the API's timestamps=true). */
	logs(namespace: string, pod: string, container: string, opts: {previous?: boolean; tailLines?: number}): Promise<string>;
	/** Image names in the node's store through the provider, when kdoctor can reach it; else node status is used. */
	nodeImages?(): Promise<string[]>;
}
