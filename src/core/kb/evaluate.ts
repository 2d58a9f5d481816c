import {diagnoseText} from '../diagnose/diagnose.js';
import {REPORT_CONFIDENCE} from '../diagnose/score.js';
import type {CompiledKb} from './compile.js';

/** A labelled case: the cause expected first, and other causes a thread's resolution also allows (`accept`). */
export type LabelledCase = {id: string; url?: string; text: string; expected?: string; accept?: string[]; negative: boolean};

export type CaseOutcome = {
	id: string;
	expected?: string;
	accept?: string[];
	negative: boolean;
	ranked: {id: string; confidence: number}[];
	/** Rank of the first right answer (expected or accepted), 1-based. */
	rank: number | null;
	falseAlarm: boolean;
};

/** For one expected id: how often it came first, and what came first instead when it did not. */
export type Confusion = {id: string; cases: number; top1: number; top3: number; instead: Record<string, number>};

export type EvalReport = {
	cases: number;
	positives: number;
	negatives: number;
	top1: number;
	top3: number;
	/** Right cause first and at diagnosis confidence (>= 0.5). */
	top1Confident: number;
	falseAlarms: number;
	/** A confident (>= 0.5) first finding that is wrong, on a positive case. */
	confidentWrong: number;
	outcomes: CaseOutcome[];
	confusions: Confusion[];
};

/** Scores the KB on labelled real cases: where the expected cause ranks, and false alarms on negatives. */
export function evaluateKb(c: CompiledKb, cases: LabelledCase[]): EvalReport {
	const outcomes: CaseOutcome[] = cases.map((k) => {
		// A case never resembles its own thread's copy in the library.
		const d = diagnoseText(c, k.text, undefined, {exclude: k.url});
		const ranked = d.findings.map((f) => ({id: f.id, confidence: f.confidence}));
		const right = new Set([...(k.expected ? [k.expected] : []), ...(k.accept ?? [])]);
		const idx = right.size > 0 ? ranked.findIndex((r) => right.has(r.id)) : -1;
		return {
			id: k.id,
			expected: k.expected,
			...(k.accept?.length ? {accept: k.accept} : {}),
			negative: k.negative,
			ranked,
			rank: idx === -1 ? null : idx + 1,
			falseAlarm: k.negative && ranked.some((r) => r.confidence >= REPORT_CONFIDENCE),
		};
	});
	const pos = outcomes.filter((o) => !o.negative);
	const byId = new Map<string, Confusion>();
	for (const o of pos) {
		const id = o.expected ?? '?';
		const cf = byId.get(id) ?? {id, cases: 0, top1: 0, top3: 0, instead: {}};
		cf.cases++;
		if (o.rank === 1) cf.top1++;
		if (o.rank !== null && o.rank <= 3) cf.top3++;
		if (o.rank !== 1) {
			const got = o.ranked[0]?.id ?? '(nothing)';
			cf.instead[got] = (cf.instead[got] ?? 0) + 1;
		}
		byId.set(id, cf);
	}
	return {
		cases: outcomes.length,
		positives: pos.length,
		negatives: outcomes.length - pos.length,
		top1: pos.filter((o) => o.rank === 1).length,
		top3: pos.filter((o) => o.rank !== null && o.rank <= 3).length,
		top1Confident: pos.filter((o) => o.rank === 1 && o.ranked[0]!.confidence >= REPORT_CONFIDENCE).length,
		falseAlarms: outcomes.filter((o) => o.falseAlarm).length,
		confidentWrong: pos.filter((o) => o.rank !== 1 && (o.ranked[0]?.confidence ?? 0) >= REPORT_CONFIDENCE).length,
		outcomes,
		confusions: [...byId.values()].sort((a, b) => b.cases - b.top1 - (a.cases - a.top1) || a.id.localeCompare(b.id)),
	};
}

type CaseRow = {
	id?: string;
	url?: string;
	symptom?: string;
	text?: string;
	category?: string;
	expected?: string;
	label?: string;
	accept?: unknown;
	is_negative?: boolean;
};

/**
 * Reads cases in any of the formats the sets use: Kubernaut's (`category` + an expect map, `is_negative`), the
 * hold-outs' (`expected`), and the public corpus's (`label`, `accept`, `negative` as a label).
 */
export function parseCases(text: string, expectMap: Record<string, string> = {}): LabelledCase[] {
	return text
		.split('\n')
		.filter((l) => l.trim())
		.map((l, i) => {
			let row: CaseRow;
			try {
				row = JSON.parse(l) as CaseRow;
			} catch {
				throw new Error(`cases line ${i + 1} is not JSON`);
			}
			if (row === null || typeof row !== 'object' || Array.isArray(row)) throw new Error(`cases line ${i + 1} is not a JSON object`);
			const negative = row.is_negative === true || row.label === 'negative';
			const expected = negative ? undefined : (row.expected ?? row.label ?? (row.category ? expectMap[row.category] : undefined));
			const accept = Array.isArray(row.accept) ? row.accept.filter((a): a is string => typeof a === 'string') : [];
			return {
				id: row.id ?? `case-${i + 1}`,
				...(typeof row.url === 'string' ? {url: row.url} : {}),
				text: row.symptom ?? row.text ?? '',
				negative,
				expected,
				...(accept.length > 0 ? {accept} : {}),
			};
		});
}
