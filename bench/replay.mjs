// Replays a blind set at the KB it was first scored with, adding today's resemblance step (src/core/diagnose/resemble.ts
// copied in) over only the cases that existed then; run by bench/replay-blind.sh inside a worktree of that commit.
import {readFileSync} from 'node:fs';
import {readKbSources} from './src/adapters/kb-files.js';
import {compileKb} from './src/core/kb/compile.js';
import {loadKb} from './src/core/kb/load.js';
import {evaluateKb, parseCases} from './src/core/kb/evaluate.js';
import {lazyCaseIndex, resemble} from './src/core/diagnose/resemble.js';

const kb = loadKb(readKbSources());
const c = compileKb(kb);
const train = (process.env.TRAIN ?? '').split(',').filter(Boolean);
const index = lazyCaseIndex(kb, () => train.map((f) => ({path: f, text: readFileSync(f, 'utf8')})))();
const file = process.argv[2];
const cases = parseCases(readFileSync(file, 'utf8'));
const r = evaluateKb(c, cases);
let top1 = 0,
	top3 = 0,
	falseAlarms = 0,
	saidOnNegatives = 0,
	confidentWrong = 0;
for (const o of r.outcomes) {
	const k = cases.find((x) => x.id === o.id);
	const ranked = o.ranked.length > 0 ? o.ranked : resemble(c, index, k.text).map((f) => ({id: f.id, confidence: f.confidence}));
	if (o.negative) {
		if (ranked.some((x) => x.confidence >= 0.5)) falseAlarms++;
		if (ranked.length > 0) saidOnNegatives++;
		continue;
	}
	const right = new Set([k.expected, ...(k.accept ?? [])]);
	const i = ranked.findIndex((x) => right.has(x.id));
	if (i === 0) top1++;
	if (i >= 0 && i < 3) top3++;
	if (i !== 0 && (ranked[0]?.confidence ?? 0) >= 0.5) confidentWrong++;
}
const pct = (n) => `${((100 * n) / r.positives).toFixed(1)}%`;
console.log(
	`${file.split('/').at(-1)}: signals alone top-1 ${r.top1}/${r.positives} (${pct(r.top1)}), top-3 ${r.top3}; ` +
		`with resemblance top-1 ${top1} (${pct(top1)}), top-3 ${top3} (${pct(top3)}), false alarms ${falseAlarms}/${r.negatives}, ` +
		`negatives given a possible cause ${saidOnNegatives}/${r.negatives}, confident and wrong ${confidentWrong}`,
);
