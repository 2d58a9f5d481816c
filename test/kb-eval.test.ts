import {mkdtempSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {runCli} from './helpers/cli.js';

describe('kdoctor kb eval: an honest yardstick', () => {
	const dir = mkdtempSync(join(tmpdir(), 'kdoctor-eval-'));
	const cases = join(dir, 'cases.jsonl');
	const rows = [
		{id: 'oom', label: 'build-oom-killed', accept: [], symptom: 'c++: fatal error: Killed signal terminated program cc1plus'},
		// A case whose label the KB gets wrong, and one it cannot see at all: both show up as confusions of their id.
		{id: 'policy-as-auth', label: 'registry-auth', accept: [], symptom: 'Error: container name "web" is already in use'},
		{id: 'unseen', label: 'registry-auth', accept: [], symptom: 'the frobnicator said no'},
		{id: 'neverpull', label: 'image-not-loaded', accept: ['image-name-mismatch'], symptom: 'web-1   0/1   ErrImageNeverPull   0   9s'},
		{id: 'neg', label: 'negative', accept: [], symptom: '--- FAIL: TestParse (0.00s)\n    parse_test.go:12: got 2, want 3'},
	];
	writeFileSync(cases, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');

	it('reads label/accept cases, counts an accepted answer as right, and prints the confusions per id', async () => {
		const r = await runCli(['kb', 'eval', cases]);
		expect(r.code, r.stderr).toBe(0);
		expect(r.stdout).toMatch(/^top-1 +oom expected build-oom-killed/m);
		expect(r.stdout).toMatch(/^top-1 +neverpull expected image-not-loaded\|image-name-mismatch/m);
		expect(r.stdout).toMatch(/^ok +neg \(negative\)/m);
		expect(r.stdout).toContain('confusions (expected id: first right / cases; what came first instead)');
		expect(r.stdout).toMatch(/^ {2}registry-auth +0\/2 +container-name-conflict ×1, \(nothing\) ×1$/m);
		expect(r.stdout).toMatch(/top-1 2\/4 \(50\.0%\), top-3 2\/4 \(50\.0%\), .*confident and wrong 1\/4, false alarms 0\/1 \(0\.0%\)/);
	});

	it('--json carries the same confusions', async () => {
		const r = await runCli(['kb', 'eval', cases, '--json']);
		const j = JSON.parse(r.stdout) as {confusions: {id: string; cases: number; top1: number; instead: Record<string, number>}[]};
		expect(j.confusions.find((c) => c.id === 'registry-auth')).toEqual({
			id: 'registry-auth',
			cases: 2,
			top1: 0,
			top3: 0,
			instead: {'container-name-conflict': 1, '(nothing)': 1},
		});
	});
});
