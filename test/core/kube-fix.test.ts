import {describe, expect, it} from 'vitest';
import {diagnoseText} from '../../src/core/diagnose/diagnose.js';
import {relevantEvents, troubled} from '../../src/core/cluster/evidence.js';
import {finalEventProblem, liveEvidence} from '../../src/core/cluster/evidence.js';
import type {DeploymentFacts, EventFacts, PodFacts} from '../../src/core/provision/ports.js';
import {planKubeFix, quantityBytes} from '../../src/core/remediate/kube-fix.js';
import {realKb} from '../helpers/kb.js';

const kb = realKb();
const entry = (id: string) => kb.kb.byId.get(id)!;
const rem = (id: string, key: string) => entry(id).remediations.find((r) => r.key === key)!;

const deployment = (over: Partial<DeploymentFacts['containers'][number]> = {}): DeploymentFacts => ({
	namespace: 'ns',
	name: 'gateway',
	generation: 2,
	observedGeneration: 2,
	replicas: 1,
	updatedReplicas: 1,
	readyReplicas: 0,
	availableReplicas: 0,
	selector: 'app=gateway',
	containers: [
		{
			name: 'gateway',
			image: 'kdoctor-demo/gateway:kd-1',
			env: [{name: 'A', value: '1'}],
			memoryLimit: '256Mi',
			readinessProbe: {path: '/ready', port: 8081},
			...over,
		},
	],
});
const pod = (over: Partial<PodFacts> = {}): PodFacts => ({
	name: 'gateway-abc-1',
	namespace: 'ns',
	phase: 'Pending',
	ready: false,
	labels: {app: 'gateway'},
	owner: 'gateway',
	createdAt: new Date().toISOString(),
	containers: [{name: 'gateway', image: 'kdoctor-demo/gateway:kd-1', ready: false, restartCount: 0, waitingReason: 'ErrImageNeverPull'}],
	imagePullPolicy: {gateway: 'Never'},
	...over,
});
const ev = (over: Partial<EventFacts>): EventFacts => ({
	namespace: 'ns',
	object: 'gateway-abc-1',
	kind: 'Pod',
	reason: 'Unhealthy',
	message: '',
	type: 'Warning',
	count: 1,
	lastSeen: '',
	...over,
});

describe('live fixes: the patch for a finding, planned without touching the cluster', () => {
	it('image-name-mismatch: the one image of the same repository the node holds, and the way back', () => {
		const p = planKubeFix(entry('image-name-mismatch'), rem('image-name-mismatch', 'p'), {
			namespace: 'ns',
			deployment: deployment(),
			pods: [pod()],
			nodeImages: ['localhost/kdoctor-demo/gateway:kd-1', 'localhost/other:1'],
			captures: {},
		});
		expect(p).toMatchObject({
			status: 'ready',
			field: 'image',
			before: 'kdoctor-demo/gateway:kd-1',
			after: 'localhost/kdoctor-demo/gateway:kd-1',
		});
		expect(p.patch).toEqual({spec: {template: {spec: {containers: [{name: 'gateway', image: 'localhost/kdoctor-demo/gateway:kd-1'}]}}}});
		expect(p.undoPatch).toEqual({spec: {template: {spec: {containers: [{name: 'gateway', image: 'kdoctor-demo/gateway:kd-1'}]}}}});
		expect(p.diff).toContain('- image: kdoctor-demo/gateway:kd-1\n+ image: localhost/kdoctor-demo/gateway:kd-1');
		expect(p.kubectl!.slice(0, 6)).toEqual(['kubectl', '-n', 'ns', 'patch', 'deployment', 'gateway']);
	});

	it('image-name-mismatch: several candidates ask the person; none means load first', () => {
		const two = planKubeFix(entry('image-name-mismatch'), rem('image-name-mismatch', 'p'), {
			namespace: 'ns',
			deployment: deployment(),
			pods: [pod()],
			nodeImages: ['localhost/kdoctor-demo/gateway:kd-1', 'localhost/kdoctor-demo/gateway:kd-2'],
			captures: {},
		});
		expect(two.status).toBe('missing-input');
		expect(two.reason).toMatch(/several images .* --value/);
		const none = planKubeFix(entry('image-name-mismatch'), rem('image-name-mismatch', 'p'), {
			namespace: 'ns',
			deployment: deployment(),
			pods: [pod()],
			nodeImages: [],
			captures: {},
		});
		expect(none).toMatchObject({status: 'not-applicable'});
		expect(none.reason).toMatch(/load it first/);
	});

	it('crashloop-config-error: sets the variable the log named, to the value typed; undo deletes it again', () => {
		const r = rem('crashloop-config-error', 'v');
		const ask = planKubeFix(entry('crashloop-config-error'), r, {
			namespace: 'ns',
			deployment: deployment(),
			pods: [pod()],
			captures: {var: 'KUBERNAUT_CONTROLLER_NAMESPACE'},
		});
		expect(ask).toMatchObject({status: 'missing-input', field: 'env KUBERNAUT_CONTROLLER_NAMESPACE'});
		const p = planKubeFix(entry('crashloop-config-error'), r, {
			namespace: 'ns',
			deployment: deployment(),
			pods: [pod()],
			captures: {var: 'KUBERNAUT_CONTROLLER_NAMESPACE'},
			value: 'kubernaut-system',
		});
		expect(p.status).toBe('ready');
		expect(p.patch).toEqual({
			spec: {
				template: {spec: {containers: [{name: 'gateway', env: [{name: 'KUBERNAUT_CONTROLLER_NAMESPACE', value: 'kubernaut-system'}]}]}},
			},
		});
		expect(p.undoPatch).toEqual({
			spec: {template: {spec: {containers: [{name: 'gateway', env: [{name: 'KUBERNAUT_CONTROLLER_NAMESPACE', $patch: 'delete'}]}]}}},
		});
		const fromSecret = planKubeFix(entry('crashloop-config-error'), r, {
			namespace: 'ns',
			deployment: deployment({env: [{name: 'X', fromSource: true}]}),
			pods: [pod()],
			captures: {var: 'X'},
			value: 'v',
		});
		expect(fromSecret.status).toBe('not-applicable');
	});

	it('pod-oom-killed: raises the limit it died at with headroom (twice, and at least 128 MiB more), or takes a typed one; refuses what is not a quantity', () => {
		const r = rem('pod-oom-killed', 'p');
		expect(
			planKubeFix(entry('pod-oom-killed'), r, {
				namespace: 'ns',
				deployment: deployment({memoryLimit: '32Mi'}),
				pods: [pod()],
				captures: {},
			}),
		).toMatchObject({status: 'ready', before: '32Mi', after: '160Mi'});
		expect(
			planKubeFix(entry('pod-oom-killed'), r, {
				namespace: 'ns',
				deployment: deployment({memoryLimit: '16Mi'}),
				pods: [pod()],
				captures: {},
			}),
		).toMatchObject({after: '144Mi'});
		expect(
			planKubeFix(entry('pod-oom-killed'), r, {namespace: 'ns', deployment: deployment({memoryLimit: '1Gi'}), pods: [pod()], captures: {}}),
		).toMatchObject({after: '2048Mi'});
		expect(
			planKubeFix(entry('pod-oom-killed'), r, {
				namespace: 'ns',
				deployment: deployment({memoryLimit: undefined}),
				pods: [pod()],
				captures: {},
			}).status,
		).toBe('missing-input');
		expect(
			planKubeFix(entry('pod-oom-killed'), r, {namespace: 'ns', deployment: deployment(), pods: [pod()], captures: {}, value: 'lots'})
				.reason,
		).toMatch(/not a memory quantity/);
		expect([quantityBytes('256Mi'), quantityBytes('1G'), quantityBytes('512'), quantityBytes('1.5Gi'), quantityBytes('x')]).toEqual([
			268435456,
			1e9,
			512,
			1610612736,
			undefined,
		]);
	});

	it('readiness-probe-failing: a path is asked for and must be a path; an info-only remediation is never applied', () => {
		const r = rem('readiness-probe-failing', 'p');
		expect(
			planKubeFix(entry('readiness-probe-failing'), r, {namespace: 'ns', deployment: deployment(), pods: [pod()], captures: {}}).status,
		).toBe('missing-input');
		expect(
			planKubeFix(entry('readiness-probe-failing'), r, {
				namespace: 'ns',
				deployment: deployment(),
				pods: [pod()],
				captures: {},
				value: 'readyz',
			}).reason,
		).toMatch(/not a path/);
		expect(
			planKubeFix(entry('readiness-probe-failing'), r, {
				namespace: 'ns',
				deployment: deployment(),
				pods: [pod()],
				captures: {},
				value: '/readyz',
			}),
		).toMatchObject({status: 'ready', before: '/ready', after: '/readyz'});
		expect(
			planKubeFix(entry('db-auth-failed'), rem('db-auth-failed', 'p'), {
				namespace: 'ns',
				deployment: deployment(),
				pods: [pod()],
				captures: {},
			}).status,
		).toBe('not-applicable');
	});
});

describe('a rollout restart', () => {
	it('is the template annotation kubectl sets, with nothing to undo', () => {
		const p = planKubeFix(entry('db-auth-failed'), rem('db-auth-failed', 'r'), {
			namespace: 'ns',
			deployment: deployment(),
			pods: [pod()],
			captures: {},
			now: Date.parse('2026-11-23T06:00:00Z'),
		});
		expect(p).toMatchObject({status: 'ready', field: 'restart', after: '2026-11-23T06:00:00.000Z'});
		expect(p.patch).toEqual({
			spec: {template: {metadata: {annotations: {'kubectl.kubernetes.io/restartedAt': '2026-11-23T06:00:00.000Z'}}}},
		});
		expect(p.kubectl).toEqual(['kubectl', '-n', 'ns', 'rollout', 'restart', 'deployment/gateway']);
	});
});

describe('live evidence and fail-fast from events', () => {
	it('a probe answering 404 twice is final; once, or a 503, is not', () => {
		const running = [pod({phase: 'Running'})];
		const msg = 'Readiness probe failed: HTTP probe failed with statuscode: 404';
		expect(finalEventProblem([ev({message: msg, count: 1})], running)).toBeUndefined();
		expect(finalEventProblem([ev({message: msg.replace('404', '503'), count: 9})], running)).toBeUndefined();
		expect(finalEventProblem([ev({message: msg, count: 2, object: 'other-pod'})], running)).toBeUndefined();
		expect(finalEventProblem([ev({message: msg, count: 2})], running)).toBe(`gateway-abc-1: ${msg} (x2)`);
	});

	it('events of replaced pods do not explain the current ones; the owner’s own events do', () => {
		const events = [
			ev({object: 'gateway-old-1', reason: 'Failed', message: 'ErrImageNeverPull'}),
			ev({object: 'gateway-abc', kind: 'ReplicaSet', reason: 'FailedCreate'}),
			ev({object: 'gateway-abc-1', reason: 'BackOff'}),
			ev({object: 'gatewayx', kind: 'Deployment', reason: 'X'}),
		];
		expect(relevantEvents(events, [pod()]).map((e) => e.reason)).toEqual(['FailedCreate', 'BackOff']);
	});

	it('leftover pods of an older ReplicaSet or being deleted are not troubled workloads', () => {
		expect(troubled(pod())).toBe(true);
		expect(troubled(pod({stale: true}))).toBe(false);
		expect(troubled(pod({terminating: true}))).toBe(false);
		expect(troubled(pod({phase: 'Succeeded'}))).toBe(false);
	});

	it('names the image the node holds when the kubelet’s event arrives before the pod status', () => {
		const p = pod({containers: [{name: 'gateway', image: 'kdoctor-demo/gateway:kd-1', ready: false, restartCount: 0}]});
		const e = [
			ev({reason: 'ErrImageNeverPull', message: 'Container image "kdoctor-demo/gateway:kd-1" is not present with pull policy of Never'}),
		];
		const live = liveEvidence([p], e, ['localhost/kdoctor-demo/gateway:kd-1'], new Map(), Date.now());
		expect(live.facts['image.nodeHasSimilar']![0]).toMatchObject({
			value: true,
			text: expect.stringContaining('the node holds localhost/kdoctor-demo/gateway:kd-1'),
		});
		const d = diagnoseText(kb, live.text, live.facts);
		expect(d.findings[0]!.id).toBe('image-name-mismatch');
	});
});
