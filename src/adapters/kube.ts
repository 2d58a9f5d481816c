/**
 * KubePort over @kubernetes/client-node 1.4, imported lazily so commands that never touch a cluster
 * start without paying for it. Every failure becomes a KubeError whose message is one line.
 */
import {AsyncLocalStorage} from 'node:async_hooks';
import {existsSync} from 'node:fs';
import {homedir} from 'node:os';
import {delimiter, join} from 'node:path';
import type * as K8s from '@kubernetes/client-node';
import {stringify} from 'yaml';
import type {AppliedObject, DeploymentFacts, EventFacts, KubePort, PodFacts} from '../core/provision/ports.js';
import {controllerOf, deploymentFacts, eventFacts, iso, podFacts, type RsOwners} from './kube-facts.js';
import {reflect} from './kube-watch.js';
import {sleep as abortableSleep} from '../core/sleep.js';
const sleep = (ms: number, signal?: AbortSignal) => abortableSleep(ms, signal, () => new KubeError('cancelled', 'cancelled'));

export type KubeOptions = {
	/** A kubeconfig file, as kubectl's --kubeconfig; otherwise $KUBECONFIG (several paths) or ~/.kube/config. */
	kubeconfig?: string;
	/** A context of that kubeconfig, as kubectl's --context; otherwise its current-context. */
	context?: string;
	/** Per request; an API server that hangs must not hang kdoctor. */
	requestTimeoutMs?: number;
};

export type KubeErrorKind =
	'config' | 'unreachable' | 'tls' | 'timeout' | 'cancelled' | 'unauthorized' | 'forbidden' | 'not-found' | 'invalid' | 'api';

/** A Kubernetes failure told in one line (what kdoctor tried, and what the server or network said). */
export class KubeError extends Error {
	/** The API server's message alone, for callers that name the object themselves. */
	serverMessage?: string;

	constructor(
		readonly kind: KubeErrorKind,
		message: string,
		readonly status?: number,
	) {
		super(message);
		this.name = 'KubeError';
	}
}

type Doc = Record<string, unknown> & {apiVersion?: string; kind?: string; metadata?: {name?: string; namespace?: string}};

const defaultTimeoutMs = 30_000;
const crdApiGroup = 'apiextensions.k8s.io/';

/** No previous instance (it never restarted) or not started yet: there is simply no log to show. */
export function noLogYet(error: unknown): boolean {
	return (
		error instanceof KubeError &&
		error.status === 400 &&
		/previous terminated container .* not found|is waiting to start/.test(error.message)
	);
}

/** Loads the kubeconfig the way kubectl does and returns the KubePort, or throws a one-line KubeError. */
export async function createKube(opts: KubeOptions = {}): Promise<KubePort> {
	const k8s = await import('@kubernetes/client-node');
	const kc = loadKubeConfig(k8s, opts);
	const cluster = kc.getCurrentCluster();
	if (!cluster) throw new KubeError('config', `kubeconfig context "${kc.getCurrentContext()}" names no cluster`);
	const server = cluster.server;
	const timeoutMs = opts.requestTimeoutMs ?? defaultTimeoutMs;

	// The caller's AbortSignal reaches the request middleware through async context, not through every signature.
	const callSignal = new AsyncLocalStorage<AbortSignal | undefined>();
	const config = k8s.createConfiguration({
		baseServer: new k8s.ServerConfiguration(server, {}),
		authMethods: {default: kc},
		promiseMiddleware: [
			{
				pre: async (ctx) => {
					const caller = callSignal.getStore();
					const timeout = AbortSignal.timeout(timeoutMs);
					ctx.setSignal(caller ? AbortSignal.any([timeout, caller]) : timeout);
					return ctx;
				},
				post: async (res) => res,
			},
		],
	});

	/** Exposes the discovery KubernetesObjectApi already caches, to know whether a kind is namespaced. */
	class ObjectApi extends k8s.KubernetesObjectApi {
		/**
		 * Server-side apply of the object exactly as written. The library's own patch() first maps the object onto its
		 * typed model, which drops every key whose JSON name differs from the model's (`x-kubernetes-preserve-unknown-fields`,
		 * `default`, `enum`, `$ref` in a CRD's schema): a CRD applied so is not the CRD in the file.
		 */
		async applyRaw(spec: K8s.KubernetesObject, fieldManager: string): Promise<K8s.KubernetesObject> {
			const ctx = this.configuration.baseServer.makeRequestContext(await this.specUriPath(spec, 'patch'), k8s.HttpMethod.PATCH);
			ctx.setHeaderParam('Accept', 'application/json, */*;q=0.8');
			ctx.setHeaderParam('Content-Type', k8s.PatchStrategy.ServerSideApply);
			ctx.setQueryParam('fieldManager', fieldManager);
			ctx.setQueryParam('force', 'true');
			ctx.setBody(JSON.stringify(spec));
			return this.requestPromise(ctx);
		}

		/** The resource's plural name (what its REST path spells), or undefined when the server has no such kind. */
		async plural(apiVersion: string, kind: string): Promise<string | undefined> {
			return (await this.resource(apiVersion, kind))?.name;
		}

		async scope(apiVersion: string, kind: string): Promise<'namespaced' | 'cluster' | undefined> {
			const r = await this.resource(apiVersion, kind).catch((error: unknown) => {
				if (statusOf(error) === 404) return undefined;
				throw error;
			});
			if (!r) return undefined;
			return r.namespaced ? 'namespaced' : 'cluster';
		}
	}

	const api = {
		core: new k8s.CoreV1Api(config),
		apps: new k8s.AppsV1Api(config),
		batch: new k8s.BatchV1Api(config),
		crd: new k8s.ApiextensionsV1Api(config),
		objects: new ObjectApi(config),
		custom: new k8s.CustomObjectsApi(config),
	};

	/** Runs one API call, turning whatever it throws into a KubeError that names `what`. */
	async function call<T>(what: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
		if (signal?.aborted) throw new KubeError('cancelled', `cancelled before it could ${what}`);
		try {
			return await callSignal.run(signal, fn);
		} catch (error) {
			throw explain(error, what, server, timeoutMs, signal);
		}
	}

	return new ClientKube(k8s, api, call, kc);
}

type Apis = {
	core: K8s.CoreV1Api;
	apps: K8s.AppsV1Api;
	batch: K8s.BatchV1Api;
	crd: K8s.ApiextensionsV1Api;
	objects: K8s.KubernetesObjectApi & {
		scope(apiVersion: string, kind: string): Promise<'namespaced' | 'cluster' | undefined>;
		plural(apiVersion: string, kind: string): Promise<string | undefined>;
		applyRaw(spec: K8s.KubernetesObject, fieldManager: string): Promise<K8s.KubernetesObject>;
	};
	custom: K8s.CustomObjectsApi;
};
type Call = <T>(what: string, fn: () => Promise<T>, signal?: AbortSignal) => Promise<T>;

class ClientKube implements KubePort {
	constructor(
		private readonly k8s: typeof K8s,
		private readonly api: Apis,
		private readonly call: Call,
		private readonly kc: K8s.KubeConfig,
	) {}

	watch(namespace: string, onChange: () => void, signal: AbortSignal): void {
		// The reflectors of the live triage: a closed watch resumes, an expired one or a restarted server re-lists.
		const sink = {reset: onChange, upsert: onChange, remove: onChange, status: () => undefined};
		for (const resource of ['pods', 'events'] as const) void reflect(this.k8s, this.kc, resource, namespace, sink, signal);
	}

	async deployment(namespace: string, name: string): Promise<DeploymentFacts | undefined> {
		try {
			const d = await this.call(`read deployment ${namespace}/${name}`, () => this.api.apps.readNamespacedDeployment({name, namespace}));
			return deploymentFacts(d);
		} catch (error) {
			if (error instanceof KubeError && error.status === 404) return undefined;
			throw error;
		}
	}

	async nodeImages(): Promise<string[]> {
		const nodes = await this.call('list nodes', () => this.api.core.listNode());
		const names = nodes.items.flatMap((n) => (n.status?.images ?? []).flatMap((i) => i.names ?? []));
		return [...new Set(names.filter((n) => !n.includes('@sha256:')))].sort();
	}

	async patchDeployment(namespace: string, name: string, patch: Record<string, unknown>): Promise<void> {
		await this.call(`patch deployment ${namespace}/${name}`, () =>
			this.api.apps.patchNamespacedDeployment(
				{name, namespace, body: patch, fieldManager: 'kdoctor-fix'},
				this.k8s.setHeaderOptions('Content-Type', this.k8s.PatchStrategy.StrategicMergePatch),
			),
		);
	}

	async readData(kind: 'ConfigMap' | 'Secret', namespace: string, name: string): Promise<Record<string, string> | undefined> {
		try {
			if (kind === 'ConfigMap') {
				const cm = await this.call(`read configmap ${namespace}/${name}`, () => this.api.core.readNamespacedConfigMap({name, namespace}));
				return {...cm.data};
			}
			const secret = await this.call(`read secret ${namespace}/${name}`, () => this.api.core.readNamespacedSecret({name, namespace}));
			return Object.fromEntries(Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
		} catch (error) {
			if (error instanceof KubeError && error.status === 404) return undefined;
			throw error;
		}
	}

	async patchStatus(
		object: {apiVersion: string; kind: string; namespace: string; name: string},
		status: Record<string, unknown>,
		signal?: AbortSignal,
	): Promise<void> {
		const {apiVersion, kind, namespace, name} = object;
		const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
		if (!group) throw new KubeError('invalid', `${kind} ${namespace}/${name}: only custom resources get a status from kdoctor`);
		const what = `set the status of ${kind} ${namespace}/${name}`;
		const plural = await this.call(`look up ${kind} (${apiVersion})`, () => this.api.objects.plural(apiVersion, kind), signal);
		if (!plural)
			throw new KubeError('not-found', `${kind} ${name}: the server has no kind ${kind} in ${apiVersion} (is its CRD installed?)`);
		await this.call(
			what,
			() =>
				this.api.custom.patchNamespacedCustomObjectStatus(
					{group: group!, version: version!, namespace, plural, name, body: {status}, fieldManager: 'kdoctor'},
					this.k8s.setHeaderOptions('Content-Type', this.k8s.PatchStrategy.MergePatch),
				),
			signal,
		);
	}

	async apply(docs: Record<string, unknown>[], namespace: string, signal?: AbortSignal): Promise<AppliedObject[]> {
		const all = (docs as Doc[]).filter((d) => d && typeof d === 'object' && d.kind);
		const isCrd = (d: Doc) => d.kind === 'CustomResourceDefinition' && String(d.apiVersion ?? '').startsWith(crdApiGroup);
		// CRDs first so the custom resources after them resolve; Namespaces next so objects in them can be made.
		const crds = all.filter(isCrd);
		const namespaces = all.filter((d) => !isCrd(d) && d.kind === 'Namespace' && d.apiVersion === 'v1');
		const rest = all.filter((d) => !crds.includes(d) && !namespaces.includes(d));
		const applied: AppliedObject[] = [];

		for (const doc of crds) applied.push(await this.applyOne(doc, undefined, signal));
		for (const doc of crds) await this.waitEstablished(String(doc.metadata?.name), signal);
		for (const doc of namespaces) applied.push(await this.applyOne(doc, undefined, signal));
		if (!namespaces.some((d) => d.metadata?.name === namespace)) await this.ensureNamespace(namespace, signal);
		for (const doc of rest) applied.push(await this.applyOne(doc, namespace, signal, crds.length > 0));
		return applied;
	}

	private async applyOne(doc: Doc, namespace: string | undefined, signal?: AbortSignal, newKinds = false): Promise<AppliedObject> {
		const kind = String(doc.kind);
		const apiVersion = String(doc.apiVersion ?? 'v1');
		const name = doc.metadata?.name;
		if (!name) throw new KubeError('invalid', `${kind} without metadata.name cannot be applied`);
		const body: Doc = {...doc, apiVersion, metadata: {...doc.metadata}};
		let ns: string | undefined;
		if (namespace !== undefined) {
			let scope = await this.call(`look up ${kind} (${apiVersion})`, () => this.api.objects.scope(apiVersion, kind), signal);
			// A CRD can be Established a moment before discovery serves its group.
			for (let i = 0; !scope && newKinds && i < 40; i++) {
				await sleep(250, signal);
				scope = await this.call(`look up ${kind} (${apiVersion})`, () => this.api.objects.scope(apiVersion, kind), signal);
			}
			if (!scope) {
				throw new KubeError('not-found', `${kind} ${name}: the server has no kind ${kind} in ${apiVersion} (is its CRD installed?)`);
			}
			if (scope === 'namespaced') ns = body.metadata!.namespace ??= namespace;
			else delete body.metadata!.namespace;
		}
		const label = `${kind} ${ns ? `${ns}/` : ''}${name}`;
		try {
			await this.call(`apply ${label}`, () => this.api.objects.applyRaw(body as K8s.KubernetesObject, 'kdoctor'), signal);
		} catch (error) {
			// The server's own words, minus its `Kind "name" is invalid:` preamble, after the object's name.
			if (error instanceof KubeError && (error.kind === 'invalid' || error.kind === 'api' || error.kind === 'not-found')) {
				throw new KubeError(error.kind, `${label}: ${error.serverMessage ?? error.message}`, error.status);
			}
			throw error;
		}
		return ns ? {kind, name, namespace: ns} : {kind, name};
	}

	private async ensureNamespace(name: string, signal?: AbortSignal): Promise<void> {
		try {
			await this.call(`read namespace ${name}`, () => this.api.core.readNamespace({name}), signal);
		} catch (error) {
			if (!(error instanceof KubeError) || error.status !== 404) throw error;
			await this.call(`create namespace ${name}`, () => this.api.core.createNamespace({body: {metadata: {name}}}), signal).catch(
				(error_: unknown) => {
					if (!(error_ instanceof KubeError) || error_.status !== 409) throw error_;
				},
			);
		}
	}

	private async waitEstablished(name: string, signal?: AbortSignal): Promise<void> {
		const deadline = Date.now() + 60_000;
		for (;;) {
			const crd = await this.call(`read CustomResourceDefinition ${name}`, () => this.api.crd.readCustomResourceDefinition({name}), signal);
			if (crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) return;
			if (Date.now() > deadline) throw new KubeError('timeout', `CustomResourceDefinition ${name} was not Established within 60s`);
			await sleep(250, signal);
		}
	}

	async pods(namespace: string, selector?: string): Promise<PodFacts[]> {
		const list = await this.call(`list pods in namespace ${namespace}`, () =>
			this.api.core.listNamespacedPod({namespace, labelSelector: selector || undefined}),
		);
		const owners = list.items.some((p) => controllerOf(p.metadata)?.kind === 'ReplicaSet')
			? await this.replicaSetOwners(namespace)
			: {owners: new Map<string, string>(), stale: new Set<string>()};
		return list.items.map((pod) => podFacts(pod, owners));
	}

	/**
	 * ReplicaSet name → Deployment name, and the ReplicaSets that are not their Deployment's newest revision (their
	 * pods are on their way out); without the right to list ReplicaSets, pods name their ReplicaSet.
	 */
	private async replicaSetOwners(namespace: string): Promise<RsOwners> {
		const owners = new Map<string, string>();
		const stale = new Set<string>();
		try {
			const rs = await this.call(`list replicasets in namespace ${namespace}`, () => this.api.apps.listNamespacedReplicaSet({namespace}));
			const newest = new Map<string, {name: string; revision: number}>();
			for (const r of rs.items) {
				const owner = controllerOf(r.metadata);
				const name = r.metadata?.name;
				if (!owner || !name) continue;
				owners.set(name, owner.name);
				const revision = Number(r.metadata?.annotations?.['deployment.kubernetes.io/revision'] ?? 0);
				const best = newest.get(owner.name);
				if (!best || revision > best.revision) {
					if (best) stale.add(best.name);
					newest.set(owner.name, {name, revision});
				} else stale.add(name);
			}
		} catch (error) {
			if (!(error instanceof KubeError) || error.kind !== 'forbidden') throw error;
		}
		return {owners, stale};
	}

	async events(namespace: string): Promise<EventFacts[]> {
		const list = await this.call(`list events in namespace ${namespace}`, () => this.api.core.listNamespacedEvent({namespace}));
		return list.items.map((e) => eventFacts(e, namespace)).sort((a, b) => a.lastSeen.localeCompare(b.lastSeen));
	}

	async logs(
		namespace: string,
		pod: string,
		container: string,
		opts: {previous?: boolean; tailLines?: number; timestamps?: boolean},
	): Promise<string> {
		const what = `read ${opts.previous ? 'previous ' : ''}logs of ${namespace}/${pod} container ${container}`;
		try {
			const text = await this.call(what, () =>
				this.api.core.readNamespacedPodLog({
					name: pod,
					namespace,
					container,
					previous: opts.previous,
					tailLines: opts.tailLines,
					timestamps: opts.timestamps,
				}),
			);
			return typeof text === 'string' ? text : String(text ?? '');
		} catch (error) {
			if (noLogYet(error)) return '';
			throw error;
		}
	}

	async jobStatus(namespace: string, name: string): Promise<'complete' | 'failed' | 'running' | 'missing'> {
		try {
			const job = await this.call(`read job ${namespace}/${name}`, () => this.api.batch.readNamespacedJob({name, namespace}));
			const conditions = job.status?.conditions ?? [];
			if (conditions.some((c) => c.type === 'Complete' && c.status === 'True')) return 'complete';
			if (conditions.some((c) => c.type === 'Failed' && c.status === 'True')) return 'failed';
			return 'running';
		} catch (error) {
			if (error instanceof KubeError && error.status === 404) return 'missing';
			throw error;
		}
	}

	async jobCompletedAt(namespace: string, name: string): Promise<string | undefined> {
		try {
			const job = await this.call(`read job ${namespace}/${name}`, () => this.api.batch.readNamespacedJob({name, namespace}));
			return job.status?.completionTime ? iso(job.status.completionTime) : undefined;
		} catch (error) {
			if (error instanceof KubeError && error.status === 404) return undefined;
			throw error;
		}
	}

	async deletePod(namespace: string, name: string): Promise<void> {
		try {
			await this.call(`delete pod ${namespace}/${name}`, () => this.api.core.deleteNamespacedPod({name, namespace, gracePeriodSeconds: 0}));
		} catch (error) {
			if (!(error instanceof KubeError && error.status === 404)) throw error;
		}
	}

	async deleteJob(namespace: string, name: string, signal?: AbortSignal): Promise<void> {
		try {
			await this.call(
				`delete job ${namespace}/${name}`,
				() => this.api.batch.deleteNamespacedJob({name, namespace, propagationPolicy: 'Background'}),
				signal,
			);
		} catch (error) {
			if (error instanceof KubeError && error.status === 404) return;
			throw error;
		}
		const deadline = Date.now() + 60_000;
		while ((await this.jobStatus(namespace, name)) !== 'missing') {
			if (Date.now() > deadline) throw new KubeError('timeout', `job ${namespace}/${name} was not deleted within 60s`);
			await sleep(200, signal);
		}
	}

	async dump(namespace: string): Promise<string> {
		const {core, apps, batch} = this.api;
		const ns = {namespace};
		const sections: [string, () => Promise<unknown[]>][] = [
			['pods', async () => (await core.listNamespacedPod(ns)).items],
			['deployments', async () => (await apps.listNamespacedDeployment(ns)).items],
			['replicasets', async () => (await apps.listNamespacedReplicaSet(ns)).items],
			['services', async () => (await core.listNamespacedService(ns)).items],
			['endpoints', async () => (await core.listNamespacedEndpoints(ns)).items],
			['jobs', async () => (await batch.listNamespacedJob(ns)).items],
			// Names and keys only: values may hold credentials and the bundle is meant to be shared.
			[
				'configmaps',
				async () =>
					(await core.listNamespacedConfigMap(ns)).items.map((c) => ({
						name: c.metadata?.name,
						keys: [...Object.keys(c.data ?? {}), ...Object.keys(c.binaryData ?? {})],
					})),
			],
			[
				'secrets',
				async () =>
					(await core.listNamespacedSecret(ns)).items.map((s) => ({
						name: s.metadata?.name,
						type: s.type,
						keys: Object.keys(s.data ?? {}),
					})),
			],
			['events', async () => (await core.listNamespacedEvent(ns)).items],
		];
		const results = await Promise.allSettled(sections.map(([what, fn]) => this.call(`list ${what} in namespace ${namespace}`, fn)));
		if (results.every((r) => r.status === 'rejected')) throw (results[0] as PromiseRejectedResult).reason;
		const docs = results.map((r, i) => {
			const what = sections[i]![0];
			if (r.status === 'rejected') {
				const reason = r.reason instanceof Error ? r.reason.message : String(r.reason);
				return `# ${what}: could not be read: ${reason}\n`;
			}
			const items = (r.value as unknown[]).map(plain);
			return `# ${what} in ${namespace} (${items.length})\n${stringify({apiVersion: 'v1', kind: 'List', items})}`;
		});
		return docs.join('---\n');
	}

	async scale(namespace: string, deployment: string, replicas: number): Promise<void> {
		await this.call(`scale deployment ${namespace}/${deployment}`, () =>
			this.api.apps.patchNamespacedDeploymentScale(
				{name: deployment, namespace, body: {spec: {replicas}}},
				this.k8s.setHeaderOptions('Content-Type', this.k8s.PatchStrategy.MergePatch),
			),
		);
	}
}

/** The namespace the context names (kubectl's default for -n), or "default". */
export async function kubeconfigNamespace(opts: KubeOptions): Promise<string> {
	const k8s = await import('@kubernetes/client-node');
	const kc = loadKubeConfig(k8s, opts);
	return kc.getContextObject(kc.getCurrentContext())?.namespace || 'default';
}

/** kubectl's rules: --kubeconfig, else every file of $KUBECONFIG (first to define a name wins), else ~/.kube/config. */
export function loadKubeConfig(k8s: typeof K8s, opts: KubeOptions): K8s.KubeConfig {
	let files: string[];
	let source: string;
	if (opts.kubeconfig) {
		if (!existsSync(opts.kubeconfig)) throw new KubeError('config', `kubeconfig ${opts.kubeconfig} does not exist`);
		files = [opts.kubeconfig];
		source = opts.kubeconfig;
	} else if (process.env.KUBECONFIG) {
		files = process.env.KUBECONFIG.split(delimiter).filter((f) => f && existsSync(f));
		source = `KUBECONFIG=${process.env.KUBECONFIG}`;
		if (files.length === 0) throw new KubeError('config', `none of the files in ${source} exists`);
	} else {
		const file = join(homedir(), '.kube', 'config');
		if (!existsSync(file)) throw new KubeError('config', `no kubeconfig: ${file} does not exist and KUBECONFIG is not set`);
		files = [file];
		source = file;
	}

	const loaded = files.map((file) => {
		const kc = new k8s.KubeConfig();
		try {
			kc.loadFromFile(file);
		} catch (error) {
			throw new KubeError('config', `kubeconfig ${file} could not be read: ${firstLine(error)}`);
		}
		return kc;
	});
	let kc = loaded[0]!;
	if (loaded.length > 1) {
		const pick = <T extends {name: string}>(lists: T[][]) => {
			const seen = new Map<string, T>();
			for (const item of lists.flat()) if (!seen.has(item.name)) seen.set(item.name, item);
			return [...seen.values()];
		};
		kc = new k8s.KubeConfig();
		kc.loadFromOptions({
			clusters: pick(loaded.map((k) => k.getClusters())),
			users: pick(loaded.map((k) => k.getUsers())),
			contexts: pick(loaded.map((k) => k.getContexts())),
			currentContext: loaded.map((k) => k.getCurrentContext()).find(Boolean) ?? '',
		});
	}

	if (opts.context) {
		if (!kc.getContextObject(opts.context)) {
			const known = kc.getContexts().map((c) => c.name);
			throw new KubeError('config', `context "${opts.context}" is not in ${source} (it has: ${known.join(', ') || 'none'})`);
		}
		kc.setCurrentContext(opts.context);
	} else if (!kc.getCurrentContext()) {
		throw new KubeError('config', `${source} has no current-context; pass --context`);
	} else if (!kc.getContextObject(kc.getCurrentContext())) {
		throw new KubeError('config', `current-context "${kc.getCurrentContext()}" is not defined in ${source}`);
	}
	return kc;
}

/** Turns a thrown value into the one line a person needs: what could not be done, and the reason. */
function explain(error: unknown, what: string, server: string, timeoutMs: number, signal?: AbortSignal): KubeError {
	if (error instanceof KubeError) return error;
	const e = error as {name?: string; code?: unknown; type?: string; message?: string; body?: unknown};
	if (e?.name === 'AbortError' || e?.type === 'aborted') {
		if (signal?.aborted) return new KubeError('cancelled', `cancelled while trying to ${what}`);
		return new KubeError(
			'timeout',
			`the Kubernetes API server at ${server} did not answer within ${Math.round(timeoutMs / 100) / 10}s (trying to ${what})`,
		);
	}
	const status = statusOf(error);
	if (status !== undefined) {
		const message = serverMessage(e.body) ?? `HTTP ${status}`;
		if (status === 401) {
			return new KubeError(
				'unauthorized',
				`the API server at ${server} rejected the kubeconfig's credentials (401 Unauthorized): could not ${what}`,
				401,
			);
		}
		if (status === 403) return withServer(new KubeError('forbidden', `not allowed to ${what}: ${message}`, 403), message);
		const kind: KubeErrorKind = status === 404 ? 'not-found' : status === 400 || status === 409 || status === 422 ? 'invalid' : 'api';
		return withServer(new KubeError(kind, `could not ${what}: ${message}`, status), message);
	}
	const code =
		typeof e?.code === 'string'
			? e.code
			: typeof (e as {errno?: unknown})?.errno === 'string'
				? String((e as {errno?: unknown}).errno)
				: '';
	if (e?.name === 'FetchError' || code) {
		const reason = networkReason(code, firstLine(error));
		if (/CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME/i.test(code)) {
			return new KubeError('tls', `TLS with the Kubernetes API server at ${server} failed: ${reason} (trying to ${what})`);
		}
		return new KubeError('unreachable', `cannot reach the Kubernetes API server at ${server}: ${reason} (is the cluster running?)`);
	}
	return new KubeError('api', `could not ${what}: ${firstLine(error)}`);
}

function withServer(error: KubeError, message: string): KubeError {
	error.serverMessage = message.replace(/^[A-Za-z.]+ "[^"]*" is invalid: /, '');
	return error;
}

function networkReason(code: string, message: string): string {
	switch (code) {
		case 'ECONNREFUSED':
			return 'connection refused';
		case 'ENOTFOUND':
		case 'EAI_AGAIN':
			return 'host name not found';
		case 'ECONNRESET':
			return 'connection reset';
		case 'EHOSTUNREACH':
		case 'ENETUNREACH':
			return 'no route to host';
		case 'ETIMEDOUT':
			return 'connection timed out';
		default:
			return message.replace(/^request to \S+ failed, reason: /, '');
	}
}

function statusOf(error: unknown): number | undefined {
	const e = error as {code?: unknown; body?: unknown; name?: string};
	if (e && typeof e.code === 'number' && 'body' in e) return e.code;
	return undefined;
}

/** The `message` of a Status body, which client-node hands over as a string or an object. */
function serverMessage(body: unknown): string | undefined {
	let b = body;
	if (typeof body === 'string') {
		try {
			b = JSON.parse(body);
		} catch {
			return body.trim().split('\n')[0] || undefined;
		}
	}
	const m = (b as {message?: unknown})?.message;
	return typeof m === 'string' && m ? m.replace(/\s*\n\s*/g, ' ') : undefined;
}

function firstLine(error: unknown): string {
	const m = error instanceof Error ? error.message : String(error);
	return m.trim().split('\n')[0] ?? m;
}

/** Model objects as the API's JSON (dates as strings), without managedFields that only add noise. */
function plain(item: unknown): unknown {
	const o = JSON.parse(JSON.stringify(item)) as {metadata?: {managedFields?: unknown}};
	if (o?.metadata) delete o.metadata.managedFields;
	return o;
}
