/**
 * The one live engine reads controllers and objects, not only pods: a Deployment whose ReplicaSet cannot create its
 * pods, templates that name objects that do not exist, claims, nodes, Ingresses and webhooks. Objects as the watches
 * deliver them (the adapter's toLive of the API's objects is tested against the real cluster in test/scenarios).
 */
import {describe, expect, it} from 'vitest';
import {diagnoseText} from '../../src/core/diagnose/diagnose.js';
import {createTriage, LIVE_KINDS, UNEXPLAINED, type TriageSnapshot} from '../../src/core/cluster/engine.js';
import type {LiveDeployment, LiveEvent, LiveKind, LiveObject, LivePod, TemplateRefs} from '../../src/core/cluster/ports.js';
import {realKb} from '../helpers/kb.js';

const kb = realKb();
const T0 = Date.parse('2026-11-23T10:00:00Z');
const iso = (ms = 0) => new Date(T0 + ms).toISOString();

/** The engine on objects given as lists, every kind listed (empty unless given), with a clock the test sets. */
async function look(
	objects: Partial<Record<LiveKind, LiveObject[]>>,
	opts: {settle?: boolean; now?: number} = {},
): Promise<TriageSnapshot> {
	let last: TriageSnapshot | undefined;
	const t = createTriage(
		{
			diagnose: (text, facts) => diagnoseText(kb, text, facts),
			logs: async () => '',
			now: () => T0 + (opts.now ?? 0),
			setTimer: (fn, ms) => setTimeout(fn, Math.min(ms, 5)),
			clearTimer: (x) => clearTimeout(x as NodeJS.Timeout),
		},
		{namespace: 'ns', onUpdate: (s) => (last = s), settle: opts.settle},
	);
	for (const k of LIVE_KINDS) t.sink.reset(k, objects[k] ?? (k === 'nodes' ? [{uid: 'n', name: 'node', ready: true, images: []}] : []));
	for (let i = 0; i < 100 && !last?.complete; i++) await new Promise((r) => setTimeout(r, 5));
	t.stop();
	return last!;
}

const refs = (over: Partial<TemplateRefs> = {}): TemplateRefs => ({
	configMaps: [],
	secrets: [],
	claims: [],
	imagePullSecrets: [],
	ports: [],
	...over,
});
const deployment = (name: string, over: Partial<LiveDeployment> = {}): LiveDeployment => ({
	uid: `d-${name}`,
	namespace: 'ns',
	name,
	generation: 1,
	observedGeneration: 1,
	replicas: 1,
	updatedReplicas: 0,
	readyReplicas: 0,
	availableReplicas: 0,
	selector: `app=${name}`,
	containers: [{name, image: `${name}:1`, env: []}],
	conditions: [],
	refs: refs(),
	createdAt: iso(-600_000),
	...over,
});
const event = (kind: string, object: string, reason: string, message: string): LiveEvent => ({
	uid: `e-${object}-${reason}`,
	namespace: 'ns',
	object,
	kind,
	reason,
	message,
	type: 'Warning',
	count: 3,
	lastSeen: iso(-1000),
});

describe('controllers that cannot make their pods', () => {
	it('a Deployment whose ReplicaSet fails to create pods (its ServiceAccount is missing) is serviceaccount-missing, though it has no pod at all', async () => {
		const s = await look({
			deployments: [
				deployment('gw', {
					refs: refs({serviceAccount: 'gw-sa'}),
					conditions: [
						{
							type: 'ReplicaFailure',
							status: 'True',
							reason: 'FailedCreate',
							message: 'pods "gw-7d9f-" is forbidden: error looking up service account ns/gw-sa: serviceaccount "gw-sa" not found',
						},
					],
				}),
			],
			events: [
				event(
					'ReplicaSet',
					'gw-7d9f',
					'FailedCreate',
					'Error creating: pods "gw-7d9f-" is forbidden: error looking up service account ns/gw-sa: serviceaccount "gw-sa" not found',
				),
			],
		});
		expect(s.pods).toBe(0);
		expect(s.failing).toHaveLength(1);
		const w = s.failing[0]!;
		expect(w).toMatchObject({kind: 'Deployment', name: 'gw', state: 'failing'});
		expect(w.final).toBe('references serviceaccount/gw-sa, which do not exist');
		expect(w.findings[0]!.id).toBe('serviceaccount-missing');
		expect(w.findings[0]!.confidence).toBeGreaterThanOrEqual(0.5);
		expect(w.findings[0]!.captures.sa).toBe('gw-sa');
	});

	it('a template that names a ConfigMap and a claim that do not exist says so by name, at once, without waiting for pods', async () => {
		const s = await look(
			{
				deployments: [
					deployment('ds', {
						refs: refs({
							configMaps: [
								{name: 'ds-config', optional: false},
								{name: 'opt', optional: true},
							],
							claims: ['ds-data'],
						}),
					}),
				],
			},
			{settle: true},
		);
		const w = s.failing.find((x) => x.name === 'ds')!;
		expect(w.final).toBe('references configmap/ds-config, persistentvolumeclaim/ds-data, which do not exist');
		const text = w.findings.flatMap((f) => f.evidence.map((e) => e.text)).join('\n');
		expect(text).toContain('configmaps "ds-config" not found');
		expect(w.findings.map((f) => f.id)).toContain('crashloop-config-error');
		expect(w.findings.map((f) => f.id)).toContain('pod-unschedulable');
	});

	it('a controller that is merely rolling out is no finding', async () => {
		const s = await look({
			deployments: [deployment('web', {conditions: [{type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated'}]})],
		});
		expect(s.failing).toEqual([]);
	});
});

describe('objects that break workloads', () => {
	it('a node that is NotReady is kind-node-not-ready, with the kubelet\u2019s own condition message', async () => {
		const s = await look({
			nodes: [
				{
					uid: 'n',
					name: 'kind-control-plane',
					ready: false,
					images: [],
					conditions: [
						{
							type: 'Ready',
							status: 'False',
							reason: 'KubeletNotReady',
							message:
								'container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized',
						},
					],
				},
			],
		});
		const w = s.failing.find((x) => x.kind === 'Node')!;
		expect(w.findings[0]!.id).toBe('kind-node-not-ready');
		expect(w.final).toBe('node kind-control-plane is NotReady');
	});

	it('an admission webhook whose Service has no ready endpoint is dependency-unreachable', async () => {
		const s = await look({
			validatingwebhookconfigurations: [
				{
					uid: 'w',
					name: 'policy',
					kind: 'ValidatingWebhookConfiguration',
					services: [{namespace: 'ns', name: 'policy-svc', webhook: 'validate.policy.io'}],
					createdAt: iso(-600_000),
				},
			],
			services: [{uid: 's', namespace: 'ns', name: 'policy-svc', type: 'ClusterIP', selector: {app: 'policy'}, createdAt: iso(-600_000)}],
			endpoints: [{uid: 'ep', namespace: 'ns', name: 'policy-svc', ready: 0, notReady: 0}],
		});
		const w = s.failing.find((x) => x.kind === 'ValidatingWebhookConfiguration')!;
		expect(w.findings[0]!.id).toBe('dependency-unreachable');
		expect(w.findings[0]!.evidence.map((e) => e.text).join('\n')).toContain('no endpoints available for service "policy-svc"');
	});

	it('an Ingress routing to a Service that does not exist is ingress-backend-missing, with its own line as evidence', async () => {
		const s = await look({
			ingresses: [{uid: 'i', namespace: 'ns', name: 'front', backends: [{service: 'front-svc', port: 80}], createdAt: iso(-600_000)}],
		});
		const w = s.failing.find((x) => x.kind === 'Ingress')!;
		expect(w.findings[0]!.id).toBe('ingress-backend-missing');
		expect(w.findings[0]!.evidence[0]!.text).toBe(
			'ingress ns/front: backend service "front-svc" not found (the Ingress routes to a Service that does not exist)',
		);
	});

	it("a Job past its deadline, which no entry explains: the finding is the controller's message, verbatim, and it fails", async () => {
		const s = await look({
			jobs: [
				{
					uid: 'j',
					namespace: 'ns',
					name: 'seed',
					kind: 'Job',
					desired: 1,
					ready: 0,
					failed: 1,
					conditions: [
						{type: 'Failed', status: 'True', reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline'},
					],
					refs: refs(),
					createdAt: iso(-600_000),
				},
			],
		});
		const w = s.failing.find((x) => x.kind === 'Job')!;
		expect(w.findings[0]!.id).toBe(UNEXPLAINED);
		expect(w.findings[0]!.confidence).toBe(0.5);
		expect(w.findings[0]!.title).toBe('Job was active longer than specified deadline');
	});

	it('a crash-looping container caught running between two back-offs is failing at once (settle on), diagnosed from its previous log', async () => {
		const p: LivePod = {
			uid: 'p',
			name: 'api-1',
			namespace: 'ns',
			phase: 'Running',
			ready: false,
			labels: {},
			// Made a minute ago: a pod simply starting would still be within its grace period.
			createdAt: iso(-60_000),
			containers: [{name: 'api', image: 'api:1', ready: false, restartCount: 3, lastTerminatedReason: 'Error', lastExitCode: 1}],
			imagePullPolicy: {},
		};
		let last: TriageSnapshot | undefined;
		const t = createTriage(
			{
				diagnose: (text, facts) => diagnoseText(kb, text, facts),
				logs: async (_ns, _pod, _c, o) => (o.previous ? '2026-11-23T09:59:58Z FATAL: required env DATABASE_URL not set\n' : ''),
				now: () => T0,
				setTimer: (fn, ms) => setTimeout(fn, Math.min(ms, 5)),
				clearTimer: (x) => clearTimeout(x as NodeJS.Timeout),
			},
			{namespace: 'ns', onUpdate: (s) => (last = s), settle: true},
		);
		for (const k of LIVE_KINDS)
			t.sink.reset(k, k === 'pods' ? [p] : k === 'nodes' ? [{uid: 'n', name: 'node', ready: true, images: []}] : []);
		for (let i = 0; i < 100 && !last?.complete; i++) await new Promise((r) => setTimeout(r, 5));
		t.stop();
		expect(last!.settling).toEqual([]);
		const w = last!.failing[0]!;
		expect(w.final).toBe('api-1/api: restarted 3 times (last: Error, exit 1)');
		expect(w.findings[0]!.id).toBe('crashloop-config-error');
	});

	it("a pod no entry explains: the kubelet's own message, not the nearest wrong entry", async () => {
		const p: LivePod = {
			uid: 'p',
			name: 'odd-1',
			namespace: 'ns',
			phase: 'Pending',
			ready: false,
			labels: {},
			createdAt: iso(-600_000),
			containers: [
				{
					name: 'app',
					image: 'odd:1',
					ready: false,
					restartCount: 0,
					waitingReason: 'ContainerCreating',
					waitingMessage: 'the frobnicator is not warped yet',
				},
			],
			imagePullPolicy: {},
		};
		const s = await look({pods: [p]});
		const w = s.failing[0]!;
		expect(w.findings[0]).toMatchObject({id: UNEXPLAINED, title: 'odd-1/app: ContainerCreating: the frobnicator is not warped yet'});
	});

	it('a pull from a registry host that does not resolve is a registry problem with the kubelet\u2019s words, not a Service dependency', async () => {
		const p: LivePod = {
			uid: 'p',
			name: 'gw-1',
			namespace: 'ns',
			phase: 'Pending',
			ready: false,
			labels: {},
			createdAt: iso(-600_000),
			containers: [
				{
					name: 'gw',
					image: 'quay.iox/acme/gw:1',
					ready: false,
					restartCount: 0,
					waitingReason: 'ImagePullBackOff',
					waitingMessage: 'Back-off pulling image "quay.iox/acme/gw:1"',
				},
			],
			imagePullPolicy: {gw: 'IfNotPresent'},
		};
		const s = await look({
			pods: [p],
			events: [
				{
					uid: 'e',
					namespace: 'ns',
					object: 'gw-1',
					kind: 'Pod',
					reason: 'Failed',
					message:
						'Failed to pull image "quay.iox/acme/gw:1": rpc error: code = Unknown desc = failed to pull and unpack image "quay.iox/acme/gw:1": failed to resolve reference "quay.iox/acme/gw:1": failed to do request: Head "https://quay.iox/v2/acme/gw/manifests/1": dial tcp: lookup quay.iox on 10.96.0.10:53: no such host',
					type: 'Warning',
					count: 4,
					lastSeen: iso(-1000),
				},
			],
		});
		const ids = s.failing[0]!.findings.map((f) => f.id);
		expect(ids[0]).toBe('registry-auth');
		expect(ids).not.toContain('dependency-unreachable');
	});
});
