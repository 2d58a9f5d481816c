import type {CompiledKb} from '../kb/compile.js';
import type {Kb} from '../kb/load.js';
import {visible} from '../text/visible.js';
import type {Finding} from './score.js';
import {
	buildCaseIndex,
	parseCaseLibrary,
	terms,
	vectorise,
	weightOf,
	words,
	type CaseIndex,
	type Doc,
	type LibraryCase,
} from './case-index.js';

/** Below this similarity nothing is said (chosen on blind-c and blind-d replayed at their first-run KBs). */
export const RESEMBLE_MIN = 0.15;
/** A resemblance stays possible (below REPORT_CONFIDENCE), whatever the similarity. */
const RESEMBLE_MAX = 0.45;
const MAX_RESEMBLANCES = 3;
/** A case's own text is short; a long input is read at its start and its end (where failures are). */
const MAX_INPUT = 64 * 1024;
export const NEGATIVE = 'negative';

/** The input as the index reads it: all of a short one, the first and last quarter-windows of a long one. */
function window(text: string): string {
	if (text.length <= MAX_INPUT) return text;
	return `${text.slice(0, MAX_INPUT / 4)}\n${text.slice(-(MAX_INPUT * 3) / 4)}`;
}

/** The query's unit vector against a case's, term by term of the (small) query. */
function dot(q: Map<string, number>, doc: Doc, idf: Map<string, number>): number {
	let s = 0;
	for (const [k, x] of q) s += x * weightOf(doc, k, idf);
	return s;
}

/** The input line that shares most with the case: where a reader should look. */
function bestLine(text: string, doc: Doc, idf: Map<string, number>): {line: number; text: string} | undefined {
	let best: {line: number; text: string; score: number} | undefined;
	const lines = text.split('\n');
	for (let i = 0; i < lines.length; i++) {
		const ws = words(lines[i]!);
		if (ws.length === 0) continue;
		let s = 0;
		for (const w of new Set(ws)) s += weightOf(doc, w, idf) * (idf.get(w) ?? 0);
		if (s > 0 && (!best || s > best.score)) best = {line: i + 1, text: lines[i]!, score: s};
	}
	return best && {line: best.line, text: best.text};
}

/**
 * When no signal matched, the output may still look like a real failure whose cause is known: the case library
 * (knowledge/cases/*.jsonl, output copied verbatim from public threads and labelled from their resolution) is a
 * nearest-neighbour yardstick. A resemblance is never a diagnosis: it is shown as "possible", below 0.5, with the
 * thread it resembles as its evidence.
 *
 * Possible causes by resemblance: the nearest case of each label, best first, while the nearest of all is not a
 * failure outside the taxonomy (then nothing is said). `exclude` (a thread's URL) is for evaluation: a case never
 * resembles itself.
 */
export function resemble(kb: CompiledKb, index: CaseIndex, text: string, opts: {exclude?: string} = {}): Finding[] {
	// An evaluated case leaves out its thread and any KB example cut from its own text.
	const own = (c: LibraryCase) =>
		opts.exclude !== undefined &&
		(c.url === opts.exclude ||
			(c.url === undefined && c.text.trim().length >= 40 && (text.includes(c.text.trim()) || c.text.includes(text.trim()))));
	const input = window(text);
	const q = vectorise(terms(input), index.idf);
	if (q.size === 0) return [];
	const best = new Map<string, {doc: Doc; sim: number}>();
	let nearest: {doc: Doc; sim: number} | undefined;
	for (const doc of index.docs) {
		if (own(doc.c)) continue;
		const sim = dot(q, doc, index.idf);
		if (sim < RESEMBLE_MIN) continue;
		if (!nearest || sim > nearest.sim) nearest = {doc, sim};
		const b = best.get(doc.c.label);
		if (!b || sim > b.sim) best.set(doc.c.label, {doc, sim});
	}
	if (!nearest || nearest.doc.c.label === NEGATIVE) return [];
	return [...best.values()]
		.filter((b) => b.doc.c.label !== NEGATIVE && kb.kb.byId.has(b.doc.c.label))
		.sort((a, b) => b.sim - a.sim)
		.slice(0, MAX_RESEMBLANCES)
		.map(({doc, sim}) => {
			const entry = kb.kb.byId.get(doc.c.label)!;
			const confidence = Math.round(Math.min(RESEMBLE_MAX, sim) * 100) / 100;
			const where = doc.c.url ?? doc.c.id;
			const means = `looks like a known case of this cause (${where}, similarity ${sim.toFixed(2)}); no signal of it matched`;
			// Line numbers are only true of an input read whole.
			const at = text.length <= MAX_INPUT ? bestLine(input, doc, index.idf) : undefined;
			return {
				id: entry.id,
				title: entry.title,
				layer: entry.layer,
				confidence,
				summary: entry.summary.trim(),
				evidence: [
					{
						line: at?.line ?? null,
						text: visible(at?.text ?? `resembles ${where}`),
						signal: 'resembles',
						means,
						role: 'support' as const,
						source: 'text' as const,
					},
				],
				lines: at ? [at.line] : [],
				why: [{signal: 'resembles', means, role: 'support' as const, weight: confidence, count: 1}],
				// A fix that needs a signal's evidence or a captured name cannot be offered on a resemblance.
				remediations: entry.remediations
					.filter((r) => !r.needs && !JSON.stringify(r).includes('{{'))
					.map((r) => ({key: r.key, title: r.title, kind: r.kind})),
				captures: {},
				resembles: {case: doc.c.id, ...(doc.c.url ? {url: doc.c.url} : {}), similarity: Math.round(sim * 100) / 100},
			};
		});
}

/** A lazy index over the KB's own positive examples and the library's cases: built once, when an input needs it. */
export function lazyCaseIndex(kb: Kb, read: () => {path: string; text: string}[]): () => CaseIndex | undefined {
	let index: CaseIndex | undefined | null = null;
	return () => {
		if (index === null) {
			const examples = kb.entries.flatMap((e) =>
				e.examples.positive
					.map((x, i) => ({id: `${e.id} example ${i + 1}`, label: e.id, text: typeof x === 'string' ? x : x.text}))
					.filter((x) => x.text.trim() !== ''),
			);
			const cases = [...examples, ...read().flatMap((s) => parseCaseLibrary(s.text, s.path))];
			index = cases.length > 0 ? buildCaseIndex(cases) : undefined;
		}
		return index;
	};
}

/** Where a possible cause comes from no signal: the real case it looks like, to read and compare. */
export function resemblance(r: NonNullable<Finding['resembles']>): string {
	return `${r.url ?? r.case} (similarity ${r.similarity.toFixed(2)}): no signal of this cause matched, only the words of a known case`;
}
