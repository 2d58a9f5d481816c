import {describe, expect, it} from 'vitest';
import {diagnoseText} from '../../src/core/diagnose/diagnose.js';
import {unmatchedLines} from '../../src/core/diagnose/unmatched.js';
import {inlineKb, realKb} from '../helpers/kb.js';

const KB = inlineKb(`
topic: kinds
contexts:
  - id: build-output
    means: a build
    pattern: '\\bSTEP \\d+/\\d+: '
    examples: {positive: ['STEP 1/2: FROM x'], negative: ['NAME READY STATUS']}
  - id: pod-status
    means: pod status
    pattern: '^NAME\\s+READY\\s+STATUS'
    examples: {positive: ['NAME   READY   STATUS'], negative: ['STEP 1/2: FROM x']}
entries:
  - id: build-oom
    title: A build was killed for memory
    layer: build
    summary: The kernel killed a build step.
    signals:
      - {id: exit-137, means: exit 137 inside a build, role: signature, weight: 0.6, pattern: 'exit (?:code|status):? 137', inContext: [build-output]}
      - {id: build-kind, means: it is a build, role: support, weight: 0.2, when: {fact: output.kind, equals: build-output}}
    examples: {positive: [a, b], negative: [c]}
  - id: pod-oom
    title: A pod was killed for memory
    layer: workload
    summary: The container exceeded its limit.
    signals:
      - {id: exit-137, means: exit 137 outside a build, role: signature, weight: 0.5, pattern: 'exit (?:code|status):? 137', notInContext: [build-output]}
    examples: {positive: [a, b], negative: [c]}
`);

describe('kinds of output (contexts)', () => {
	it('a kill inside a build step is the build entry, and its kind of output is evidence (preferred)', () => {
		const d = diagnoseText(KB, 'STEP 3/3: RUN go build ./...\nError: exit status 137\n');
		expect(d.findings.map((f) => f.id)).toEqual(['build-oom']);
		expect(d.findings[0]!.confidence).toBe(0.68);
		expect(d.findings[0]!.evidence.some((e) => e.text === 'the output is a build')).toBe(true);
	});

	it('the same words in a pod status are not a build: only the entry that refuses build output counts', () => {
		const d = diagnoseText(KB, 'NAME   READY   STATUS\nweb-1  0/1     Error   exit code: 137\n');
		expect(d.findings.map((f) => f.id)).toEqual(['pod-oom']);
	});

	it('the real KB: exit 137 of a webpack build is build-oom-killed; OOMKilled in kubectl describe is pod-oom-killed', () => {
		const kb = realKb();
		const build = diagnoseText(kb, 'Step 9/13 : RUN npm run build\nKilled\nnpm ERR! errno 137\n');
		expect(build.findings[0]!.id).toBe('build-oom-killed');
		const pod = diagnoseText(kb, '    Last State:     Terminated\n      Reason:       OOMKilled\n      Exit Code:    137\n');
		expect(pod.findings[0]!.id).toBe('pod-oom-killed');
		expect(pod.findings.some((f) => f.id === 'build-oom-killed')).toBe(false);
	});
});

describe('when the text cannot decide', () => {
	it('ErrImageNeverPull alone: a wrong name and an image never loaded are both possible, each with the check that tells them apart', () => {
		const d = diagnoseText(realKb(), 'datastorage-7889857f7-fgdkg   0/1     ErrImageNeverPull   0          94s\n');
		const [a, b] = d.findings;
		expect([a!.id, b!.id]).toEqual(['image-name-mismatch', 'image-not-loaded']);
		expect(a!.confidence).toBeLessThan(0.5);
		expect(b!.confidence).toBeLessThan(0.5);
		expect(a!.tellApart?.[0]).toMatchObject({id: 'image-not-loaded'});
		expect(a!.tellApart?.[0]!.check).toContain('crictl images');
	});

	it("what the node holds decides: the node's list showing the repository under another tag makes it a confident mismatch", () => {
		const d = diagnoseText(
			realKb(),
			'webhook-relay-7bb6d9f8d5-lk2cz   0/1     ErrImageNeverPull   0          3m1s\n$ podman exec relay-e2e-control-plane crictl images | grep webhook\nquay.io/jordigilh/webhook-relay            dev-3f9a1c7          91d2c0e4a7b3f       38.7MB\n',
		);
		expect(d.findings[0]!.id).toBe('image-name-mismatch');
		expect(d.findings[0]!.confidence).toBeGreaterThanOrEqual(0.5);
		expect(d.findings[0]!.tellApart).toBeUndefined();
	});
});

describe('no known cause: the lines that look most like the failure', () => {
	it('names the first error, the last error and the line before the exit, with their line numbers', () => {
		const d = diagnoseText(
			realKb(),
			'Starting job\nINFO: connecting (error budget 0)\nERROR: the frobnicator could not warp\nmore\nfinal error: gave up frobbing\n##[error]Process completed with exit code 3.\n',
		);
		expect(d.findings.filter((f) => f.confidence >= 0.5)).toEqual([]);
		expect(d.unmatched).toEqual([
			{line: 3, text: 'ERROR: the frobnicator could not warp', why: 'first error'},
			{line: 5, text: 'final error: gave up frobbing', why: 'before the exit'},
			{line: 6, text: '##[error]Process completed with exit code 3.', why: 'last error'},
		]);
	});

	it('counts line numbers from the end in a long input, and shows control characters as text', () => {
		const noise = 'I1201 12:00:00 all fine here\n'.repeat(40_000);
		const head = Buffer.from(`${noise.slice(0, 1000)}`);
		const text = `${noise}step\n\u001b]0;t\u0007fatal: the thing broke\nexit status 9\n`;
		const all = Buffer.from(text);
		const lines = text.split('\n').length - 1;
		const u = unmatchedLines(head, all.subarray(all.length - 4096), lines, all.length);
		expect(u.find((x) => x.why === 'before the exit')).toEqual({
			line: lines - 1,
			text: '\\e]0;t\\x07fatal: the thing broke',
			why: 'before the exit',
		});
		expect(u.find((x) => x.why === 'last error')).toEqual({line: lines, text: 'exit status 9', why: 'last error'});
	});

	it('is left out when a cause matched', () => {
		const d = diagnoseText(realKb(), 'Error: ErrImageNeverPull\nError: container name "x" is already in use\n');
		expect(d.findings[0]!.confidence).toBeGreaterThanOrEqual(0.5);
		expect(d.unmatched).toBeUndefined();
	});
});
