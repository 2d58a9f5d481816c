import {describe, expect, it} from 'vitest';
import {evaluateKb} from '../src/core/kb/evaluate.js';
import {corpusCases} from './helpers/corpus.js';
import {realKb} from './helpers/kb.js';

describe('diagnosis on the 68 real corpus cases', () => {
	const report = evaluateKb(realKb(), corpusCases());

	it('ranks the right cause first on at least 9 in 10 and in the top three on at least 95 in 100', () => {
		const misses = report.outcomes
			.filter((o) => !o.negative && o.rank !== 1)
			.map(
				(o) =>
					`${o.id}: expected ${o.expected}, got ${
						o.ranked
							.slice(0, 3)
							.map((r) => `${r.id} ${r.confidence}`)
							.join(', ') || 'nothing'
					}`,
			);
		console.log(
			`corpus: top-1 ${report.top1}/${report.positives}, top-3 ${report.top3}/${report.positives}, false alarms ${report.falseAlarms}/${report.negatives}\n  ${misses.join('\n  ')}`,
		);
		expect(report.top1 / report.positives).toBeGreaterThanOrEqual(0.9);
		expect(report.top3 / report.positives).toBeGreaterThanOrEqual(0.95);
	});

	it('raises no false alarm on the non-infrastructure failures', () => {
		expect(report.outcomes.filter((o) => o.falseAlarm).map((o) => `${o.id}: ${o.ranked[0]?.id}`)).toEqual([]);
	});
});
