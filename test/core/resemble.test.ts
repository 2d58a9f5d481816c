import {describe, expect, it} from 'vitest';
import {diagnoseText} from '../../src/core/diagnose/diagnose.js';
import {buildCaseIndex, parseCaseLibrary} from '../../src/core/diagnose/case-index.js';
import {lazyCaseIndex, resemble} from '../../src/core/diagnose/resemble.js';
import {REPORT_CONFIDENCE} from '../../src/core/diagnose/score.js';
import {loadKb} from '../../src/core/kb/load.js';
import {compileKb} from '../../src/core/kb/compile.js';
import {realKb} from '../helpers/kb.js';

const YAML = `
topic: resemblance
entries:
  - id: redis-down
    title: The cache the service needs is down
    layer: workload
    summary: The service cannot reach its cache.
    signals:
      - {id: refused, means: the cache refused, role: signature, weight: 0.6, pattern: 'redis.*connection refused'}
    remediations:
      - {key: c, title: Start the cache, kind: info, change: start it, verify: it answers, undo: stop it}
      - {key: m, title: 'Point {{svc}} at the cache', kind: info, change: edit, verify: it answers, undo: edit back}
    examples: {positive: ['redis: connection refused', 'redis at 10.0.0.1: connection refused'], negative: [ok]}
  - id: disk-gone
    title: The disk is full
    layer: host
    summary: No space left.
    signals:
      - {id: enospc, means: no space, role: signature, weight: 0.6, pattern: 'no space left on device'}
    examples: {positive: ['write /x: no space left on device', 'no space left on device'], negative: [ok]}
`;
const LIBRARY = [
	{
		id: 'a',
		url: 'https://github.com/o/r/issues/1',
		label: 'redis-down',
		symptom: 'WARN | Redis-Server not running. Please start the Redis-Server.',
	},
	{
		id: 'b',
		url: 'https://github.com/o/r/issues/2',
		label: 'disk-gone',
		symptom: 'failed to register layer: Error processing tar file: write /var/lib: disk quota exceeded',
	},
	{
		id: 'n',
		url: 'https://github.com/o/r/issues/3',
		label: 'negative',
		symptom: 'error TS2307: Cannot find module "./foo" or its corresponding type declarations.',
	},
]
	.map((r) => JSON.stringify(r))
	.join('\n');

function kbWithLibrary() {
	const kb = loadKb([{path: 't.yaml', text: YAML}]);
	const c = compileKb(kb);
	c.cases = lazyCaseIndex(kb, () => [{path: 'cases/t.jsonl', text: LIBRARY}]);
	return c;
}

describe('resemblance to the case library, when no signal matched', () => {
	it('names the cause of the nearest real case as possible, with the thread as its evidence, never as a diagnosis', () => {
		const d = diagnoseText(kbWithLibrary(), 'webapi_1 | ERROR | Redis-Server not running. Please start the Redis-Server first\n');
		expect(d.findings.map((f) => f.id)).toEqual(['redis-down']);
		const f = d.findings[0]!;
		expect(f.confidence).toBeLessThan(REPORT_CONFIDENCE);
		expect(f.resembles).toEqual({case: 'a', url: 'https://github.com/o/r/issues/1', similarity: expect.any(Number)});
		expect(f.resembles!.similarity).toBeGreaterThan(0.5);
		expect(f.evidence[0]).toMatchObject({line: 1, signal: 'resembles'});
		// A fix that needs a captured name has nothing to fill it with.
		expect(f.remediations.map((r) => r.key)).toEqual(['c']);
		// Nothing reached 0.5: the lines that look like the failure are still shown.
		expect(d.unmatched).toBeDefined();
	});

	it("says nothing when the nearest case is a failure outside the taxonomy (the project's own code)", () => {
		const d = diagnoseText(
			kbWithLibrary(),
			'src/a.ts(3,1): error TS2307: Cannot find module "./bar" or its corresponding type declarations.\n',
		);
		expect(d.findings).toEqual([]);
	});

	it('says nothing on text that resembles no case, and never runs when a signal matched', () => {
		const c = kbWithLibrary();
		expect(diagnoseText(c, 'all green, 12 tests passed\n').findings).toEqual([]);
		const d = diagnoseText(c, 'write /data: no space left on device\nRedis-Server not running. Please start the Redis-Server.\n');
		expect(d.findings.map((f) => [f.id, f.resembles])).toEqual([['disk-gone', undefined]]);
	});

	it('leaves out the thread being evaluated, and the KB example cut from its text', () => {
		const c = kbWithLibrary();
		const index = c.cases!()!;
		const text = 'WARN | Redis-Server not running. Please start the Redis-Server.';
		expect(resemble(c, index, text).map((f) => f.id)).toEqual(['redis-down']);
		expect(resemble(c, index, text, {exclude: 'https://github.com/o/r/issues/1'})).toEqual([]);
	});

	it("is asked for nothing by the KB's own tests (resemble: false)", () => {
		expect(
			diagnoseText(kbWithLibrary(), 'Redis-Server not running. Please start the Redis-Server.', undefined, {resemble: false}).findings,
		).toEqual([]);
	});

	it('reads a long input at its start and end, and then names no line (line numbers would be false)', () => {
		const noise = 'INFO reconciling the widget controller loop\n'.repeat(4000);
		const d = diagnoseText(kbWithLibrary(), `${noise}WARN | Redis-Server not running. Please start the Redis-Server.\n`);
		expect(d.findings[0]?.id).toBe('redis-down');
		expect(d.findings[0]!.evidence[0]!.line).toBeNull();
	});

	it('a bad library line names its file and line', () => {
		expect(() => parseCaseLibrary('{"label": "x", "symptom": "y"}\nnot json\n', 'cases/x.jsonl')).toThrow('cases/x.jsonl:2: not JSON');
		expect(() => parseCaseLibrary('{"label": "x"}\n', 'cases/x.jsonl')).toThrow('cases/x.jsonl:1: a case needs a label and a symptom');
		expect(buildCaseIndex(parseCaseLibrary(LIBRARY, 'l')).docs).toHaveLength(3);
	});

	it('the shipped library: every case parses, every label is a KB id or negative, and it has negatives to say no with', () => {
		const c = realKb();
		const index = c.cases!()!;
		const labels = new Set(index.docs.map((d) => d.c.label));
		for (const l of labels) expect(l === 'negative' || c.kb.byId.has(l), l).toBe(true);
		expect(index.docs.filter((d) => d.c.label === 'negative').length).toBeGreaterThanOrEqual(100);
		expect(index.docs.filter((d) => d.c.url).length).toBeGreaterThanOrEqual(700);
	});
});
