import {InputError} from '../adapters/input.js';
import {lintKb, testKb} from '../core/kb/check.js';
import {evaluateKb, parseCases} from '../core/kb/evaluate.js';
import type {CompiledKb} from '../core/kb/compile.js';
import {makePaint} from '../plain/format.js';

type Out = {write(s: string): void};

/** No such entry: the nearest id by a prefix or a few typos, as git says "did you mean". */
export function unknownEntry(c: CompiledKb, id: string): string {
	const ids = [...c.kb.byId.keys()];
	const near =
		ids.filter((k) => k.startsWith(id) || id.startsWith(k)).sort((a, b) => a.length - b.length)[0] ??
		ids
			.map((k) => [k, editDistance(k, id)] as const)
			.filter(([, d]) => d <= Math.max(2, Math.floor(id.length / 4)))
			.sort((a, b) => a[1] - b[1])[0]?.[0];
	return `no entry "${id}"${near ? `: did you mean ${near}?` : ''} (kdoctor kb list shows them)`;
}

function editDistance(a: string, b: string): number {
	let prev = Array.from({length: b.length + 1}, (_, j) => j);
	for (let i = 1; i <= a.length; i++) {
		const row = [i];
		for (let j = 1; j <= b.length; j++) row.push(Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
		prev = row;
	}
	return prev[b.length]!;
}

/** `kdoctor kb list`: one line per entry, grouped by file; a team's entries say where they come from. */
export function kbList(c: CompiledKb, out: Out, json: boolean): number {
	const overrides = new Set(c.kb.overridden.map((o) => o.id));
	const teamIds = new Set(c.kb.files.filter((f) => f.team).flatMap((f) => f.ids));
	if (json) {
		const rows = c.kb.entries.map((e) => ({
			id: e.id,
			title: e.title,
			layer: e.layer,
			source: teamIds.has(e.id) ? 'team' : 'built-in',
			...(overrides.has(e.id) ? {overrides: true} : {}),
		}));
		out.write(JSON.stringify(rows) + '\n');
		return 0;
	}
	for (const f of c.kb.files) {
		if (f.ids.length === 0) continue;
		out.write(f.team ? `${f.topic}  (team: ${f.path})\n` : `${f.topic}\n`);
		for (const id of f.ids) {
			const e = c.kb.byId.get(id)!;
			out.write(`  ${id.padEnd(30)} ${e.layer.padEnd(9)} ${e.title}${overrides.has(id) ? '  (overrides the built-in entry)' : ''}\n`);
		}
	}
	const team = teamIds.size > 0 ? ` (${teamIds.size} from the team's own KB)` : '';
	out.write(`${c.kb.entries.length} entr${c.kb.entries.length === 1 ? 'y' : 'ies'} in ${c.kb.files.length} files${team}\n`);
	return 0;
}

/** `kdoctor kb show ID`: the whole entry as a person reads it. */
export function kbShow(c: CompiledKb, id: string, out: Out, json: boolean): number {
	const e = c.kb.byId.get(id);
	if (!e) throw new InputError(unknownEntry(c, id));
	if (json) {
		out.write(JSON.stringify(e, null, 2) + '\n');
		return 0;
	}
	out.write(`${e.id} — ${e.title}\nlayer: ${e.layer}\n\n${e.summary.trim()}\n\nsignals:\n`);
	for (const s of e.signals)
		out.write(
			`  ${s.role.padEnd(9)} ${s.weight.toFixed(2)}  ${s.pattern ? `/${s.pattern}/` : `${s.when!.fact}`}\n             ${s.means}\n`,
		);
	if (e.explains.length) out.write(`\nexplains: ${e.explains.join(', ')}\n`);
	for (const cw of e.confusedWith) out.write(`\nconfused with ${cw.id}: ${cw.tellApart}\n`);
	if (e.remediations.length) out.write('\nremediations:\n');
	for (const r of e.remediations)
		out.write(
			`  [${r.key}] ${r.title} (${r.kind}${r.destructive ? ', destructive' : ''})\n  ` +
				`    change: ${r.change}\n      verify: ${r.verify}\n      undo:   ${r.undo}\n`,
		);
	if (e.references.length) out.write(`\nreferences:\n${e.references.map((r) => `  ${r}\n`).join('')}`);
	return 0;
}

/** `kdoctor kb lint`: exit 1 on any error-level problem. */
export function kbLint(c: CompiledKb, out: Out, color: boolean): number {
	const paint = makePaint(color);
	const problems = lintKb(c.kb);
	for (const p of problems) out.write(`${p.severity === 'error' ? paint.red('error') : paint.yellow('warning')} ${p.id}: ${p.message}\n`);
	const errors = problems.filter((p) => p.severity === 'error').length;
	out.write(`${c.kb.entries.length} entries checked: ${errors} errors, ${problems.length - errors} warnings\n`);
	return errors > 0 ? 1 : 0;
}

/** `kdoctor kb test [ID]`: runs every entry's examples through the whole KB. */
export function kbTest(c: CompiledKb, out: Out, color: boolean, only?: string, verbose = false): number {
	if (only && !c.kb.byId.has(only)) throw new InputError(unknownEntry(c, only));
	const paint = makePaint(color);
	const results = testKb(c, only);
	const failed = results.filter((r) => !r.ok);
	for (const r of verbose ? results : failed)
		out.write(`${r.ok ? paint.green('ok  ') : paint.red('FAIL')} ${r.id} ${r.kind} ${r.name}: ${r.message}\n`);
	out.write(`${results.length - failed.length} passed, ${failed.length} failed\n`);
	return failed.length > 0 ? 1 : 0;
}

/** `kdoctor kb eval CASES.jsonl --expect MAP.yaml`: how the KB ranks on labelled real cases, and what it confuses. */
export function kbEval(c: CompiledKb, casesText: string, expected: Record<string, string>, out: Out, json: boolean): number {
	const r = evaluateKb(c, parseCases(casesText, expected));
	if (json) {
		out.write(JSON.stringify(r) + '\n');
		return 0;
	}
	const right = (o: (typeof r.outcomes)[number]) => [o.expected, ...(o.accept ?? [])].filter(Boolean).join('|');
	for (const o of r.outcomes) {
		if (o.negative)
			out.write(
				`${o.falseAlarm ? 'FALSE ALARM' : 'ok         '} ${o.id} (negative) ` +
					`${o.ranked[0] ? `top: ${o.ranked[0].id} ${o.ranked[0].confidence}` : ''}\n`,
			);
		else
			out.write(
				`${(o.rank === 1 ? 'top-1' : o.rank !== null && o.rank <= 3 ? `top-${o.rank}` : 'MISS').padEnd(11)} ${o.id} ` +
					`expected ${right(o) || '?'}; got ${
						o.ranked
							.slice(0, 3)
							.map((x) => `${x.id} ${x.confidence}`)
							.join(', ') || 'nothing'
					}\n`,
			);
	}
	const missed = r.confusions.filter((cf) => cf.top1 < cf.cases);
	if (missed.length > 0) {
		out.write('\nconfusions (expected id: first right / cases; what came first instead)\n');
		for (const cf of missed)
			out.write(
				`  ${cf.id.padEnd(28)} ${cf.top1}/${cf.cases}  ${Object.entries(cf.instead)
					.sort((a, b) => b[1] - a[1])
					.map(([id, n]) => `${id} ×${n}`)
					.join(', ')}\n`,
			);
	}
	const pct = (n: number, d: number) => (d === 0 ? '-' : `${((100 * n) / d).toFixed(1)}%`);
	out.write(
		`\ntop-1 ${r.top1}/${r.positives} (${pct(r.top1, r.positives)}), top-3 ` +
			`${r.top3}/${r.positives} (${pct(r.top3, r.positives)}), confident top-1 ` +
			`${r.top1Confident}/${r.positives}, confident and wrong ${r.confidentWrong}/${r.positives}, ` +
			`false alarms ${r.falseAlarms}/${r.negatives} (${pct(r.falseAlarms, r.negatives)})\n`,
	);
	return 0;
}
