/** The live triage's port on @kubernetes/client-node: reflectors for the watched kinds, logs with timestamps. */
import type * as K8s from '@kubernetes/client-node';
import type {LiveKind, LiveObject, LivePort, LiveSink} from '../core/live/types.js';
import {createExec} from './exec.js';
import {createExistingProvider} from './existing.js';
import {controllerOf, deploymentFacts, eventFacts, iso, podFacts} from './kube-facts.js';
import {reflect, type WatchResource} from './kube-watch.js';
import {KubeError, createKube, loadKubeConfig, type KubeOptions} from './kube.js';

const noOwners = {owners: new Map<string, string>(), stale: new Set<string>()};

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
			return {...deploymentFacts(d), uid: d.metadata?.uid ?? ''};
		}
		case 'events': {
			const e = o as K8s.CoreV1Event;
			return {...eventFacts(e), uid: e.metadata?.uid ?? '', involvedUid: e.involvedObject?.uid};
		}
		case 'services': {
			const v = o as K8s.V1Service;
			return {uid: v.metadata?.uid ?? '', namespace: v.metadata?.namespace ?? '', name: v.metadata?.name ?? '', type: v.spec?.type ?? 'ClusterIP', selector: v.spec?.selector, createdAt: iso(v.metadata?.creationTimestamp)};
		}
		case 'endpoints': {
			const e = o as K8s.V1Endpoints;
			const subsets = e.subsets ?? [];
			return {uid: e.metadata?.uid ?? '', namespace: e.metadata?.namespace ?? '', name: e.metadata?.name ?? '', ready: subsets.reduce((n, x) => n + (x.addresses?.length ?? 0), 0), notReady: subsets.reduce((n, x) => n + (x.notReadyAddresses?.length ?? 0), 0)};
		}
		case 'nodes': {
			const n = o as K8s.V1Node;
			return {
				uid: n.metadata?.uid ?? '',
				name: n.metadata?.name ?? '',
				ready: n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
				images: [...new Set((n.status?.images ?? []).flatMap((i) => i.names ?? []).filter((x) => !x.includes('@sha256:')))],
			};
		}
	}
}

export type LiveOptions = KubeOptions & {containerdSocket?: string; kindCluster?: string; engine?: 'podman' | 'docker'};

/** Where the node's own image list is read: a Kind node through `crictl images`, a host containerd, else node status. */
export async function nodeImageSource(opts: LiveOptions): Promise<(() => Promise<string[]>) | undefined> {
	const spec = {name: opts.kindCluster ?? opts.context ?? 'current-context', kubeconfigPath: opts.kubeconfig ?? '', cwd: process.cwd(), waitSeconds: 0};
	if (opts.kindCluster) {
		const {createKindProvider} = await import('./kind.js');
		const kind = createKindProvider(createExec(), opts.engine ?? 'podman');
		return () => kind.nodeImages(spec);
	}
	if (opts.containerdSocket) {
		const provider = createExistingProvider(createExec(), {containerdSocket: opts.containerdSocket, kubeconfig: opts.kubeconfig, context: opts.context});
		return () => provider.nodeImages(spec);
	}
	return undefined;
}

export async function createLivePort(opts: LiveOptions): Promise<LivePort> {
	const k8s = await import('@kubernetes/client-node');
	const kc = loadKubeConfig(k8s, opts);
	if (!kc.getCurrentCluster()) throw new KubeError('config', `kubeconfig context "${kc.getCurrentContext()}" names no cluster`);
	const kube = await createKube(opts);
	const images = await nodeImageSource(opts);
	return {
		subscribe(namespace: string | undefined, sink: LiveSink, signal: AbortSignal) {
			const kinds: WatchResource[] = ['pods', 'events', 'deployments', 'replicasets', 'services', 'endpoints', 'nodes'];
			for (const kind of kinds) {
				void reflect(
					k8s,
					kc,
					kind,
					kind === 'nodes' ? undefined : namespace,
					{
						reset: (r, items) => sink.reset(r, items.map((i) => toLive(r, i))),
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
