import {describe, expect, it} from 'vitest';
import {diagnoseText} from '../../src/core/diagnose/diagnose.js';
import {createTriage, SETTLE_MS, type TriageSnapshot} from '../../src/core/cluster/engine.js';
import type {LiveEvent, LivePod, LiveReplicaSet} from '../../src/core/cluster/ports.js';
import {realKb} from '../helpers/kb.js';

const kb = realKb();

/** A clock and timers the test moves by hand, so grace periods are exercised without waiting. */
function harness(logs: Record<string, string> = {}, failLogs?: string) {
	let now = Date.parse('2026-11-23T10:00:00Z');
	const timers: {at: number; fn: () => void; id: number}[] = [];
	let next = 1;
	const updates: TriageSnapshot[] = [];
	const triage = createTriage(
		{
			diagnose: (text, facts) => diagnoseText(kb, text, facts),
			logs: async (_ns, pod, container, o) => {
				if (failLogs) throw new Error(failLogs);
				return logs[`${pod}/${container}/${o.previous ? 'previous' : 'current'}`] ?? '';
			},
			now: () => now,
			setTimer: (fn, ms) => {
				const id = next++;
				timers.push({at: now + ms, fn, id});
				return id;
			},
			clearTimer: (id) => {
				const i = timers.findIndex((t) => t.id === id);
				if (i >= 0) timers.splice(i, 1);
			},
		},
		{namespace: 'ns', onUpdate: (s) => updates.push(s)},
	);
	/** Runs due timers and lets the diagnoses (promises) finish. */
	const settle = async (advanceMs = 0) => {
		now += advanceMs;
		for (let round = 0; round < 20; round++) {
			const due = timers.filter((t) => t.at <= now).sort((a, b) => a.at - b.at);
			for (const t of due) {
				timers.splice(timers.indexOf(t), 1);
				t.fn();
			}
			await new Promise((r) => setImmediate(r));
			if (!timers.some((t) => t.at <= now) && due.length === 0) break;
		}
		return triage.snapshot();
	};
	const listAll = (pods: LivePod[], rss: LiveReplicaSet[] = [], events: LiveEvent[] = []) => {
		triage.sink.reset('replicasets', rss);
		triage.sink.reset('deployments', []);
		triage.sink.reset('events', events);
		triage.sink.reset('nodes', [{uid: 'n1', name: 'node', ready: true, images: ['localhost/demo/gateway:kd-1']}]);
		triage.sink.reset('services', []);
		triage.sink.reset('endpoints', []);
		// The kinds a template's references and the cluster's other objects come from: nothing of them here.
		for (const k of [
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
		] as const)
			triage.sink.reset(k, []);
		triage.sink.reset('pods', pods);
	};
	return {triage, settle, listAll, updates, at: (ms = 0) => new Date(now + ms).toISOString(), advance: (ms: number) => (now += ms)};
}

const rs = (name: string, deployment: string, revision: number): LiveReplicaSet => ({
	uid: `rs-${name}`,
	namespace: 'ns',
	name,
	deployment,
	revision,
});
const pod = (name: string, over: Partial<LivePod> = {}): LivePod => ({
	uid: `pod-${name}`,
	name,
	namespace: 'ns',
	phase: 'Pending',
	ready: false,
	labels: {},
	createdAt: new Date(Date.parse('2026-11-23T10:00:00Z')).toISOString(),
	containers: [{name: 'app', image: 'demo/gateway:kd-1', ready: false, restartCount: 0}],
	imagePullPolicy: {app: 'Never'},
	...over,
});

describe('the live triage engine', () => {
	it('groups pods by their Deployment through the ReplicaSet and diagnoses a final state at once', async () => {
		const h = harness();
		h.listAll(
			[
				pod('gw-2-a', {
					ownerKind: 'ReplicaSet',
					ownerName: 'gw-2',
					containers: [
						{
							name: 'app',
							image: 'demo/gateway:kd-1',
							ready: false,
							restartCount: 0,
							waitingReason: 'ErrImageNeverPull',
							waitingMessage: 'Container image "demo/gateway:kd-1" is not present with pull policy of Never',
						},
					],
				}),
				// A leftover of the older ReplicaSet, and a healthy pod of another workload.
				pod('gw-1-a', {
					ownerKind: 'ReplicaSet',
					ownerName: 'gw-1',
					phase: 'Running',
					containers: [{name: 'app', image: 'x', ready: false, restartCount: 0, waitingReason: 'CrashLoopBackOff'}],
				}),
				pod('db-1-a', {
					ownerKind: 'ReplicaSet',
					ownerName: 'db-1',
					phase: 'Running',
					ready: true,
					containers: [{name: 'db', image: 'pg', ready: true, restartCount: 0}],
				}),
			],
			[rs('gw-2', 'gateway', 2), rs('gw-1', 'gateway', 1), rs('db-1', 'db', 1)],
		);
		const s = await h.settle();
		expect(s.complete).toBe(true);
		expect(s).toMatchObject({pods: 3, workloads: 2, healthy: 1});
		expect(s.failing).toHaveLength(1);
		const w = s.failing[0]!;
		expect(w).toMatchObject({key: 'ns/Deployment/gateway', kind: 'Deployment', name: 'gateway', state: 'failing'});
		expect(w.final).toMatch(/ErrImageNeverPull/);
		expect(w.troubled.map((p) => p.name)).toEqual(['gw-2-a']);
		expect(w.findings[0]!.id).toBe('image-name-mismatch');
		expect(w.findings[0]!.evidence.map((e) => e.text).join('\n')).toContain('the node holds localhost/demo/gateway:kd-1');
	});

	it('lets a starting pod settle, and makes it a finding when its grace period ends', async () => {
		const h = harness();
		h.listAll([
			pod('web', {
				containers: [{name: 'app', image: 'demo/gateway:kd-1', ready: false, restartCount: 0, waitingReason: 'ContainerCreating'}],
			}),
		]);
		let s = await h.settle();
		expect(s.failing).toHaveLength(0);
		expect(s.settling.map((w) => w.name)).toEqual(['web']);
		s = await h.settle(SETTLE_MS.starting + 50);
		expect(s.settling).toHaveLength(0);
		expect(s.failing.map((w) => w.key)).toEqual(['ns/Pod/web']);
	});

	it('follows changes: a crash loop found with its previous log line, then gone when the pod is replaced by a healthy one', async () => {
		const h = harness({
			'api/app/previous':
				'{"level":"fatal","msg":"KUBERNAUT_CONTROLLER_NAMESPACE environment variable is required","env_var":"KUBERNAUT_CONTROLLER_NAMESPACE"}',
		});
		h.listAll([]);
		await h.settle();
		h.triage.sink.upsert(
			'pods',
			pod('api', {
				ownerKind: 'Job',
				ownerName: 'api',
				phase: 'Running',
				containers: [
					{
						name: 'app',
						image: 'a',
						ready: false,
						restartCount: 3,
						waitingReason: 'CrashLoopBackOff',
						lastTerminatedReason: 'Error',
						lastExitCode: 1,
					},
				],
			}),
		);
		let s = await h.settle();
		expect(s.failing[0]!.findings[0]!.id).toBe('crashloop-config-error');
		expect(s.failing[0]!.findings[0]!.captures.var).toBe('KUBERNAUT_CONTROLLER_NAMESPACE');
		h.triage.sink.remove('pods', 'pod-api');
		h.triage.sink.upsert('pods', pod('api-2', {ownerKind: 'Job', ownerName: 'api', phase: 'Running', ready: true}));
		s = await h.settle();
		expect(s.failing).toHaveLength(0);
		expect(s.healthy).toBe(1);
	});

	it('a re-list replaces the state: a pod deleted while the watch was down is not kept', async () => {
		const h = harness();
		h.listAll([pod('a', {containers: [{name: 'app', image: 'x', ready: false, restartCount: 0, waitingReason: 'CrashLoopBackOff'}]})]);
		expect((await h.settle()).failing).toHaveLength(1);
		h.triage.sink.reset('pods', []);
		const s = await h.settle();
		expect(s.failing).toHaveLength(0);
		expect(s.pods).toBe(0);
	});

	it('says what it could not look at: a forbidden resource, and logs it could not read', async () => {
		const h = harness({}, 'not allowed to read logs of ns/a container app: pods "a" is forbidden');
		h.triage.sink.status({
			resource: 'events',
			state: 'forbidden',
			message: 'events is forbidden: User "viewer" cannot list resource "events"',
			at: 0,
			relists: 0,
		});
		h.triage.sink.reset('replicasets', []);
		h.triage.sink.reset('deployments', []);
		h.triage.sink.reset('nodes', []);
		h.triage.sink.reset('services', []);
		h.triage.sink.reset('endpoints', []);
		for (const k of [
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
		] as const)
			h.triage.sink.reset(k, []);
		h.triage.sink.reset('pods', [
			pod('a', {
				phase: 'Running',
				containers: [{name: 'app', image: 'x', ready: false, restartCount: 2, waitingReason: 'CrashLoopBackOff'}],
			}),
		]);
		const s = await h.settle();
		expect(s.couldNotLook).toEqual(['events: events is forbidden: User "viewer" cannot list resource "events"']);
		expect(s.complete).toBe(true);
		expect(s.failing[0]!.couldNotRead[0]).toMatch(/^logs of a\/app: not allowed/);
		// Still diagnosed from what could be read.
		expect(s.failing[0]!.findings.length).toBeGreaterThan(0);
	});

	it('a readiness probe answering 404 twice is final without waiting for the grace period', async () => {
		const h = harness();
		const events: LiveEvent[] = [
			{
				uid: 'e1',
				namespace: 'ns',
				object: 'web',
				kind: 'Pod',
				reason: 'Unhealthy',
				message: 'Readiness probe failed: HTTP probe failed with statuscode: 404',
				type: 'Warning',
				count: 2,
				lastSeen: h.at(),
			},
		];
		h.listAll([pod('web', {phase: 'Running', containers: [{name: 'app', image: 'x', ready: false, restartCount: 0}]})], [], events);
		const s = await h.settle();
		expect(s.failing[0]!.final).toMatch(/statuscode: 404 \(x2\)/);
		expect(s.failing[0]!.findings[0]!.id).toBe('readiness-probe-failing');
		expect(s.failing[0]!.timeline.some((x) => x.source === 'event' && /404/.test(x.text))).toBe(true);
	});

	it('a Service that selects no pod is a finding once its grace ends; one whose pods exist is not', async () => {
		const h = harness();
		h.listAll([
			pod('web-1', {
				phase: 'Running',
				ready: true,
				labels: {app: 'datastorage'},
				containers: [{name: 'app', image: 'x', ready: true, restartCount: 0}],
			}),
		]);
		h.triage.sink.reset('services', [
			{uid: 's1', namespace: 'ns', name: 'data-storage-service', type: 'NodePort', selector: {app: 'data-storage'}, createdAt: h.at()},
			{uid: 's2', namespace: 'ns', name: 'ok-service', type: 'ClusterIP', selector: {app: 'datastorage'}, createdAt: h.at()},
		]);
		let s = await h.settle();
		expect(s.settling.map((w) => w.key)).toEqual(['ns/Service/data-storage-service']);
		s = await h.settle(SETTLE_MS.starting + 50);
		const w = s.failing.find((x) => x.kind === 'Service')!;
		expect(w.name).toBe('data-storage-service');
		expect(w.findings[0]!.id).toBe('service-selector-mismatch');
		expect(w.findings[0]!.evidence.map((e) => e.text).join('\n')).toContain(
			'no pod matches the selector app=data-storage (pods carry app=datastorage)',
		);
		expect(s.failing.some((x) => x.name === 'ok-service')).toBe(false);
		// The label fixed on the pods: the Service selects them and the finding goes.
		h.triage.sink.upsert(
			'pods',
			pod('web-1', {
				phase: 'Running',
				ready: true,
				labels: {app: 'data-storage'},
				containers: [{name: 'app', image: 'x', ready: true, restartCount: 0}],
			}),
		);
		s = await h.settle();
		expect(s.failing.some((x) => x.kind === 'Service' && x.name === 'data-storage-service')).toBe(false);
	});
});
