/**
 * List-then-watch of one resource, as client-go's reflector does it: a list gives the state and a resourceVersion,
 * a watch from there gives the changes; a closed watch resumes from the last version seen, an expired one (410)
 * or a restarted API server leads to a fresh list that replaces the state, so nothing is missed or kept stale.
 */
import type * as K8s from '@kubernetes/client-node';

import type {LiveKind} from '../core/cluster/ports.js';

export type WatchResource = LiveKind;
/** Kinds that have no namespace: watched across the cluster whatever namespace the triage looks at. */
export const CLUSTER_SCOPED = new Set<WatchResource>(['nodes', 'validatingwebhookconfigurations', 'mutatingwebhookconfigurations']);
export type WatchState = 'listing' | 'watching' | 'listed' | 'retrying' | 'forbidden';
export type ResourceStatus = {resource: WatchResource; state: WatchState; message?: string; at: number; relists: number};

type Obj = {metadata?: {name?: string; namespace?: string; uid?: string; resourceVersion?: string}};

/** Where a reflector reports: the whole state after a list, then each change, and how the connection is doing. */
export type ReflectorSink = {
	reset(resource: WatchResource, items: Obj[]): void;
	upsert(resource: WatchResource, item: Obj): void;
	remove(resource: WatchResource, item: Obj): void;
	status(s: ResourceStatus): void;
};

type ListResult = {items: Obj[]; metadata?: {resourceVersion?: string}};

export type ReflectorOptions = {
	/** First pause after a failure; doubles up to maxBackoffMs. */
	backoffMs?: number;
	maxBackoffMs?: number;
	/** How often a resource refused with 403 is tried again. */
	forbiddenRetryMs?: number;
};

/** The API path of a kind's collection, in one namespace or across the cluster. */
export function paths(resource: WatchResource, ns: string | undefined): string {
	const scoped = (group: string) => (ns ? `${group}/namespaces/${ns}/${resource}` : `${group}/${resource}`);
	switch (resource) {
		case 'pods':
		case 'events':
		case 'services':
		case 'endpoints':
			return scoped('/api/v1');
		case 'persistentvolumeclaims':
		case 'serviceaccounts':
		case 'configmaps':
		case 'secrets':
			return scoped('/api/v1');
		case 'deployments':
		case 'replicasets':
		case 'statefulsets':
		case 'daemonsets':
			return scoped('/apis/apps/v1');
		case 'jobs':
			return scoped('/apis/batch/v1');
		case 'ingresses':
			return scoped('/apis/networking.k8s.io/v1');
		case 'nodes':
			return '/api/v1/nodes';
		case 'validatingwebhookconfigurations':
		case 'mutatingwebhookconfigurations':
			return `/apis/admissionregistration.k8s.io/v1/${resource}`;
	}
}

function lister(
	k8s: typeof K8s,
	kc: K8s.KubeConfig,
	resource: WatchResource,
	ns: string | undefined,
	timeoutMs: number,
): () => Promise<ListResult> {
	const core = kc.makeApiClient(k8s.CoreV1Api);
	const apps = kc.makeApiClient(k8s.AppsV1Api);
	const batch = kc.makeApiClient(k8s.BatchV1Api);
	const net = kc.makeApiClient(k8s.NetworkingV1Api);
	const adm = kc.makeApiClient(k8s.AdmissionregistrationV1Api);
	const opt = {timeoutSeconds: Math.ceil(timeoutMs / 1000)};
	switch (resource) {
		case 'pods':
			return () => (ns ? core.listNamespacedPod({namespace: ns, ...opt}) : core.listPodForAllNamespaces(opt)) as Promise<ListResult>;
		case 'events':
			return () => (ns ? core.listNamespacedEvent({namespace: ns, ...opt}) : core.listEventForAllNamespaces(opt)) as Promise<ListResult>;
		case 'deployments':
			return () =>
				(ns ? apps.listNamespacedDeployment({namespace: ns, ...opt}) : apps.listDeploymentForAllNamespaces(opt)) as Promise<ListResult>;
		case 'replicasets':
			return () =>
				(ns ? apps.listNamespacedReplicaSet({namespace: ns, ...opt}) : apps.listReplicaSetForAllNamespaces(opt)) as Promise<ListResult>;
		case 'nodes':
			return () => core.listNode(opt) as Promise<ListResult>;
		case 'services':
			return () =>
				(ns ? core.listNamespacedService({namespace: ns, ...opt}) : core.listServiceForAllNamespaces(opt)) as Promise<ListResult>;
		case 'endpoints':
			return () =>
				(ns ? core.listNamespacedEndpoints({namespace: ns, ...opt}) : core.listEndpointsForAllNamespaces(opt)) as Promise<ListResult>;
		case 'statefulsets':
			return () =>
				(ns ? apps.listNamespacedStatefulSet({namespace: ns, ...opt}) : apps.listStatefulSetForAllNamespaces(opt)) as Promise<ListResult>;
		case 'daemonsets':
			return () =>
				(ns ? apps.listNamespacedDaemonSet({namespace: ns, ...opt}) : apps.listDaemonSetForAllNamespaces(opt)) as Promise<ListResult>;
		case 'jobs':
			return () => (ns ? batch.listNamespacedJob({namespace: ns, ...opt}) : batch.listJobForAllNamespaces(opt)) as Promise<ListResult>;
		case 'persistentvolumeclaims':
			return () =>
				(ns
					? core.listNamespacedPersistentVolumeClaim({namespace: ns, ...opt})
					: core.listPersistentVolumeClaimForAllNamespaces(opt)) as Promise<ListResult>;
		case 'serviceaccounts':
			return () =>
				(ns
					? core.listNamespacedServiceAccount({namespace: ns, ...opt})
					: core.listServiceAccountForAllNamespaces(opt)) as Promise<ListResult>;
		case 'configmaps':
			return () =>
				(ns ? core.listNamespacedConfigMap({namespace: ns, ...opt}) : core.listConfigMapForAllNamespaces(opt)) as Promise<ListResult>;
		case 'secrets':
			return () => (ns ? core.listNamespacedSecret({namespace: ns, ...opt}) : core.listSecretForAllNamespaces(opt)) as Promise<ListResult>;
		case 'ingresses':
			return () => (ns ? net.listNamespacedIngress({namespace: ns, ...opt}) : net.listIngressForAllNamespaces(opt)) as Promise<ListResult>;
		case 'validatingwebhookconfigurations':
			return () => adm.listValidatingWebhookConfiguration(opt) as Promise<ListResult>;
		case 'mutatingwebhookconfigurations':
			return () => adm.listMutatingWebhookConfiguration(opt) as Promise<ListResult>;
	}
}

function statusCode(error: unknown): number | undefined {
	const e = error as {code?: unknown; statusCode?: unknown};
	if (typeof e?.statusCode === 'number') return e.statusCode;
	if (typeof e?.code === 'number') return e.code;
	return undefined;
}

/** The server's own words when there are some (a Status body's message), else the first line of the error. */
function reason(error: unknown, server?: string): string {
	const body = (error as {body?: unknown})?.body;
	let message: unknown;
	try {
		message = (typeof body === 'string' ? JSON.parse(body) : body)?.message;
	} catch {
		message = undefined;
	}
	if (typeof message === 'string' && message) return message.slice(0, 300);
	const code = statusCode(error);
	const net = (error as {code?: unknown; errno?: unknown})?.code ?? (error as {errno?: unknown})?.errno;
	const plainNet: Record<string, string> = {
		ECONNREFUSED: 'connection refused',
		ENOTFOUND: 'host name not found',
		EAI_AGAIN: 'host name not found',
		ECONNRESET: 'connection reset',
		ETIMEDOUT: 'connection timed out',
		EHOSTUNREACH: 'no route to host',
	};
	if (typeof net === 'string' && plainNet[net])
		return `cannot reach the Kubernetes API server${server ? ` at ${server}` : ''}: ${plainNet[net]}`;
	const m = error instanceof Error ? error.message : String(error);
	const first = (m.split('\n')[0] ?? m).slice(0, 200);
	return code === 403 ? `forbidden (${first})` : first;
}

/** Keeps one resource of one namespace (or all) mirrored into the sink until the signal aborts. */
export function reflect(
	k8s: typeof K8s,
	kc: K8s.KubeConfig,
	resource: WatchResource,
	namespace: string | undefined,
	sink: ReflectorSink,
	signal: AbortSignal,
	opts: ReflectorOptions = {},
): Promise<void> {
	const list = lister(k8s, kc, resource, namespace, 30_000);
	const path = paths(resource, namespace);
	const watch = new k8s.Watch(kc);
	const base = opts.backoffMs ?? 500;
	const max = opts.maxBackoffMs ?? 15_000;
	let relists = 0;
	let version: string | undefined;
	const server = kc.getCurrentCluster()?.server;
	const report = (state: WatchState, message?: string) => sink.status({resource, state, message, at: Date.now(), relists});
	// Listeners are removed when they are done with, so a long watch does not pile them up on the signal.
	const pause = (ms: number) =>
		new Promise<void>((resolve) => {
			const onAbort = () => (clearTimeout(t), resolve());
			const t = setTimeout(() => (signal.removeEventListener('abort', onAbort), resolve()), ms);
			signal.addEventListener('abort', onAbort, {once: true});
		});

	/** One watch connection: resolves with why it ended. */
	const watchOnce = () =>
		new Promise<'gone' | 'closed' | {error: unknown}>((resolve) => {
			let ended = false;
			let onAbort: (() => void) | undefined;
			const end = (r: 'gone' | 'closed' | {error: unknown}) => {
				if (ended) return;
				ended = true;
				if (onAbort) signal.removeEventListener('abort', onAbort);
				resolve(r);
			};
			watch
				.watch(
					path,
					{resourceVersion: version, allowWatchBookmarks: true},
					(type: string, obj: Obj & {code?: number}) => {
						if (type === 'ERROR') return end(obj.code === 410 ? 'gone' : {error: new Error(`watch error ${obj.code ?? ''}`)});
						if (obj?.metadata?.resourceVersion) version = obj.metadata.resourceVersion;
						if (type === 'BOOKMARK') return;
						if (type === 'DELETED') sink.remove(resource, obj);
						else sink.upsert(resource, obj);
					},
					(err: unknown) => end(err ? {error: err} : 'closed'),
				)
				.then((ctl) => {
					if (signal.aborted || ended) return ctl.abort();
					onAbort = () => (ctl.abort(), end('closed'));
					signal.addEventListener('abort', onAbort, {once: true});
				})
				.catch((error: unknown) => end({error}));
		});

	return (async () => {
		let failures = 0;
		while (!signal.aborted) {
			try {
				if (!version) {
					report('listing');
					const r = await list();
					if (signal.aborted) return;
					relists++;
					failures = 0;
					version = r.metadata?.resourceVersion;
					sink.reset(resource, r.items);
				}
				report('watching');
				const started = Date.now();
				const ended = await watchOnce();
				if (signal.aborted) return;
				if (ended === 'gone') {
					version = undefined;
					continue;
				}
				if (ended === 'closed') {
					// The server ends watches after a while; reopen from the last version. A watch that closes at once
					// again and again means something is wrong: count it as a failure so it backs off.
					if (Date.now() - started > 1000) failures = 0;
					else failures++;
				} else {
					throw ended.error;
				}
				if (failures > 0) await pause(Math.min(max, base * 2 ** (failures - 1)));
			} catch (error) {
				if (signal.aborted) return;
				const code = statusCode(error);
				if (code === 403) {
					report('forbidden', reason(error, server));
					version = undefined;
					await pause(opts.forbiddenRetryMs ?? 30_000);
					continue;
				}
				failures++;
				// After a failure the list is the only safe starting point: the server may have restarted and lost the watch cache.
				version = undefined;
				report('retrying', reason(error, server));
				await pause(Math.min(max, base * 2 ** (failures - 1)));
			}
		}
	})();
}
