import type {CompiledKb} from '../kb/compile.js';
import type {Entry, Layer, RemediationKind, Signal} from '../kb/schema.js';
import {displayTemplate, templateVars} from '../kb/template.js';
import type {Hit, SignalHits} from './scan.js';

export type FactValue = {value: string | number | boolean; text?: string; source?: 'cluster' | 'host' | 'engine' | 'run' | 'text'};
export type Facts = Record<string, FactValue[]>;

export type EvidenceItem = {
	line: number | null;
	text: string;
	signal: string;
	means: string;
	role: Signal['role'];
	source: 'text' | 'cluster' | 'host' | 'engine' | 'run';
	before?: string[];
	after?: string[];
	related?: {line: number; text: string};
	file?: string;
};

export type Finding = {
	id: string;
	title: string;
	layer: Layer;
	confidence: number;
	summary: string;
	evidence: EvidenceItem[];
	/** Every input line a text signal matched on (for edits that change only those lines). */
	lines: number[];
	/** Every signal that matched, so a reader can see why the confidence is what it is. */
	why: {signal: string; means: string; role: Signal['role']; weight: number; count: number}[];
	remediations: {key: string; title: string; kind: RemediationKind}[];
	captures: Record<string, string>;
	/** Each matched line's own captures: an edit of the evidence file fills its template line by line (every FROM). */
	lineCaptures?: Record<number, Record<string, string>>;
	explainedBy?: string;
	/** For a possible finding whose confusion is also possible: the one check that tells the two apart. */
	tellApart?: {id: string; check: string}[];
	/** A possible finding from no signal: the real case (thread) of the library the output looks most like. */
	resembles?: {case: string; url?: string; similarity: number};
	file?: string;
};

/** Findings below this are dropped entirely; between it and REPORT they are shown as "possible". */
export const MIN_CONFIDENCE = 0.15;
/** A finding at or above this counts as a diagnosis (exit code 1, shown as a cause). */
export const REPORT_CONFIDENCE = 0.5;
const MAX_EVIDENCE = 8;
const EXPLAIN_MARGIN = 0.1;

type Matched = {signal: Signal; count: number; hits: Hit[]; facts: FactValue[]};

/** Turns signal matches into ranked findings: noisy-OR of what matched, damped by what argues against it. */
export function score(
	compiled: CompiledKb,
	textMatches: Map<string, SignalHits>,
	facts: Facts = {},
	vetoed: Set<string> = new Set(),
	seen: Map<string, number> = new Map(),
): Finding[] {
	const findings: Finding[] = [];
	const contexts = (compiled.kb.contexts ?? []).filter((c) => seen.has(c.id));
	const kinds = new Set(contexts.map((c) => c.id));
	// The kinds of output seen are facts too, so an entry can prefer the output it belongs to.
	const withKinds: Facts =
		contexts.length === 0
			? facts
			: {
					...facts,
					'output.kind': [
						...(facts['output.kind'] ?? []),
						...contexts.map((c) => ({value: c.id, text: `the output is ${c.means}`, source: 'text' as const})),
					],
				};
	const damping = contexts.filter((c) => c.damp !== undefined);
	for (const entry of compiled.kb.entries) {
		const matched = matchEntry(entry, textMatches, withKinds).filter(
			(m) => !vetoed.has(`${entry.id}/${m.signal.id}`) && inKind(m.signal, kinds),
		);
		if (!matched.some((m) => m.signal.role === 'signature')) continue;
		let p = 1;
		for (const m of matched) if (m.signal.role !== 'against') p *= 1 - m.signal.weight;
		let confidence = 1 - p;
		for (const m of matched) if (m.signal.role === 'against') confidence *= 1 - m.signal.weight;
		for (const c of damping) confidence *= 1 - c.damp!;
		confidence = Math.min(0.99, confidence);
		if (confidence < MIN_CONFIDENCE) continue;
		const finding = buildFinding(entry, matched, confidence);
		for (const c of damping)
			finding.why.push({signal: `context:${c.id}`, means: c.means, role: 'against', weight: c.damp!, count: seen.get(c.id)!});
		findings.push(finding);
	}
	applyExplains(compiled, findings);
	addChecks(compiled, findings);
	return rank(
		compiled,
		findings.filter((f) => f.confidence >= MIN_CONFIDENCE),
	);
}

/** A signal tied to kinds of output counts only where the output is (or is not) of that kind. */
function inKind(signal: Signal, kinds: Set<string>): boolean {
	if (signal.inContext && !signal.inContext.some((k) => kinds.has(k))) return false;
	if (signal.notInContext?.some((k) => kinds.has(k))) return false;
	return true;
}

function matchEntry(entry: Entry, textMatches: Map<string, SignalHits>, facts: Facts): Matched[] {
	const out: Matched[] = [];
	for (const signal of entry.signals) {
		if (signal.pattern) {
			const m = textMatches.get(`${entry.id}/${signal.id}`);
			if (m) out.push({signal, count: m.count, hits: m.hits, facts: []});
		} else if (signal.when) {
			const values = (facts[signal.when.fact] ?? []).filter((v) => factHolds(signal.when!, v.value));
			if (values.length > 0) out.push({signal, count: values.length, hits: [], facts: values});
		}
	}
	return out;
}

function factHolds(op: NonNullable<Signal['when']>, value: string | number | boolean): boolean {
	if (op.equals !== undefined && value !== op.equals) return false;
	if (op.in !== undefined && !op.in.includes(value as string | number)) return false;
	if (op.matches !== undefined && !new RegExp(op.matches, 'i').test(String(value))) return false;
	if (op.gte !== undefined && !(typeof value === 'number' && value >= op.gte)) return false;
	if (op.lte !== undefined && !(typeof value === 'number' && value <= op.lte)) return false;
	return true;
}

function buildFinding(entry: Entry, matched: Matched[], confidence: number): Finding {
	const order = {signature: 0, support: 1, against: 2} as const;
	const sorted = [...matched].sort((a, b) => order[a.signal.role] - order[b.signal.role] || b.signal.weight - a.signal.weight);
	const evidence: EvidenceItem[] = [];
	const captures: Record<string, string> = {};
	for (const m of sorted) {
		for (const h of m.hits) Object.assign(captures, {...h.captures, ...captures});
		for (const h of m.hits.slice(0, m.signal.role === 'signature' ? 2 : 1)) {
			evidence.push({
				line: h.line,
				text: h.text,
				signal: m.signal.id,
				means: m.signal.means,
				role: m.signal.role,
				source: 'text',
				before: h.before,
				after: h.after,
				related: h.related,
			});
		}
		for (const f of m.facts.slice(0, 2)) {
			evidence.push({
				line: null,
				text: f.text ?? `${m.signal.when!.fact} = ${String(f.value)}`,
				signal: m.signal.id,
				means: m.signal.means,
				role: m.signal.role,
				source: f.source ?? 'cluster',
			});
		}
	}
	const lineCaptures: Record<number, Record<string, string>> = {};
	for (const m of sorted)
		if (m.signal.role !== 'against')
			for (const h of m.hits) if (Object.keys(h.captures).length > 0) lineCaptures[h.line] = {...h.captures, ...lineCaptures[h.line]};
	const seen = new Set<string>();
	const unique = evidence.filter((e) => {
		const k = `${e.line}:${e.text}`;
		if (seen.has(k)) return false;
		seen.add(k);
		return true;
	});
	return {
		id: entry.id,
		title: entry.title,
		layer: entry.layer,
		confidence: round(confidence),
		summary: entry.summary.trim(),
		evidence: unique.slice(0, MAX_EVIDENCE),
		lines: [...new Set(matched.filter((m) => m.signal.role !== 'against').flatMap((m) => m.hits.map((h) => h.line)))].sort((a, b) => a - b),
		why: sorted.map((m) => ({signal: m.signal.id, means: m.signal.means, role: m.signal.role, weight: m.signal.weight, count: m.count})),
		// A fix is offered only when the evidence holds what it acts on (a fix that removes a taint needs the taint).
		remediations: entry.remediations
			.filter((r) => !r.needs || r.needs.some((id) => matched.some((m) => m.signal.id === id && m.signal.role !== 'against')))
			.map((r) => ({key: r.key, title: displayTemplate(r.title, templateVars(r, captures)), kind: r.kind})),
		captures,
		...(Object.keys(lineCaptures).length > 1 ? {lineCaptures} : {}),
	};
}

/** A confident cause that explains a symptom halves it below itself: the symptom is no longer a cause of its own. */
function applyExplains(compiled: CompiledKb, findings: Finding[]): void {
	const byId = new Map(findings.map((f) => [f.id, f]));
	const causes = [...findings].sort((a, b) => b.confidence - a.confidence);
	for (const cause of causes) {
		if (cause.confidence < REPORT_CONFIDENCE || cause.explainedBy) continue;
		for (const id of compiled.kb.byId.get(cause.id)!.explains) {
			const symptom = byId.get(id);
			// A cause explains its symptom unless the symptom is clearly the stronger reading.
			if (!symptom || symptom.explainedBy || symptom.confidence > cause.confidence + EXPLAIN_MARGIN) continue;
			const damped = round(Math.min(symptom.confidence, cause.confidence * 0.5));
			if (damped < symptom.confidence) {
				symptom.confidence = damped;
				symptom.explainedBy = cause.id;
			}
		}
	}
}

/** Where the text cannot decide between two possible causes, each says the check that separates them. */
function addChecks(compiled: CompiledKb, findings: Finding[]): void {
	const present = new Set(findings.map((f) => f.id));
	for (const f of findings) {
		if (f.confidence >= REPORT_CONFIDENCE) continue;
		const checks = compiled.kb.byId
			.get(f.id)!
			.confusedWith.filter((c) => c.check && present.has(c.id))
			.map((c) => ({id: c.id, check: c.check!}));
		if (checks.length > 0) f.tellApart = checks;
	}
}

/** Highest confidence first; on a tie a cause goes before the symptom it explains, then more evidence first. */
function rank(compiled: CompiledKb, findings: Finding[]): Finding[] {
	const explains = (a: Finding, b: Finding) => compiled.kb.byId.get(a.id)?.explains.includes(b.id) === true;
	return findings.sort(
		(a, b) =>
			b.confidence - a.confidence ||
			(explains(a, b) ? -1 : explains(b, a) ? 1 : 0) ||
			b.why.length - a.why.length ||
			a.id.localeCompare(b.id),
	);
}

function round(x: number): number {
	return Math.round(x * 100) / 100;
}
