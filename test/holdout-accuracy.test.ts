import {readFileSync} from 'node:fs';
import {describe, expect, it} from 'vitest';
import {evaluateKb} from '../src/core/kb/evaluate.js';
import {realKb} from './helpers/kb.js';

type Row = {id: string; expected?: string; is_negative: boolean; symptom: string};

/**
 * Cases written from public issue threads by people who never saw the KB. Each set was scored once blind
 * (figures below and in BENCHMARKS.md); its misses were then fixed only by general changes, so the sets now
 * guard against regressions. They are not a measure of generalisation any more: a new blind set is.
 */
const SETS = [
	{name: 'holdout', blind: 'top-1 71/76, top-3 75/76, false alarms 0/20', positives: 76, negatives: 20, top3: 0.97},
	{name: 'holdout2', blind: 'top-1 67/76, top-3 71/76, false alarms 3/20', positives: 76, negatives: 20, top3: 0.97},
	{name: 'holdout3', blind: 'top-1 68/76, top-3 71/76, false alarms 0/20', positives: 76, negatives: 20, top3: 0.97},
	// Kubernaut hand-off style, labelled independently; two of its labels are disputed (BENCHMARKS.md), so the
	// guard is the level reached after the general fixes.
	{name: 'holdout4', blind: 'top-1 59/70, top-3 62/70, false alarms 2/15', positives: 70, negatives: 15, top3: 0.95},
];

describe.each(SETS)('hold-out set $name (blind run: $blind)', ({name, positives, negatives, top3}) => {
	const rows = readFileSync(new URL(`./fixtures/${name}/cases.jsonl`, import.meta.url), 'utf8')
		.split('\n')
		.filter(Boolean)
		.map((l) => JSON.parse(l) as Row);
	const report = evaluateKb(
		realKb(),
		rows.map((r) => ({id: r.id, text: r.symptom, expected: r.expected, negative: r.is_negative})),
	);

	it('ranks the expected cause first on 9 in 10 and in the top three on 97 in 100', () => {
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
			`${name}: top-1 ${report.top1}/${report.positives}, top-3 ${report.top3}/${report.positives}, false alarms ${report.falseAlarms}/${report.negatives}\n  ${misses.join('\n  ')}`,
		);
		expect(report.positives).toBe(positives);
		expect(report.top1 / report.positives).toBeGreaterThanOrEqual(0.9);
		expect(report.top3 / report.positives).toBeGreaterThanOrEqual(top3);
	});

	it('raises at most one false alarm among the non-infrastructure failures', () => {
		expect(report.negatives).toBe(negatives);
		expect(report.falseAlarms).toBeLessThanOrEqual(1);
	});
});
