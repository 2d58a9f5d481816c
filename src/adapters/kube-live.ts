/** The live triage's port on @kubernetes/client-node: reflectors for the watched kinds, logs with timestamps. */
import {setMaxListeners} from 'node:events';
import type * as K8s from '@kubernetes/client-node';
import type {Condition, LiveKind, LiveObject, LivePort, LiveSink, TemplateRefs} from '../core/cluster/ports.js';
import {createExec} from './exec.js';
import {createExistingProvider} from './existing.js';
import {controllerOf, deploymentFacts, eventFacts, iso, podFacts} from './kube-facts.js';
import {CLUSTER_SCOPED, paths, reflect, type WatchResource} from './kube-watch.js';
import {restConfig, restList, restLogs, type RestConfig} from './kube-rest.js';
import {LIVE_KINDS} from '../core/cluster/engine.js';
import {KubeError, createKube, loadKubeConfig, type KubeOptions} from './kube.js';

const noOwners = {owners: new Map<string, string>(), stale: new Set<string>()};

const conditions = (cs: {type?: string; status?: string; reason?: string; message?: string}[] | undefined): Condition[] =>
	(cs ?? []).map((c) => ({
		type: c.type ?? '',
		status: c.status ?? '',
		...(c.reason ? {reason: c.reason} : {}),
		...(c.message ? {message: c.message} : {}),
	}));

/** What a pod template refers to by name: the objects that must exist before its pods can be made or started. */
export function templateRefs(spec: K8s.V1PodSpec | undefined): TemplateRefs {
	const configMaps: TemplateRefs['configMaps'] = [];
	const secrets: TemplateRefs['secrets'] = [];
	const claims: string[] = [];
	for (const v of spec?.volumes ?? []) {
		if (v.configMap?.name) configMaps.push({name: v.configMap.name, optional: v.configMap.optional === true});
		if (v.secret?.secretName) secrets.push({name: v.secret.secretName, optional: v.secret.optional === true});
		if (v.persistentVolumeClaim?.claimName) claims.push(v.persistentVolumeClaim.claimName);
		for (const s of v.projected?.sources ?? []) {
			if (s.configMap?.name) configMaps.push({name: s.configMap.name, optional: s.configMap.optional === true});
			if (s.secret?.name) secrets.push({name: s.secret.name, optional: s.secret.optional === true});
		}
	}
	const ports: TemplateRefs['ports'] = [];
	for (const c of [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])]) {
		for (const e of c.envFrom ?? []) {
			if (e.configMapRef?.name) configMaps.push({name: e.configMapRef.name, optional: e.configMapRef.optional === true});
			if (e.secretRef?.name) secrets.push({name: e.secretRef.name, optional: e.secretRef.optional === true});
		}
		for (const e of c.env ?? []) {
			const cm = e.valueFrom?.configMapKeyRef;
			const sk = e.valueFrom?.secretKeyRef;
			if (cm?.name) configMaps.push({name: cm.name, optional: cm.optional === true});
			if (sk?.name) secrets.push({name: sk.name, optional: sk.optional === true});
		}
		for (const p of c.ports ?? []) ports.push({...(p.name ? {name: p.name} : {}), port: p.containerPort});
	}
	return {
		...(spec?.serviceAccountName ? {serviceAccount: spec.serviceAccountName} : {}),
		configMaps,
		secrets,
		claims,
		imagePullSecrets: (spec?.imagePullSecrets ?? []).map((s) => s.name ?? '').filter(Boolean),
		ports,
	};
}

const named = (o: {metadata?: K8s.V1ObjectMeta}) => ({
	uid: o.metadata?.uid ?? '',
	namespace: o.metadata?.namespace ?? '',
	name: o.metadata?.name ?? '',
});

/** The API object as kdoctor's live facts, keyed by uid. */
export function toLive(kind: LiveKind, o: unknown): LiveObject {
	switch (kind) {
		case 'pods': {
			const p = o as K8s.V1Pod;
			const owner = controllerOf(p.metadata);
			const f = podFacts(p, noOwners);
			return {...f, uid: p.metadata?.uid ?? `${f.namespace}/${f.name}`, ownerKind: owner?.kind, ownerName: owner?.name};
		}
		case 'replicasets': {
			const r = o as K8s.V1ReplicaSet;
			const owner = controllerOf(r.metadata);
			return {
				uid: r.metadata?.uid ?? '',
				namespace: r.metadata?.namespace ?? '',
				name: r.metadata?.name ?? '',
				deployment: owner?.kind === 'Deployment' ? owner.name : undefined,
				revision: Number(r.metadata?.annotations?.['deployment.kubernetes.io/revision'] ?? 0),
			};
		}
		case 'deployments': {
			const d = o as K8s.V1Deployment;
			return {
				...deploymentFacts(d),
				uid: d.metadata?.uid ?? '',
				conditions: conditions(d.status?.conditions),
				refs: templateRefs(d.spec?.template?.spec),
				createdAt: iso(d.metadata?.creationTimestamp),
			};
		}
		case 'statefulsets': {
			const s = o as K8s.V1StatefulSet;
			return {
				...named(s),
				kind: 'StatefulSet',
				desired: s.spec?.replicas ?? 1,
				ready: s.status?.readyReplicas ?? 0,
				conditions: conditions(s.status?.conditions),
				refs: templateRefs(s.spec?.template?.spec),
				createdAt: iso(s.metadata?.creationTimestamp),
			};
		}
		case 'daemonsets': {
			const s = o as K8s.V1DaemonSet;
			return {
				...named(s),
				kind: 'DaemonSet',
				desired: s.status?.desiredNumberScheduled ?? 0,
				ready: s.status?.numberReady ?? 0,
				conditions: conditions(s.status?.conditions),
				refs: templateRefs(s.spec?.template?.spec),
				createdAt: iso(s.metadata?.creationTimestamp),
			};
		}
		case 'jobs': {
			const j = o as K8s.V1Job;
			const done = (j.status?.succeeded ?? 0) >= (j.spec?.completions ?? 1);
			return {
				...named(j),
				kind: 'Job',
				desired: done ? 0 : (j.spec?.parallelism ?? 1),
				ready: (j.status?.active ?? 0) + (j.status?.succeeded ?? 0),
				failed: j.status?.failed ?? 0,
				conditions: conditions(j.status?.conditions),
				refs: templateRefs(j.spec?.template?.spec),
				createdAt: iso(j.metadata?.creationTimestamp),
			};
		}
		case 'persistentvolumeclaims': {
			const c = o as K8s.V1PersistentVolumeClaim;
			return {
				...named(c),
				phase: c.status?.phase ?? 'Pending',
				...(c.spec?.storageClassName ? {storageClass: c.spec.storageClassName} : {}),
				createdAt: iso(c.metadata?.creationTimestamp),
			};
		}
		case 'serviceaccounts':
		case 'configmaps':
		case 'secrets':
			// Only the name: a Secret's data never leaves the adapter.
			return named(o as {metadata?: K8s.V1ObjectMeta});
		case 'ingresses': {
			const i = o as K8s.V1Ingress;
			const backends: {service: string; port?: string | number}[] = [];
			const add = (b: K8s.V1IngressBackend | undefined) =>
				b?.service?.name &&
				backends.push({
					service: b.service.name,
					...((b.service.port?.number ?? b.service.port?.name) ? {port: b.service.port?.number ?? b.service.port?.name} : {}),
				});
			add(i.spec?.defaultBackend);
			for (const r of i.spec?.rules ?? []) for (const p of r.http?.paths ?? []) add(p.backend);
			return {...named(i), backends, createdAt: iso(i.metadata?.creationTimestamp)};
		}
		case 'validatingwebhookconfigurations':
		case 'mutatingwebhookconfigurations': {
			const w = o as K8s.V1ValidatingWebhookConfiguration;
			return {
				uid: w.metadata?.uid ?? '',
				name: w.metadata?.name ?? '',
				kind: kind === 'validatingwebhookconfigurations' ? 'ValidatingWebhookConfiguration' : 'MutatingWebhookConfiguration',
				services: (w.webhooks ?? []).flatMap((h) =>
					h.clientConfig?.service
						? [{namespace: h.clientConfig.service.namespace, name: h.clientConfig.service.name, webhook: h.name}]
						: [],
				),
				createdAt: iso(w.metadata?.creationTimestamp),
			};
		}
		case 'events': {
			const e = o as K8s.CoreV1Event;
			return {...eventFacts(e), uid: e.metadata?.uid ?? '', involvedUid: e.involvedObject?.uid};
		}
		case 'services': {
			const v = o as K8s.V1Service;
			return {
				uid: v.metadata?.uid ?? '',
				namespace: v.metadata?.namespace ?? '',
				name: v.metadata?.name ?? '',
				type: v.spec?.type ?? 'ClusterIP',
				selector: v.spec?.selector,
				createdAt: iso(v.metadata?.creationTimestamp),
				ports: (v.spec?.ports ?? []).map((p) => ({
					port: p.port,
					...(p.targetPort !== undefined ? {targetPort: p.targetPort as string | number} : {}),
				})),
			};
		}
		case 'endpoints': {
			const e = o as K8s.V1Endpoints;
			const subsets = e.subsets ?? [];
			return {
				uid: e.metadata?.uid ?? '',
				namespace: e.metadata?.namespace ?? '',
				name: e.metadata?.name ?? '',
				ready: subsets.reduce((n, x) => n + (x.addresses?.length ?? 0), 0),
				notReady: subsets.reduce((n, x) => n + (x.notReadyAddresses?.length ?? 0), 0),
			};
		}
		case 'nodes': {
			const n = o as K8s.V1Node;
			return {
				uid: n.metadata?.uid ?? '',
				name: n.metadata?.name ?? '',
				ready: n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
				images: [...new Set((n.status?.images ?? []).flatMap((i) => i.names ?? []).filter((x) => !x.includes('@sha256:')))],
				conditions: conditions(n.status?.conditions),
				taints: (n.spec?.taints ?? []).map((t) => ({key: t.key, effect: t.effect})),
				...(n.spec?.unschedulable ? {unschedulable: true} : {}),
			};
		}
	}
}

export type LiveOptions = KubeOptions & {containerdSocket?: string; kindCluster?: string; engine?: 'podman' | 'docker'};

/** Where the node's own image list is read: a Kind node through `crictl images`, a host containerd, else node status. */
export async function nodeImageSource(opts: LiveOptions): Promise<(() => Promise<string[]>) | undefined> {
	const spec = {
		name: opts.kindCluster ?? opts.context ?? 'current-context',
		kubeconfigPath: opts.kubeconfig ?? '',
		cwd: process.cwd(),
		waitSeconds: 0,
	};
	if (opts.kindCluster) {
		const {createKindProvider} = await import('./kind.js');
		const kind = createKindProvider(createExec(), opts.engine ?? 'podman');
		return () => kind.nodeImages(spec);
	}
	if (opts.containerdSocket) {
		const provider = createExistingProvider(createExec(), {
			containerdSocket: opts.containerdSocket,
			kubeconfig: opts.kubeconfig,
			context: opts.context,
		});
		return () => provider.nodeImages(spec);
	}
	return undefined;
}

/**
 * A port that lists every kind once and stops (no watch): what a one-look command needs, over node:https when the
 * kubeconfig allows, so it never pays for loading client-node. A failed list is tried again with backoff until the
 * caller's signal ends the look, as a reflector would.
 */
function oneLookPort(rc: RestConfig, images: (() => Promise<string[]>) | undefined): LivePort {
	return {
		subscribe(namespace, sink, signal) {
			// Every kind's request listens on the same signal while it runs.
			setMaxListeners(LIVE_KINDS.length * 2 + 10, signal);
			for (const kind of LIVE_KINDS) {
				const path = paths(kind, CLUSTER_SCOPED.has(kind) ? undefined : namespace);
				void (async () => {
					for (let failures = 0; !signal.aborted; failures++) {
						sink.status({resource: kind, state: 'listing', at: Date.now(), relists: 0});
						try {
							const items = await restList(rc, path, `list ${kind}`, signal);
							if (signal.aborted) return;
							sink.reset(
								kind,
								items.map((i) => toLive(kind, i)),
							);
							sink.status({resource: kind, state: 'listed', at: Date.now(), relists: 1});
							return;
						} catch (error) {
							if (signal.aborted) return;
							const e = error as KubeError;
							sink.status({
								resource: kind,
								state: e.status === 403 ? 'forbidden' : 'retrying',
								message: e.message,
								at: Date.now(),
								relists: 0,
							});
							if (e.status === 403) return;
							await new Promise((r) => setTimeout(r, Math.min(15_000, 500 * 2 ** failures)).unref());
						}
					}
				})();
			}
		},
		logs: (namespace, pod, container, o) => restLogs(rc, namespace, pod, container, {...o, timestamps: true}),
		...(images ? {nodeImages: images} : {}),
	};
}

/** The live port: reflectors that keep watching, or (`once`) one look at every kind, as cheaply as the kubeconfig allows. */
export async function createLivePort(opts: LiveOptions, how: {once?: boolean} = {}): Promise<LivePort> {
	if (how.once) {
		const rc = restConfig(opts);
		if (rc) return oneLookPort(rc, await nodeImageSource(opts));
	}
	const k8s = await import('@kubernetes/client-node');
	const kc = loadKubeConfig(k8s, opts);
	if (!kc.getCurrentCluster()) throw new KubeError('config', `kubeconfig context "${kc.getCurrentContext()}" names no cluster`);
	const kube = await createKube(opts);
	const images = await nodeImageSource(opts);
	return {
		subscribe(namespace: string | undefined, sink: LiveSink, signal: AbortSignal) {
			const kinds: WatchResource[] = [...LIVE_KINDS];
			// One reflector per kind listens on the same signal (each watch and each pause adds a listener for a while).
			setMaxListeners(kinds.length * 4 + 10, signal);
			for (const kind of kinds) {
				void reflect(
					k8s,
					kc,
					kind,
					CLUSTER_SCOPED.has(kind) ? undefined : namespace,
					{
						reset: (r, items) =>
							sink.reset(
								r,
								items.map((i) => toLive(r, i)),
							),
						upsert: (r, item) => sink.upsert(r, toLive(r, item)),
						remove: (r, item) => sink.remove(r, toLive(r, item).uid),
						status: (s) => sink.status(s),
					},
					signal,
				);
			}
		},
		logs: (namespace, pod, container, o) => kube.logs(namespace, pod, container, {...o, timestamps: true}),
		...(images ? {nodeImages: images} : {}),
	};
}
