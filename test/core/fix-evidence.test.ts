/**
 * Fixes chosen by evidence: a fix that acts on something (a taint, a probe's path, a missing ConfigMap, a variable)
 * is offered only when the evidence shows that thing, and the specific fix comes before general advice.
 */
import {describe, expect, it} from 'vitest';
import {diagnoseText} from '../../src/core/diagnose/diagnose.js';
import {offeredFixes, withheldReason} from '../../src/core/remediate/plan.js';
import {realKb} from '../helpers/kb.js';

const kb = realKb();
const top = (text: string, id: string) => {
	const f = diagnoseText(kb, text).findings.find((x) => x.id === id);
	expect(f, `${id} not found`).toBeDefined();
	return f!;
};
const keys = (text: string, id: string) => top(text, id).remediations.map((r) => r.key);

describe('fixes offered by what the evidence holds', () => {
	it('Insufficient memory on a node with no taint: lower the requests, never remove the control-plane taint', () => {
		const text =
			'Warning  FailedScheduling  45s  default-scheduler  0/1 nodes are available: 1 Insufficient memory. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.';
		expect(keys(text, 'pod-unschedulable')).toEqual(['r']);
		const f = top(text, 'pod-unschedulable');
		expect(withheldReason(kb.kb.byId.get('pod-unschedulable')!, f, 't')).toMatch(
			/^pod-unschedulable's fix \[t\] .* is not offered here: it needs evidence that the taint/,
		);
	});

	it('the control-plane taint: its removal is offered, with the general taint advice', () => {
		const text =
			'Warning  FailedScheduling  12s  default-scheduler  0/1 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.';
		expect(keys(text, 'pod-unschedulable')).toEqual(['t', 'o']);
	});

	it('another taint: only the advice about that taint', () => {
		const text =
			'Warning  FailedScheduling  5s  default-scheduler  0/1 nodes are available: 1 node(s) had untolerated taint {kdoctor.bench/maintenance: true}. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.';
		expect(keys(text, 'pod-unschedulable')).toEqual(['o']);
	});

	it('an httpGet probe answered 404: the path fix and the handler advice, no pg_isready', () => {
		const text = 'Warning  Unhealthy  3s (x3 over 9s)  kubelet  Readiness probe failed: HTTP probe failed with statuscode: 404';
		expect(keys(text, 'readiness-probe-failing')).toEqual(['p', 'r']);
	});

	it('a pg_isready probe: the pg_isready fix', () => {
		const text =
			'Warning  Unhealthy  4s (x6 over 29s)  kubelet  Readiness probe failed: /var/run/postgresql:5432 - no response\n  Readiness:  exec [pg_isready -U slm_user] delay=5s timeout=1s period=5s';
		expect(keys(text, 'readiness-probe-failing')).toContain('b');
	});

	it('CreateContainerConfigError for a missing ConfigMap: creating it comes first, no log reading (nothing ran)', () => {
		const text =
			'  Warning  Failed     3s (x4 over 30s)  kubelet  Error: configmap "gateway-config" not found\n    State:          Waiting\n      Reason:       CreateContainerConfigError';
		const f = top(text, 'crashloop-config-error');
		expect(f.remediations[0]!.key).toBe('c');
		expect(f.remediations.map((r) => r.key)).not.toContain('p');
		expect(offeredFixes(kb.kb.byId.get('crashloop-config-error')!, f).map((r) => r.key)).toEqual(f.remediations.map((r) => r.key));
	});

	it('a crash loop on a missing variable: setting it comes before reading the log', () => {
		const text =
			'Back-off restarting failed container gateway in pod gateway-7d9f_kubernaut-system(1b2c)\nFATAL: KUBERNAUT_CONTROLLER_NAMESPACE environment variable is required';
		const k = keys(text, 'crashloop-config-error');
		expect(k[0]).toBe('v');
		expect(k).toContain('p');
		expect(k).not.toContain('c');
		// The program's own wording, not "environment variable": the variable is still named for the fix.
		const own = top(
			'Back-off restarting failed container api in pod api-1_ns(1)\nFATAL: required env DATABASE_URL not set',
			'crashloop-config-error',
		);
		expect(own.remediations[0]).toMatchObject({key: 'v', title: 'Set DATABASE_URL on the Deployment'});
	});

	it('a webhook with no endpoints: check the Service it names, no caBundle patch; a certificate failure: the caBundle patch', () => {
		const none = top(
			'Error from server (InternalError): Internal error occurred: failed calling webhook "guard.example.io": failed to call webhook: Post "https://guard.ns.svc:443/validate?timeout=5s": no endpoints available for service "guard"',
			'dependency-unreachable',
		);
		expect(none.remediations.map((r) => r.key)).not.toContain('w');
		expect(none.remediations.find((r) => r.key === 'v')?.title).toBe('Check that the Service guard exists under that name');
		const x509 = top(
			'Internal error occurred: failed calling webhook "guard.example.io": failed to call webhook: Post "https://guard.ns.svc:443/validate?timeout=5s": tls: failed to verify certificate: x509: certificate signed by unknown authority',
			'dependency-unreachable',
		);
		expect(x509.remediations.map((r) => r.key)).toContain('w');
	});
});
