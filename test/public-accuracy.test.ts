import {readFileSync} from 'node:fs';
import {describe, expect, it} from 'vitest';
import {evaluateKb, parseCases} from '../src/core/kb/evaluate.js';
import {realKb} from './helpers/kb.js';

/**
 * Real cases copied verbatim from public issue threads (URL parity 1), labelled from each thread's resolution:
 * `public-dev` (190, built by others for the project) and `public-dev2` (113, grown the same way by a helper that
 * never saw the KB, from threads of another quarter of the URL space), and the first blind set once it was scored.
 * All are development data now: their figures only ever go up. First-run figures are in BENCHMARKS.md. They are also
 * the case library (knowledge/cases): each case is scored with its own thread left out of it.
 */
const SETS = [
	// first run at cab8078: top-1 113/150, top-3 115/150, false alarms 11/40
	{name: 'public-dev', positives: 150, negatives: 40, top1: 150, top3: 150, falseAlarms: 0},
	// first run at cab8078: top-1 56/89, top-3 58/89, false alarms 7/24
	{name: 'public-dev2', positives: 89, negatives: 24, top1: 89, top3: 89, falseAlarms: 0},
	// Built blind (parity 1, remainder 1 of 4) by two helpers who never saw the KB; scored once at a7b31f7, after the
	// KB had been grown from the two sets above: top-1 98/123, top-3 98/123, false alarms 0/40. Development data since.
	{name: 'blind-2026-12', positives: 123, negatives: 40, top1: 121, top3: 121, falseAlarms: 0},
	// A second blind set (parity 1 of the remaining threads, none seen by the KB's authors), scored once at a688e1b:
	// top-1 75/102, top-3 76/102, false alarms 1/30, confident and wrong 0. Development data since.
	{name: 'blind-c', positives: 102, negatives: 30, top1: 96, top3: 97, falseAlarms: 1},
	// A third blind set (parity 1, remainders 1 and 3 of 4, threads in no earlier set), built by two helpers who never
	// saw the KB and scored once at f2c4fa7: top-1 73/93, top-3 73/93, false alarms 1/23, confident and wrong 1/93.
	{name: 'blind-d', positives: 93, negatives: 23, top1: 92, top3: 92, falseAlarms: 1},
	// A fourth blind set (parity 1, remainders 1 and 3, threads in no earlier set), built by two helpers who never saw
	// the KB, scored once at b7111fb, the first with the case library: top-1 73/83 (signals alone 67), top-3 76/83,
	// false alarms 1/24, confident and wrong 2/83. Development data since.
	{name: 'blind-e', positives: 83, negatives: 24, top1: 80, top3: 80, falseAlarms: 1},
	// A fifth blind set (parity 1, remainders 1 and 3, four helpers who never saw the KB, each half of the taxonomy),
	// scored once at 9e17d2e with the case library: top-1 97/112, top-3 102/112, false alarms 0/24, confident and wrong
	// 3/112 (the KB's own examples as the only library: 101/112). Development data since.
	{name: 'blind-f', positives: 112, negatives: 24, top1: 109, top3: 111, falseAlarms: 0},
	// A sixth blind set (parity 1, remainders 1 and 3, four helpers who never saw the KB, each half of the taxonomy),
	// scored once at 21e8edd with the case library: top-1 86/104, top-3 89/104, false alarms 1/23, confident and wrong
	// 1/104. Development data since.
	{name: 'blind-g', positives: 104, negatives: 23, top1: 97, top3: 100, falseAlarms: 1},
	// A seventh blind set (parity 1, remainders 1 and 3, four helpers who never saw the KB, each half of the taxonomy),
	// scored once at 407454d with the case library: top-1 93/108, top-3 96/108, false alarms 0/22, confident and wrong
	// 1/108. Development data since.
	{name: 'blind-h', positives: 108, negatives: 22, top1: 105, top3: 105, falseAlarms: 0},
	// An eighth blind set (parity 1, remainders 1 and 3, four helpers who never saw the KB, each half of the taxonomy),
	// scored once at 0cf2b79 with the case library: top-1 86/97, top-3 91/97, false alarms 1/18, confident and wrong
	// 2/97. Development data since.
	{name: 'blind-i', positives: 97, negatives: 18, top1: 93, top3: 94, falseAlarms: 0},
];

describe.each(SETS)('the $name cases', ({name, positives, negatives, top1, top3, falseAlarms}) => {
	const report = evaluateKb(realKb(), parseCases(readFileSync(new URL(`../knowledge/cases/${name}.jsonl`, import.meta.url), 'utf8')));

	it(`ranks a right cause first on ${top1} of ${positives} and among the first three on ${top3} (never fewer)`, () => {
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
		expect(report.top1).toBeGreaterThanOrEqual(top1);
		expect(report.top3).toBeGreaterThanOrEqual(top3);
	});

	it(`raises at most ${falseAlarms} false alarms among its ${negatives} failures that are not infrastructure`, () => {
		expect(report.negatives).toBe(negatives);
		expect(
			report.outcomes.filter((o) => o.falseAlarm).map((o) => `${o.id}: ${o.ranked[0]?.id} ${o.ranked[0]?.confidence}`).length,
		).toBeLessThanOrEqual(falseAlarms);
	});

	it('is never confidently wrong: no positive case has a wrong cause first at 0.5 or more', () => {
		expect(report.outcomes.filter((o) => !o.negative && o.rank !== 1 && (o.ranked[0]?.confidence ?? 0) >= 0.5).map((o) => o.id)).toEqual(
			[],
		);
	});
});
