import {readFileSync} from 'node:fs';
import {describe, expect, it} from 'vitest';
import {diagnoseText} from '../../src/core/diagnose/diagnose.js';
import {realKb} from '../helpers/kb.js';

/**
 * The prefilter is only as fast as its literals are rare: a literal that ordinary E2E output prints on every other
 * line (`reconcile`, `k8s.io/client-go`, `STEP `) makes every such line a candidate and the scan several times slower
 * (seen: 121 → 30 MiB/s). A healthy run's noise (the bench's generator: ginkgo, zap JSON, controller-runtime, podman
 * build steps, kubectl rows, kubelet events) must stay almost free of them.
 */
describe('the KB prefilter on healthy E2E noise', () => {
	const kb = realKb();
	const lines = readFileSync(new URL('../fixtures/noise/healthy-e2e.log', import.meta.url), 'utf8')
		.split('\n')
		.filter(Boolean);

	it('holds a KB literal on fewer than 2 lines in 100 (and names the literals that do)', () => {
		const lits = kb.automaton.literals;
		const hits = new Map<string, number>();
		let candidates = 0;
		for (const l of lines) {
			const lower = l.toLowerCase();
			const found = lits.filter((x) => lower.includes(x));
			if (found.length > 0) candidates++;
			for (const f of found) hits.set(f, (hits.get(f) ?? 0) + 1);
		}
		const worst = [...hits]
			.sort((a, b) => b[1] - a[1])
			.slice(0, 5)
			.map(([l, n]) => `${JSON.stringify(l)} ×${n}`);
		expect(candidates / lines.length, `literals on most lines: ${worst.join(', ')}`).toBeLessThan(0.02);
	});

	it('finds nothing in it', () => {
		expect(diagnoseText(kb, lines.join('\n')).findings.filter((f) => f.confidence >= 0.5)).toEqual([]);
	});
});
