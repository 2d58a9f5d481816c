import {ERRORISH} from './unmatched.js';

/**
 * The case library as an index: each real case (output copied verbatim from a public thread, labelled from its
 * resolution) as a unit vector of weighted words and word pairs. No imports of the KB, so compile.ts can name it.
 */
export type LibraryCase = {id: string; url?: string; label: string; text: string};

/**
 * A case of the library: its term counts and the length of its weighted vector. The unit vector itself is never
 * built: a term's weight is worked out when a query shares it (building 1,200 vectors cost half the start).
 */
export type Doc = {c: LibraryCase; tf: Map<string, number>; norm: number};

/** A term's weight before normalising: its log-damped count times its idf. */
const termWeight = (count: number, idf: number) => (1 + Math.log(count)) * idf;

/** The case's unit-vector weight of one term (0 when it lacks it). */
export function weightOf(doc: Doc, k: string, idf: Map<string, number>): number {
	const f = doc.tf.get(k);
	return f === undefined ? 0 : termWeight(f, idf.get(k) ?? 0) / doc.norm;
}

export type CaseIndex = {docs: Doc[]; idf: Map<string, number>};

/** Lines that say something failed count this many times: they carry the cause, the rest is context. */
const ERROR_LINE_WEIGHT = 3;
const WORD = /[a-z][a-z0-9_]*(?:[.'-][a-z0-9_]+)*|\b\d{3}\b/g;
const HEXISH = /^[0-9a-f]{8,}$/;

export function words(line: string, lowered = false): string[] {
	const out: string[] = [];
	for (const m of (lowered ? line : line.toLowerCase()).matchAll(WORD)) if (m[0].length >= 2 && !HEXISH.test(m[0])) out.push(m[0]);
	return out;
}

/** Term counts of a text: words and adjacent pairs, error lines weighted up. */
export function terms(text: string): Map<string, number> {
	const m = new Map<string, number>();
	for (const line of text.toLowerCase().split('\n')) {
		const ws = words(line, true);
		if (ws.length === 0) continue;
		const w = ERRORISH.test(line) ? ERROR_LINE_WEIGHT : 1;
		for (let i = 0; i < ws.length; i++) {
			m.set(ws[i]!, (m.get(ws[i]!) ?? 0) + w);
			if (i + 1 < ws.length) {
				const pair = `${ws[i]} ${ws[i + 1]}`;
				m.set(pair, (m.get(pair) ?? 0) + w);
			}
		}
	}
	return m;
}

export function vectorise(tf: Map<string, number>, idf: Map<string, number>): Map<string, number> {
	const v = new Map<string, number>();
	let norm = 0;
	for (const [k, f] of tf) {
		const w = idf.get(k);
		if (w === undefined) continue;
		const x = termWeight(f, w);
		v.set(k, x);
		norm += x * x;
	}
	norm = Math.sqrt(norm) || 1;
	for (const [k, x] of v) v.set(k, x / norm);
	return v;
}

/** Builds the index once (lazily, on the first input no signal explains). */
export function buildCaseIndex(cases: LibraryCase[]): CaseIndex {
	const tfs = cases.map((c) => terms(c.text));
	const df = new Map<string, number>();
	for (const tf of tfs) for (const k of tf.keys()) df.set(k, (df.get(k) ?? 0) + 1);
	const n = cases.length;
	const idf = new Map<string, number>();
	// A term every case has says nothing; one seen once is kept (it may be the telling word).
	for (const [k, d] of df) idf.set(k, Math.log((n + 1) / (d + 1)));
	const docs = cases.map((c, i) => {
		let sq = 0;
		for (const [k, f] of tfs[i]!) {
			const x = termWeight(f, idf.get(k)!);
			sq += x * x;
		}
		return {c, tf: tfs[i]!, norm: Math.sqrt(sq) || 1};
	});
	return {docs, idf};
}

/** Reads the library's JSONL (the fields public-dev uses: id, url, label, symptom); a bad line names its file and line. */
export function parseCaseLibrary(text: string, path: string): LibraryCase[] {
	const out: LibraryCase[] = [];
	text.split('\n').forEach((line, i) => {
		if (!line.trim()) return;
		let row: unknown;
		try {
			row = JSON.parse(line);
		} catch {
			throw new Error(`${path}:${i + 1}: not JSON`);
		}
		const r = row as {id?: unknown; url?: unknown; label?: unknown; symptom?: unknown};
		if (typeof r.label !== 'string' || typeof r.symptom !== 'string' || r.symptom === '')
			throw new Error(`${path}:${i + 1}: a case needs a label and a symptom`);
		out.push({
			id: typeof r.id === 'string' ? r.id : `${path}:${i + 1}`,
			...(typeof r.url === 'string' ? {url: r.url} : {}),
			label: r.label,
			text: r.symptom,
		});
	});
	return out;
}
