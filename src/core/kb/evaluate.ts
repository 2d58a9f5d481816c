import {diagnoseText} from '../diagnose/diagnose.js';
import {REPORT_CONFIDENCE} from '../diagnose/score.js';
import type {CompiledKb} from './compile.js';

export type LabelledCase = {id: string; text: string; expected?: string; negative: boolean};

export type CaseOutcome = {id: string; expected?: string; negative: boolean; ranked: {id: string; confidence: number}[]; rank: number | null; falseAlarm: boolean};

export type EvalReport = {
	cases: number;
	positives: number;
	negatives: number;
	top1: number;
	top3: number;
	/** Right cause first and at diagnosis confidence (>= 0.5). */
	top1Confident: number;
	falseAlarms: number;
	outcomes: CaseOutcome[];
};

/** Scores the KB on labelled real cases: where the expected cause ranks, and false alarms on negatives. */
export function evaluateKb(c: CompiledKb, cases: LabelledCase[]): EvalReport {
	const outcomes: CaseOutcome[] = cases.map((k) => {
		const d = diagnoseText(c, k.text);
		const ranked = d.findings.map((f) => ({id: f.id, confidence: f.confidence}));
		const idx = k.expected ? ranked.findIndex((r) => r.id === k.expected) : -1;
		return {id: k.id, expected: k.expected, negative: k.negative, ranked, rank: idx === -1 ? null : idx + 1, falseAlarm: k.negative && ranked.some((r) => r.confidence >= REPORT_CONFIDENCE)};
	});
	const pos = outcomes.filter((o) => !o.negative);
	return {
		cases: outcomes.length,
		positives: pos.length,
		negatives: outcomes.length - pos.length,
		top1: pos.filter((o) => o.rank === 1).length,
		top3: pos.filter((o) => o.rank !== null && o.rank <= 3).length,
		top1Confident: pos.filter((o) => o.rank === 1 && o.ranked[0]!.confidence >= REPORT_CONFIDENCE).length,
		falseAlarms: outcomes.filter((o) => o.falseAlarm).length,
		outcomes,
	};
}
