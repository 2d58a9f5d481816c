/** The API's objects as the facts kdoctor reasons on: one place, for reads and for watches. */
import type * as K8s from '@kubernetes/client-node';
import type {ContainerFacts, DeploymentFacts, EventFacts, PodFacts} from '../core/provision/ports.js';

export function eventFacts(e: K8s.CoreV1Event, namespace = ''): EventFacts {
	return {
		namespace: e.metadata?.namespace ?? namespace,
		object: e.involvedObject?.name ?? '',
		kind: e.involvedObject?.kind ?? '',
		reason: e.reason ?? '',
		message: e.message ?? '',
		type: e.type ?? '',
		count: e.series?.count ?? e.count ?? 1,
		lastSeen: iso(e.series?.lastObservedTime ?? e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata?.creationTimestamp),
	};
}

export function controllerOf(meta: K8s.V1ObjectMeta | undefined): K8s.V1OwnerReference | undefined {
	const refs = meta?.ownerReferences ?? [];
	return refs.find((r) => r.controller) ?? refs[0];
}

export type RsOwners = {owners: Map<string, string>; stale: Set<string>};

export function podFacts(pod: K8s.V1Pod, rs: RsOwners): PodFacts {
	const rsOwners = rs.owners;
	const spec = pod.spec;
	const status = pod.status;
	const owner = controllerOf(pod.metadata);
	const specContainers = [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])];
	const statuses = new Map([...(status?.initContainerStatuses ?? []), ...(status?.containerStatuses ?? [])].map((s) => [s.name, s]));
	const scheduled = status?.conditions?.find((c) => c.type === 'PodScheduled');
	const imagePullPolicy: Record<string, string> = {};
	const containers = specContainers.map((c): ContainerFacts => {
		if (c.imagePullPolicy) imagePullPolicy[c.name] = c.imagePullPolicy;
		const s = statuses.get(c.name);
		const facts: ContainerFacts = {
			name: c.name,
			image: c.image ?? s?.image ?? '',
			ready: s?.ready ?? false,
			restartCount: s?.restartCount ?? 0,
		};
		if (s?.state?.waiting) {
			facts.waitingReason = s.state.waiting.reason;
			facts.waitingMessage = s.state.waiting.message;
		}
		if (s?.state?.terminated) {
			facts.terminatedReason = s.state.terminated.reason;
			facts.exitCode = s.state.terminated.exitCode;
		}
		if (s?.lastState?.terminated) {
			facts.lastTerminatedReason = s.lastState.terminated.reason;
			facts.lastExitCode = s.lastState.terminated.exitCode;
		}
		return dropUndefined(facts);
	});
	const facts: PodFacts = {
		name: pod.metadata?.name ?? '',
		namespace: pod.metadata?.namespace ?? '',
		phase: status?.phase ?? 'Unknown',
		ready: status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
		labels: pod.metadata?.labels ?? {},
		owner: owner ? (owner.kind === 'ReplicaSet' ? (rsOwners.get(owner.name) ?? owner.name) : owner.name) : undefined,
		createdAt: iso(pod.metadata?.creationTimestamp),
		unschedulableMessage: scheduled?.status === 'False' ? (scheduled.message ?? scheduled.reason ?? 'unschedulable') : undefined,
		containers,
		imagePullPolicy,
		terminating: pod.metadata?.deletionTimestamp ? true : undefined,
		stale: owner?.kind === 'ReplicaSet' && rs.stale.has(owner.name) ? true : undefined,
	};
	return dropUndefined(facts);
}

export function deploymentFacts(d: K8s.V1Deployment): DeploymentFacts {
	const labels = d.spec?.selector?.matchLabels ?? {};
	return {
		namespace: d.metadata?.namespace ?? '',
		name: d.metadata?.name ?? '',
		generation: d.metadata?.generation ?? 0,
		observedGeneration: d.status?.observedGeneration ?? 0,
		replicas: d.spec?.replicas ?? 1,
		updatedReplicas: d.status?.updatedReplicas ?? 0,
		readyReplicas: d.status?.readyReplicas ?? 0,
		availableReplicas: d.status?.availableReplicas ?? 0,
		selector: Object.entries(labels)
			.map(([k, v]) => `${k}=${v}`)
			.join(','),
		containers: (d.spec?.template?.spec?.containers ?? []).map((c) =>
			dropUndefined({
				name: c.name,
				image: c.image ?? '',
				env: (c.env ?? []).map((e) => dropUndefined({name: e.name, value: e.value, fromSource: e.valueFrom ? true : undefined})),
				memoryLimit: c.resources?.limits?.memory,
				memoryRequest: c.resources?.requests?.memory,
				readinessProbe: c.readinessProbe?.httpGet
					? {path: c.readinessProbe.httpGet.path, port: c.readinessProbe.httpGet.port as string | number}
					: undefined,
			}),
		),
	};
}

export function dropUndefined<T extends object>(o: T): T {
	for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
	return o;
}

export function iso(d: Date | string | undefined): string {
	if (!d) return '';
	const t = d instanceof Date ? d : new Date(d);
	return Number.isNaN(t.getTime()) ? String(d) : t.toISOString();
}
