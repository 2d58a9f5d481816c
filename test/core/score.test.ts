import {describe, expect, it} from 'vitest';
import {diagnoseText} from '../../src/core/diagnose/diagnose.js';
import {inlineKb} from '../helpers/kb.js';

const KB = inlineKb(`
topic: scoring
entries:
  - id: timeout
    title: Health check timed out
    layer: workload
    summary: The health check never passed in time.
    signals:
      - {id: t, means: timeout, role: signature, weight: 0.6, pattern: 'health check timed out'}
      - {id: t2, means: timeout again, role: support, weight: 0.5, pattern: 'gave up after 2m'}
    examples: {positive: [a, b], negative: [c]}
  - id: image
    title: Image missing on the node
    layer: image
    summary: ErrImageNeverPull stops the pod, which is why health never passes.
    explains: [timeout]
    signals:
      - {id: reason, means: reason, role: signature, weight: 0.5, pattern: 'ErrImageNeverPull'}
      - {id: name, means: short name, role: support, weight: 0.5, pattern: 'no registry part'}
      - {id: loaded, means: the load failed instead, role: against, weight: 0.5, pattern: 'load failed'}
      - {id: fact, means: waiting reason, role: signature, weight: 0.5, when: {fact: pod.waitingReason, equals: ErrImageNeverPull}}
    examples: {positive: [a, b], negative: [c]}
`);

describe('score', () => {
	it('combines matched weights as a noisy-OR', () => {
		const d = diagnoseText(KB, 'ErrImageNeverPull\nno registry part\n');
		expect(d.findings[0]).toMatchObject({id: 'image', confidence: 0.75});
	});

	it('damps a finding by what argues against it', () => {
		const d = diagnoseText(KB, 'ErrImageNeverPull\nno registry part\nload failed\n');
		expect(d.findings[0]).toMatchObject({id: 'image', confidence: 0.38});
	});

	it('puts the cause above the symptom it explains', () => {
		const alone = diagnoseText(KB, 'health check timed out\n');
		expect(alone.findings[0]).toMatchObject({id: 'timeout', confidence: 0.6});
		const both = diagnoseText(KB, 'health check timed out\nErrImageNeverPull\nno registry part\n');
		expect(both.findings.map((f) => f.id)).toEqual(['image', 'timeout']);
		expect(both.findings[1]!.explainedBy).toBe('image');
		expect(both.findings[1]!.confidence).toBeLessThan(both.findings[0]!.confidence);
	});

	it('does not let a clearly weaker cause push down a stronger symptom', () => {
		const d = diagnoseText(KB, 'health check timed out, gave up after 2m\nErrImageNeverPull\n');
		expect(d.findings[0]!.id).toBe('timeout');
		expect(d.findings[0]!.explainedBy).toBeUndefined();
	});

	it('breaks a tie in favour of the cause over the symptom it explains', () => {
		const tie = inlineKb(`
topic: tie
entries:
  - id: symptom
    title: The symptom seen first
    layer: workload
    summary: Something timed out.
    signals:
      - {id: t, means: timeout, role: signature, weight: 0.25, pattern: 'waited too long'}
      - {id: u, means: more, role: support, weight: 0.0001, pattern: 'waited'}
    examples: {positive: [a, b], negative: [c]}
  - id: cause
    title: The hidden cause
    layer: image
    summary: What really happened.
    explains: [symptom]
    signals:
      - {id: h, means: hidden, role: signature, weight: 0.25, pattern: 'waited too long'}
    examples: {positive: [a, b], negative: [c]}
`);
		const d = diagnoseText(tie, 'waited too long\n');
		expect(d.findings.map((f) => [f.id, f.confidence])).toEqual([
			['cause', 0.25],
			['symptom', 0.25],
		]);
	});

	it('reads structured facts with the same rules as text', () => {
		const d = diagnoseText(KB, '', {
			'pod.waitingReason': [{value: 'ErrImageNeverPull', text: 'pod gateway-1 waits: ErrImageNeverPull', source: 'cluster'}],
		});
		expect(d.status).toBe('ok');
		expect(d.findings[0]).toMatchObject({id: 'image', confidence: 0.5});
		expect(d.findings[0]!.evidence[0]).toMatchObject({line: null, source: 'cluster', text: 'pod gateway-1 waits: ErrImageNeverPull'});
	});

	it('lets a cause within a small margin below its symptom still explain it', () => {
		const d = diagnoseText(KB, 'health check timed out\nErrImageNeverPull\n');
		expect(d.findings.map((f) => f.id)).toEqual(['image', 'timeout']);
		expect(d.findings[1]!.explainedBy).toBe('image');
	});

	it('damps every finding inside an output-wide context, and says so', () => {
		const withContext = inlineKb(`
topic: ctx
contexts:
  - id: unit-test-run
    means: a sub-second unit-test run
    damp: 0.6
    pattern: '^--- FAIL: Test\\w+ \\(0\\.\\d+s\\)$'
    examples: {positive: ['--- FAIL: TestX (0.00s)'], negative: ['--- FAIL: TestX (300.00s)']}
entries:
  - id: oom
    title: Container OOMKilled
    layer: workload
    summary: The container was killed for memory.
    signals:
      - {id: o, means: oom, role: signature, weight: 0.8, pattern: 'OOMKilled'}
    examples: {positive: [a, b], negative: [c]}
`);
		expect(diagnoseText(withContext, 'Last State: Terminated\n  Reason: OOMKilled\n').findings[0]!.confidence).toBe(0.8);
		const test = diagnoseText(withContext, 'expected: "OOMKilled"\n--- FAIL: TestClassify (0.00s)\n');
		expect(test.findings[0]!.confidence).toBe(0.32);
		expect(test.findings[0]!.why.at(-1)).toMatchObject({signal: 'context:unit-test-run', role: 'against'});
		expect(diagnoseText(withContext, 'OOMKilled\n--- FAIL: TestE2E (300.00s)\n').findings[0]!.confidence).toBe(0.8);
	});

	it('needs a signature: support alone reports nothing', () => {
		expect(diagnoseText(KB, 'no registry part\n').findings).toEqual([]);
	});
});
