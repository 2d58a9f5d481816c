import type {Diagnosis} from '../diagnose/diagnose.js';
import type {Facts, Finding} from '../diagnose/score.js';
import {finalEventProblem, finalProblem, liveEvidence, PULL_GRACE_MS, relevantEvents} from './evidence.js';
import {controllerProblems, otherProblems, type Mirror, type ObjectProblem} from './objects.js';
import type {
	LiveClaim,
	LiveController,
	LiveDeployment,
	LiveEndpoints,
	LiveEvent,
	LiveIngress,
	LiveKind,
	LiveNamed,
	LiveNode,
	LiveObject,
	LivePod,
	LiveReplicaSet,
	LiveService,
	LiveSink,
	LiveWebhook,
	PodFacts,
	ResourceStatus,
} from './ports.js';

/** How long a pod may be not ready before it is a finding, when nothing says it is final sooner. */
export const SETTLE_MS = {starting: PULL_GRACE_MS, running: 120_000};

export type TimelineItem = {
	at: string;
	source: 'event' | 'log' | 'status';
	text: string;
	pod?: string;
	container?: string;
	previous?: boolean;
};

/** One workload (Deployment, Job, StatefulSet, bare pod) with pods that are not healthy. */
export type TriageWorkload = {
	key: string;
	namespace: string;
	kind: string;
	name: string;
	/** Its current pods (leftovers of an older ReplicaSet and pods being deleted are left out). */
	pods: PodFacts[];
	troubled: PodFacts[];
	/** settling: not ready but still inside its grace period; failing: a finding (or a final state). */
	state: 'settling' | 'failing';
	/** Why it is final, when a state never clears on its own (CrashLoopBackOff, ErrImageNeverPull, OOMKilled…). */
	final?: string;
	since: number;
	settlesAt?: number;
	findings: Finding[];
	timeline: TimelineItem[];
	/** What could not be read for this workload (its logs, forbidden), so its diagnosis is known to be partial. */
	couldNotRead: string[];
	diagnosedAt?: number;
	/** When the change that led to this diagnosis arrived, for the latency of the finding. */
	changedAt?: number;
};

export type TriageSnapshot = {
	namespace?: string;
	at: number;
	/** Every watched resource has been listed once and every troubled workload has been diagnosed once. */
	complete: boolean;
	pods: number;
	workloads: number;
	healthy: number;
	failing: TriageWorkload[];
	settling: TriageWorkload[];
	resources: ResourceStatus[];
	/** Resources that could not be read (forbidden, unreachable): the triage says it did not look, not that all is well. */
	couldNotLook: string[];
};

export type TriageDeps = {
	diagnose(text: string, facts?: Facts): Diagnosis;
	logs(namespace: string, pod: string, container: string, opts: {previous?: boolean; tailLines?: number}): Promise<string>;
	nodeImages?(): Promise<string[]>;
	now(): number;
	setTimer(fn: () => void, ms: number): unknown;
	clearTimer(t: unknown): void;
};

export type Triage = {sink: LiveSink; snapshot(): TriageSnapshot; stop(): void};

/** No KB entry explains it: the finding is the object's own message, and it still counts as a failure. */
export const UNEXPLAINED = 'unexplained';

/** Waiting reasons of a container that has not run yet: there is no log to fetch. */
const NOT_STARTED = new Set([
	'ContainerCreating',
	'PodInitializing',
	'ErrImageNeverPull',
	'ErrImagePull',
	'ImagePullBackOff',
	'InvalidImageName',
	'CreateContainerConfigError',
	'CreateContainerError',
]);
/** At most this many pods of one workload are read closely (logs, status lines); the rest are alike or counted. */
const SAMPLE_PER_STATE = 3;
const SAMPLE_MAX = 10;

/** A few pods per distinct state (waiting reason, last termination), so 1,000 identical pods cost three log reads. */
export function representatives(pods: PodFacts[]): PodFacts[] {
	const byState = new Map<string, PodFacts[]>();
	for (const p of pods) {
		const sig =
			`${p.phase}|${p.unschedulableMessage ? 'unschedulable' : ''}` +
			`|${p.containers.map((c) => `${c.waitingReason ?? ''}/${c.lastTerminatedReason ?? c.terminatedReason ?? ''}`).join(',')}`;
		const list = byState.get(sig);
		if (!list) byState.set(sig, [p]);
		else if (list.length < SAMPLE_PER_STATE) list.push(p);
	}
	return [...byState.values()].flat().slice(0, SAMPLE_MAX);
}

/** Every kind the engine mirrors; a triage is complete once each was listed (or refused). */
export const LIVE_KINDS: LiveKind[] = [
	'pods',
	'replicasets',
	'deployments',
	'events',
	'nodes',
	'services',
	'endpoints',
	'statefulsets',
	'daemonsets',
	'jobs',
	'persistentvolumeclaims',
	'serviceaccounts',
	'configmaps',
	'secrets',
	'ingresses',
	'validatingwebhookconfigurations',
	'mutatingwebhookconfigurations',
];
/** Kinds whose objects are workloads' causes rather than workloads: a change re-reads every object problem. */
const OBJECT_KINDS = new Set<LiveKind>([
	'deployments',
	'statefulsets',
	'daemonsets',
	'jobs',
	'persistentvolumeclaims',
	'serviceaccounts',
	'configmaps',
	'secrets',
	'ingresses',
	'validatingwebhookconfigurations',
	'mutatingwebhookconfigurations',
	'nodes',
	'services',
	'endpoints',
	'events',
]);
/** Keys of object problems that are not workloads of their own pods. */
const OBJECT_KEY =
	/^(?:[^/]*)\/(?:Node|PersistentVolumeClaim|Ingress|ValidatingWebhookConfiguration|MutatingWebhookConfiguration)\/|#port$/;
const KINDS = LIVE_KINDS;
const LOG_RE = /^(\d{4}-\d\d-\d\dT[\d:.]+Z) (.*)$/;

/**
 * The live triage engine: a mirror of the watched objects, and for every workload whose current pods are not
 * healthy, a diagnosis by the KB over their status, events, logs and the node's images, redone when they change.
 */
export function createTriage(deps: TriageDeps, opts: {namespace?: string; onUpdate(s: TriageSnapshot): void; settle?: boolean}): Triage {
	// One-shot diagnosis (diagnose -n, fix -n) judges what is wrong now: no grace periods.
	const settle = opts.settle !== false;
	const pods = new Map<string, LivePod>();
	const rss = new Map<string, LiveReplicaSet>();
	const deployments = new Map<string, LiveDeployment>();
	const events = new Map<string, LiveEvent>();
	const nodes = new Map<string, LiveNode>();
	const services = new Map<string, LiveService>();
	const endpoints = new Map<string, LiveEndpoints>();
	const controllers = {
		statefulsets: new Map<string, LiveController>(),
		daemonsets: new Map<string, LiveController>(),
		jobs: new Map<string, LiveController>(),
	};
	const claims = new Map<string, LiveClaim>();
	const serviceAccounts = new Map<string, LiveNamed>();
	const configMaps = new Map<string, LiveNamed>();
	const secrets = new Map<string, LiveNamed>();
	const ingresses = new Map<string, LiveIngress>();
	const webhooks = {
		validatingwebhookconfigurations: new Map<string, LiveWebhook>(),
		mutatingwebhookconfigurations: new Map<string, LiveWebhook>(),
	};
	const maps: Record<LiveKind, Map<string, LiveObject>> = {
		pods,
		replicasets: rss,
		deployments,
		events,
		nodes,
		services,
		endpoints,
		...controllers,
		persistentvolumeclaims: claims,
		serviceaccounts: serviceAccounts,
		configmaps: configMaps,
		secrets,
		ingresses,
		...webhooks,
	} as never;
	/** Problems of controllers and other objects, recomputed after a change to any of them. */
	let objectProblems = new Map<string, ObjectProblem>();
	let objectsDirty = false;
	const mirror = (): Mirror => ({
		deployments: deployments.values(),
		controllers: [...controllers.statefulsets.values(), ...controllers.daemonsets.values(), ...controllers.jobs.values()],
		claims: claims.values(),
		serviceAccounts: serviceAccounts.values(),
		configMaps: configMaps.values(),
		secrets: secrets.values(),
		services: services.values(),
		endpoints: endpoints.values(),
		ingresses: ingresses.values(),
		webhooks: [...webhooks.validatingwebhookconfigurations.values(), ...webhooks.mutatingwebhookconfigurations.values()],
		nodes: nodes.values(),
		events: events.values(),
		pods: pods.values(),
		listed: new Set(listed),
		namespace: opts.namespace,
	});
	const statuses = new Map<LiveKind, ResourceStatus>();
	const listed = new Set<LiveKind>();
	const workloads = new Map<string, TriageWorkload>();
	const dirty = new Map<string, number>();
	const running = new Set<string>();
	const logCache = new Map<string, {text: string; failed?: string}>();
	let flushTimer: unknown;
	const settleTimers = new Map<string, unknown>();
	let stopped = false;
	let everyDirty = false;

	let rsIndex: {byName: Map<string, LiveReplicaSet>; newest: Map<string, number>} | undefined;
	/** ReplicaSets by namespace/name and each Deployment's newest revision, rebuilt only after a ReplicaSet changed. */
	const rsIdx = () => {
		if (rsIndex) return rsIndex;
		const byName = new Map<string, LiveReplicaSet>();
		const newest = new Map<string, number>();
		for (const r of rss.values()) {
			byName.set(`${r.namespace}/${r.name}`, r);
			if (r.deployment)
				newest.set(`${r.namespace}/${r.deployment}`, Math.max(newest.get(`${r.namespace}/${r.deployment}`) ?? 0, r.revision));
		}
		return (rsIndex = {byName, newest});
	};
	const podByName = new Map<string, string>();

	/** The workload a pod belongs to: its Deployment through the ReplicaSet, else its controller, else itself. */
	const workloadOf = (p: LivePod): {key: string; kind: string; name: string; stale: boolean} => {
		if (p.ownerKind === 'ReplicaSet' && p.ownerName) {
			const idx = rsIdx();
			const rs = idx.byName.get(`${p.namespace}/${p.ownerName}`);
			if (rs?.deployment) {
				const newest = idx.newest.get(`${p.namespace}/${rs.deployment}`) ?? rs.revision;
				return {key: `${p.namespace}/Deployment/${rs.deployment}`, kind: 'Deployment', name: rs.deployment, stale: rs.revision < newest};
			}
		}
		if (p.ownerKind && p.ownerName)
			return {key: `${p.namespace}/${p.ownerKind}/${p.ownerName}`, kind: p.ownerKind, name: p.ownerName, stale: false};
		return {key: `${p.namespace}/Pod/${p.name}`, kind: 'Pod', name: p.name, stale: false};
	};

	const markPod = (p: LivePod | undefined) => p && mark(workloadOf(p).key);
	function mark(key: string) {
		if (!dirty.has(key)) dirty.set(key, deps.now());
		schedule();
	}
	function schedule() {
		if (flushTimer !== undefined || stopped) return;
		flushTimer = deps.setTimer(() => {
			flushTimer = undefined;
			flush();
		}, 0);
	}

	/** Which workloads a change touches: a pod's own, a ReplicaSet's or Deployment's, the object an event is about. */
	const touch = (kind: LiveKind, o: LiveObject | undefined) => {
		if (!o) return;
		if (OBJECT_KINDS.has(kind) || kind === 'pods') {
			objectsDirty = true;
			schedule();
		}
		if (kind === 'statefulsets' || kind === 'daemonsets' || kind === 'jobs')
			return mark(`${(o as LiveController).namespace}/${(o as LiveController).kind}/${(o as LiveController).name}`);
		if (
			kind === 'persistentvolumeclaims' ||
			kind === 'serviceaccounts' ||
			kind === 'configmaps' ||
			kind === 'secrets' ||
			kind === 'ingresses' ||
			kind === 'validatingwebhookconfigurations' ||
			kind === 'mutatingwebhookconfigurations'
		)
			return;
		if (kind === 'services' || kind === 'endpoints') return mark(`${(o as LiveService).namespace}/Service/${(o as LiveService).name}`);
		if (kind === 'pods') {
			// A pod that comes or goes can give a Service its first endpoint, or take its last.
			for (const v of services.values())
				if (v.namespace === (o as LivePod).namespace && v.selector) mark(`${v.namespace}/Service/${v.name}`);
			return markPod(o as LivePod);
		}
		if (kind === 'replicasets' || kind === 'deployments') {
			const name = kind === 'deployments' ? (o as LiveDeployment).name : ((o as LiveReplicaSet).deployment ?? (o as LiveReplicaSet).name);
			const ns = (o as LiveDeployment | LiveReplicaSet).namespace;
			return mark(`${ns}/${kind === 'deployments' || (o as LiveReplicaSet).deployment ? 'Deployment' : 'ReplicaSet'}/${name}`);
		}
		if (kind === 'events') {
			const e = o as LiveEvent;
			if (e.kind === 'Pod') return markPod(pods.get(podByName.get(`${e.namespace}/${e.object}`) ?? ''));
			if (e.kind === 'Deployment' || e.kind === 'Job' || e.kind === 'StatefulSet' || e.kind === 'DaemonSet')
				return mark(`${e.namespace}/${e.kind}/${e.object}`);
			if (e.kind === 'ReplicaSet') {
				const rs = rsIdx().byName.get(`${e.namespace}/${e.object}`);
				return mark(`${e.namespace}/${rs?.deployment ? `Deployment/${rs.deployment}` : `ReplicaSet/${e.object}`}`);
			}
			return;
		}
		// A node's image list changed: every troubled workload may read differently now.
		for (const k of workloads.keys()) mark(k);
	};

	const sink: LiveSink = {
		reset(kind, items) {
			const m = maps[kind];
			const before = [...m.values()];
			m.clear();
			for (const i of items) m.set(i.uid, i);
			reindex(kind);
			listed.add(kind);
			// After a (re)list everything may have changed, including objects deleted while the watch was down.
			everyDirty = true;
			for (const o of before) touch(kind, o);
			for (const o of items) touch(kind, o);
			schedule();
		},
		upsert(kind, item) {
			const m = maps[kind];
			const old = m.get(item.uid);
			m.set(item.uid, item);
			if (kind === 'replicasets') rsIndex = undefined;
			if (kind === 'pods') podByName.set(`${(item as LivePod).namespace}/${(item as LivePod).name}`, item.uid);
			if (old && kind === 'pods') touch(kind, old);
			touch(kind, item);
		},
		remove(kind, uid) {
			const m = maps[kind];
			const old = m.get(uid);
			m.delete(uid);
			if (kind === 'replicasets') rsIndex = undefined;
			if (kind === 'pods' && old) podByName.delete(`${(old as LivePod).namespace}/${(old as LivePod).name}`);
			touch(kind, old);
		},
		status(s) {
			statuses.set(s.resource, s);
			opts.onUpdate(snapshot());
		},
	};

	function reindex(kind: LiveKind) {
		if (kind === 'replicasets') rsIndex = undefined;
		if (kind === 'pods') {
			podByName.clear();
			for (const p of pods.values()) podByName.set(`${p.namespace}/${p.name}`, p.uid);
		}
	}

	const current = (p: LivePod) => !p.terminating && !workloadOf(p).stale;
	const troubledPod = (p: PodFacts) => !p.ready && p.phase !== 'Succeeded';

	function flush() {
		if (stopped) return;
		const keys = new Map(dirty);
		dirty.clear();
		if (everyDirty) {
			everyDirty = false;
			for (const p of pods.values()) if (!keys.has(workloadOf(p).key)) keys.set(workloadOf(p).key, deps.now());
			for (const k of workloads.keys()) if (!keys.has(k)) keys.set(k, deps.now());
		}
		if (objectsDirty) {
			objectsDirty = false;
			// Object problems that came, went or changed are looked at again; the rest keep their diagnosis.
			const fresh = new Map([...controllerProblems(mirror()), ...otherProblems(mirror())].map((p) => [p.key, p]));
			for (const [k, p] of fresh)
				if (objectProblems.get(k)?.lines.join('\n') !== p.lines.join('\n') && !keys.has(k)) keys.set(k, deps.now());
			for (const k of objectProblems.keys()) if (!fresh.has(k) && !keys.has(k)) keys.set(k, deps.now());
			objectProblems = fresh;
		}
		const byKey = new Map<string, LivePod[]>();
		for (const p of pods.values()) {
			const k = workloadOf(p).key;
			if (!keys.has(k) || !current(p)) continue;
			const list = byKey.get(k);
			if (list) list.push(p);
			else byKey.set(k, [p]);
		}
		for (const [key, changedAt] of keys) {
			if (OBJECT_KEY.test(key)) evaluateObject(key, changedAt);
			else if (key.split('/')[1] === 'Service') evaluateService(key, changedAt);
			else evaluate(key, changedAt, byKey.get(key) ?? []);
		}
		opts.onUpdate(snapshot());
	}

	/**
	 * A Service is a finding when it selects no pod at all (its selector matches no labels in the namespace) past a
	 * grace period; matching pods that are not ready are their own workload's finding, not the Service's.
	 */
	function evaluateService(key: string, changedAt: number) {
		const [namespace, , name] = key.split('/') as [string, string, string];
		const svc = [...services.values()].find((v) => v.namespace === namespace && v.name === name);
		const ready = [...endpoints.values()].find((e) => e.namespace === namespace && e.name === name)?.ready ?? 0;
		const selector = svc?.selector && Object.keys(svc.selector).length ? svc.selector : undefined;
		const inNs = [...pods.values()].filter((p) => p.namespace === namespace && !p.terminating);
		const matching = selector ? inNs.filter((p) => Object.entries(selector).every(([k, v]) => p.labels[k] === v)) : [];
		if (!svc || !selector || ready > 0 || matching.length > 0) {
			workloads.delete(key);
			clearSettle(key);
			return;
		}
		const now = deps.now();
		const settlesAt = settle ? (Date.parse(svc.createdAt) || now) + SETTLE_MS.starting : now;
		const old = workloads.get(key);
		const sel = Object.entries(selector)
			.map(([k, v]) => `${k}=${v}`)
			.join(',');
		const carried = [
			...new Set(
				inNs.flatMap((p) =>
					Object.entries(p.labels)
						.filter(([k]) => k in selector)
						.map(([k, v]) => `${k}=${v}`),
				),
			),
		];
		const text =
			`service ${namespace}/${name} (${svc.type}): no pod matches the selector ` +
			`${sel}${carried.length ? ` (pods carry ${carried.join(', ')})` : ' (no pod carries those label keys)'}\n  Endpoints: <none>`;
		const w: TriageWorkload = {
			key,
			namespace,
			kind: 'Service',
			name,
			pods: [],
			troubled: [],
			state: now >= settlesAt ? 'failing' : 'settling',
			since: old?.since ?? (Date.parse(svc.createdAt) || now),
			settlesAt: now >= settlesAt ? undefined : settlesAt,
			findings: [],
			timeline: [{at: svc.createdAt, source: 'status', text: text.split('\n')[0]!}],
			couldNotRead: [],
			changedAt,
		};
		workloads.set(key, w);
		if (w.state === 'settling') {
			clearSettle(key);
			settleTimers.set(
				key,
				deps.setTimer(() => (settleTimers.delete(key), mark(key)), Math.max(0, settlesAt - now) + 10),
			);
			return;
		}
		const d = deps.diagnose(text, {'service.matchingPods': [{value: 0, text: `no pod of ${namespace} matches ${sel}`, source: 'cluster'}]});
		w.findings = withUnexplained(d.findings, text.split('\n')[0]!);
		w.diagnosedAt = now;
	}

	/** A controller or object with a problem of its own and no pods in trouble (none could be made, or it is not a workload). */
	function evaluateObject(key: string, changedAt: number) {
		const p = objectProblems.get(key);
		if (!p) {
			workloads.delete(key);
			clearSettle(key);
			return;
		}
		const now = deps.now();
		const old = workloads.get(key);
		const made = Date.parse(p.createdAt) || now;
		const settlesAt = settle && !p.final ? made + SETTLE_MS.starting : now;
		const w: TriageWorkload = {
			key,
			namespace: p.namespace,
			kind: p.kind,
			name: p.name,
			pods: [],
			troubled: [],
			state: now >= settlesAt ? 'failing' : 'settling',
			...(p.final ? {final: p.final} : {}),
			since: old?.since ?? made,
			settlesAt: now >= settlesAt ? undefined : settlesAt,
			findings: [],
			timeline: [{at: p.createdAt || new Date(now).toISOString(), source: 'status', text: p.lines[0]!}],
			couldNotRead: [],
			changedAt,
		};
		workloads.set(key, w);
		if (w.state === 'settling') {
			clearSettle(key);
			settleTimers.set(
				key,
				deps.setTimer(() => (settleTimers.delete(key), mark(key)), Math.max(0, settlesAt - now) + 10),
			);
			return;
		}
		const d = deps.diagnose(p.lines.join('\n'), p.facts);
		w.findings = withUnexplained(d.findings, p.message);
		w.diagnosedAt = now;
	}

	function evaluate(key: string, changedAt: number, mine: LivePod[]) {
		const troubled = mine.filter(troubledPod);
		const old = workloads.get(key);
		if (troubled.length === 0) {
			// No pod in trouble, but the controller may be unable to make its pods at all.
			if (objectProblems.has(key)) return evaluateObject(key, changedAt);
			if (old) workloads.delete(key);
			clearSettle(key);
			return;
		}
		const now = deps.now();
		const [namespace, kind, name] = key.split('/') as [string, string, string];
		const nsEvents = [...events.values()].filter((e) => e.namespace === namespace);
		const final =
			troubled.map((p) => finalProblem(p, now)).find(Boolean) ??
			finalEventProblem(
				nsEvents,
				troubled.filter((p) => p.phase === 'Running'),
			) ??
			objectProblems.get(key)?.final;
		const since = old?.since ?? Math.min(...troubled.map((p) => Date.parse(p.createdAt) || now));
		const allowance = troubled.some((p) => p.phase === 'Running') ? SETTLE_MS.running : SETTLE_MS.starting;
		const settlesAt = settle ? Math.min(...troubled.map((p) => (Date.parse(p.createdAt) || now) + allowance)) : now;
		const w: TriageWorkload = {
			key,
			namespace,
			kind,
			name,
			pods: mine,
			troubled,
			state: final || now >= settlesAt ? 'failing' : 'settling',
			final,
			since,
			settlesAt: final ? undefined : settlesAt,
			findings: old?.findings ?? [],
			timeline: old?.timeline ?? [],
			couldNotRead: old?.couldNotRead ?? [],
			diagnosedAt: old?.diagnosedAt,
			changedAt,
		};
		workloads.set(key, w);
		if (w.state === 'settling') {
			// Not a finding yet (a pull or a start in progress): look again when its grace ends.
			clearSettle(key);
			settleTimers.set(
				key,
				deps.setTimer(() => (settleTimers.delete(key), mark(key)), Math.max(0, settlesAt - now) + 10),
			);
			return;
		}
		clearSettle(key);
		void diagnoseWorkload(key);
	}

	function clearSettle(key: string) {
		const t = settleTimers.get(key);
		if (t !== undefined) (deps.clearTimer(t), settleTimers.delete(key));
	}

	/** Logs of the troubled containers; a restart gives a new previous log, so the cache key has the restart count. */
	async function logsOf(
		w: TriageWorkload,
		sample: PodFacts[],
	): Promise<{logs: Map<string, string>; timeline: TimelineItem[]; couldNotRead: string[]}> {
		const logs = new Map<string, string>();
		const timeline: TimelineItem[] = [];
		const couldNotRead: string[] = [];
		await Promise.all(
			sample.flatMap((p) =>
				p.containers.flatMap((c) =>
					[true, false]
						// A container that never started has no log to read: its status says why.
						.filter((previous) => (previous ? c.restartCount > 0 : !NOT_STARTED.has(c.waitingReason ?? '') && p.phase !== 'Pending'))
						.map(async (previous) => {
							const cacheKey =
								`${p.namespace}/${p.name}/${c.name}` +
								`/${previous ? `prev-${c.restartCount}` : `cur-${c.restartCount}-${c.waitingReason ?? c.terminatedReason ?? 'run'}`}`;
							let got = logCache.get(cacheKey);
							if (!got) {
								try {
									got = {text: await deps.logs(p.namespace, p.name, c.name, {previous, tailLines: 100})};
								} catch (error) {
									got = {text: '', failed: (error as Error).message};
								}
								logCache.set(cacheKey, got);
							}
							if (got.failed && !/not found|waiting to start|ContainerCreating/.test(got.failed))
								couldNotRead.push(`logs of ${p.name}/${c.name}: ${got.failed}`);
							const plain: string[] = [];
							for (const line of got.text.split('\n')) {
								if (!line) continue;
								const m = LOG_RE.exec(line);
								plain.push(m ? m[2]! : line);
								if (m) timeline.push({at: m[1]!, source: 'log', text: m[2]!, pod: p.name, container: c.name, previous});
							}
							logs.set(`${p.name}/${c.name}/${previous ? 'previous' : 'current'}`, plain.join('\n'));
						}),
				),
			),
		);
		return {logs, timeline, couldNotRead};
	}

	async function diagnoseWorkload(key: string): Promise<void> {
		if (running.has(key)) {
			// A diagnosis is under way; the change is looked at again when it ends.
			dirty.set(key, dirty.get(key) ?? deps.now());
			return;
		}
		const w = workloads.get(key);
		if (!w) return;
		running.add(key);
		try {
			const sample = representatives(w.troubled);
			const {logs, timeline, couldNotRead} = await logsOf(w, sample);
			const images = deps.nodeImages ? await deps.nodeImages().catch(() => undefined) : [...nodes.values()].flatMap((n) => n.images);
			const own = relevantEvents(
				[...events.values()].filter((e) => e.namespace === w.namespace),
				sample.map((p) => ({...p, owner: w.name})),
			);
			const ev = liveEvidence(sample, own, images && images.length ? images : undefined, logs, deps.now());
			// The controller's own problem (a reference to nothing, a failed create) is part of the evidence.
			const obj = objectProblems.get(key);
			const d = deps.diagnose(obj ? `${ev.text}\n${obj.lines.join('\n')}` : ev.text, obj ? mergeFacts(ev.facts, obj.facts) : ev.facts);
			const current = workloads.get(key);
			if (!current || stopped) return;
			current.findings = withUnexplained(d.findings, ownMessage(sample, own) ?? obj?.message ?? ev.text.split('\n')[0]!);
			current.couldNotRead = couldNotRead;
			// The timeline is about the pods in trouble now: their own events, and warnings about their owners since they were made.
			const from = new Date(Math.min(...w.troubled.map((p) => Date.parse(p.createdAt) || deps.now())) - 60_000).toISOString();
			const recent = own.filter((e) => e.lastSeen >= from && (e.type !== 'Normal' || e.kind === 'Pod'));
			current.timeline = [
				...recent.map((e): TimelineItem => ({
					at: e.lastSeen,
					source: 'event',
					text: `${e.type} ${e.reason}: ${e.message}${e.count > 1 ? ` (x${e.count})` : ''}`,
					pod: e.kind === 'Pod' ? e.object : undefined,
				})),
				...timeline,
				...w.troubled.flatMap((p) =>
					p.containers
						.filter((c) => c.waitingReason || c.lastTerminatedReason)
						.map((c): TimelineItem => ({
							at: p.createdAt,
							source: 'status',
							text:
								`${c.name}: ` +
								`${c.waitingReason ?? ''}${c.lastTerminatedReason ? ` (last: ${c.lastTerminatedReason}, exit ${c.lastExitCode ?? '?'})` : ''} ` +
								`restarts ${c.restartCount}`,
							pod: p.name,
						})),
				),
			].sort((a, b) => a.at.localeCompare(b.at));
			current.diagnosedAt = deps.now();
		} finally {
			running.delete(key);
		}
		if (dirty.has(key)) schedule();
		opts.onUpdate(snapshot());
	}

	/**
	 * The findings worth showing; when no entry reaches a diagnosis, the first is the object's own message, verbatim,
	 * which still fails: kdoctor never passes off the nearest wrong entry as the cause.
	 */
	function withUnexplained(findings: Finding[], message: string): Finding[] {
		const shown = findings.filter((f) => f.confidence >= 0.15).slice(0, 5);
		if (shown.some((f) => f.confidence >= 0.5)) return shown;
		const unexplained: Finding = {
			id: UNEXPLAINED,
			title: message.length > 160 ? `${message.slice(0, 159)}…` : message,
			layer: 'workload',
			confidence: 0.5,
			summary: "No entry of the knowledge base explains this; this is the cluster's own message. kdoctor kb new can draft one from it.",
			evidence: [
				{
					line: null,
					text: message,
					signal: 'message',
					means: "the API server's, controller's or kubelet's own words",
					role: 'signature',
					source: 'cluster',
				},
			],
			lines: [],
			why: [],
			remediations: [],
			captures: {},
		};
		return [unexplained, ...shown].slice(0, 5);
	}

	function snapshot(): TriageSnapshot {
		const all = [...workloads.values()];
		const keys = new Set([...pods.values()].map((p) => workloadOf(p).key));
		for (const k of objectProblems.keys()) if (!OBJECT_KEY.test(k)) keys.add(k);
		const failing = all
			.filter((w) => w.state === 'failing')
			.sort((a, b) => (b.findings[0]?.confidence ?? 0) - (a.findings[0]?.confidence ?? 0) || a.key.localeCompare(b.key));
		const couldNotLook = [...statuses.values()]
			.filter((s) => s.state === 'forbidden' || (s.state === 'retrying' && !listed.has(s.resource)))
			.map((s) => `${s.resource}: ${s.message ?? s.state}`);
		return {
			namespace: opts.namespace,
			at: deps.now(),
			complete:
				KINDS.every((k) => listed.has(k) || statuses.get(k)?.state === 'forbidden') &&
				// Nothing listed but not yet looked at (an Ingress or webhook changes no workload, only the objects' pass).
				flushTimer === undefined &&
				!objectsDirty &&
				!everyDirty &&
				dirty.size === 0 &&
				running.size === 0 &&
				failing.every((w) => w.diagnosedAt !== undefined),
			pods: pods.size,
			workloads: keys.size,
			healthy: [...keys].filter((k) => !workloads.has(k)).length,
			failing,
			settling: all.filter((w) => w.state === 'settling'),
			resources: KINDS.map((k) => statuses.get(k)).filter((s): s is ResourceStatus => Boolean(s)),
			couldNotLook,
		};
	}

	return {
		sink,
		snapshot,
		stop() {
			stopped = true;
			if (flushTimer !== undefined) deps.clearTimer(flushTimer);
			for (const t of settleTimers.values()) deps.clearTimer(t);
		},
	};
}

/** The most specific message a troubled pod's status or events carry: what the kubelet or scheduler said. */
function ownMessage(pods: PodFacts[], events: LiveEvent[] | {type: string; message: string; lastSeen: string}[]): string | undefined {
	for (const p of pods) {
		for (const c of p.containers) if (c.waitingMessage) return `${p.name}/${c.name}: ${c.waitingReason}: ${c.waitingMessage}`;
		if (p.unschedulableMessage) return `${p.name}: ${p.unschedulableMessage}`;
	}
	const warning = [...events].filter((e) => e.type === 'Warning').sort((a, b) => b.lastSeen.localeCompare(a.lastSeen))[0];
	if (warning) return warning.message;
	for (const p of pods)
		for (const c of p.containers)
			if (c.waitingReason || c.lastTerminatedReason)
				return `${p.name}/${c.name}: ${c.waitingReason ?? `last terminated: ${c.lastTerminatedReason} (exit ${c.lastExitCode ?? '?'})`}`;
	return undefined;
}

function mergeFacts(a: Facts, b: Facts): Facts {
	const out: Facts = {...a};
	for (const [k, v] of Object.entries(b)) out[k] = [...(out[k] ?? []), ...v];
	return out;
}
