import {diagnoseText} from '../diagnose/diagnose.js';
import {REPORT_CONFIDENCE} from '../diagnose/score.js';
import {contextPatterns, type CompiledKb} from './compile.js';
import type {Kb} from './load.js';
import {requiredLiterals} from './literals.js';
import {mayBacktrack, signalPatterns} from './patterns.js';
import type {Example} from './schema.js';
import {CAPTURE_KINDS} from '../text/captured.js';

/** Keys the screens use for navigation and views (k9s style); a fix may not take them. */
export const RESERVED_KEYS = new Set(['d', 'e', 'g', 'h', 'j', 'k', 'l', 'n', 'q', 's', 'u', 'y']);

export type LintProblem = {id: string; severity: 'error' | 'warning'; message: string};

/** Static checks beyond the schema: unsafe regexes, patterns that match nothing or everything, thin examples. */
export function lintKb(kb: Kb): LintProblem[] {
	const out: LintProblem[] = [];
	for (const entry of kb.entries) {
		for (const s of entry.signals) {
			for (const p of signalPatterns(s)) {
				if (mayBacktrack(p))
					out.push({id: entry.id, severity: 'error', message: `${s.id}: pattern may backtrack catastrophically: /${p}/`});
				if (new RegExp(p).test(''))
					out.push({id: entry.id, severity: 'error', message: `${s.id}: pattern matches the empty string: /${p}/`});
				if (/\\[1-9]|\\k</.test(p))
					out.push({id: entry.id, severity: 'error', message: `${s.id}: back-references are not allowed: /${p}/`});
			}
			if (s.capture && !CAPTURE_KINDS[s.capture.name])
				out.push({
					id: entry.id,
					severity: 'error',
					message:
						`${s.id}: capture "${s.capture.name}" names no known kind of value ` +
						`(src/core/text/captured.ts): a capture that can reach a command must say what it names`,
				});
			// The scanner finds candidate lines by these literals; a followedBy line is read directly instead.
			for (const p of [s.pattern, s.unlessSeen]) {
				if (p !== undefined && !requiredLiterals(p))
					out.push({
						id: entry.id,
						severity: 'error',
						message: `${s.id}: no literal text (3+ characters) that every match contains, so no line can be preselected: /${p}/`,
					});
			}
		}
		const contextIds = new Set(kb.contexts.map((c) => c.id));
		for (const s of entry.signals)
			for (const k of [...(s.inContext ?? []), ...(s.notInContext ?? [])])
				if (!contextIds.has(k)) out.push({id: entry.id, severity: 'error', message: `${s.id}: unknown context "${k}"`});
		for (const ref of [...entry.explains, ...entry.confusedWith.map((c) => c.id)]) {
			if (!kb.byId.has(ref)) out.push({id: entry.id, severity: 'error', message: `refers to unknown id "${ref}"`});
		}
		const positives = entry.examples.positive.length;
		if (positives < 2) out.push({id: entry.id, severity: 'error', message: `needs at least two positive examples (has ${positives})`});
		const signalIds = new Set(entry.signals.map((s) => s.id));
		for (const r of entry.remediations)
			for (const n of r.needs ?? [])
				if (!signalIds.has(n)) out.push({id: entry.id, severity: 'error', message: `fix [${r.key}] needs unknown signal "${n}"`});
		for (const r of entry.remediations) {
			if (RESERVED_KEYS.has(r.key))
				out.push({
					id: entry.id,
					severity: 'error',
					message: `remediation key "${r.key}" is reserved for navigation (${[...RESERVED_KEYS].join(' ')})`,
				});
		}
		if (entry.remediations.length === 0)
			out.push({id: entry.id, severity: 'warning', message: 'has no remediation (not even an info one)'});
	}
	for (const c of kb.contexts) {
		const patterns = contextPatterns(c);
		for (const p of patterns) {
			if (mayBacktrack(p)) out.push({id: `context:${c.id}`, severity: 'error', message: `pattern may backtrack catastrophically: /${p}/`});
			if (!requiredLiterals(p))
				out.push({id: `context:${c.id}`, severity: 'error', message: `no literal text (3+ characters) that every match contains: /${p}/`});
		}
		const res = patterns.map((p) => new RegExp(p, 'i'));
		const hit = (ex: string) => ex.split('\n').some((l) => res.some((re) => re.test(l)));
		for (const ex of c.examples.positive)
			if (!hit(ex)) out.push({id: `context:${c.id}`, severity: 'error', message: `positive example does not match: ${ex.slice(0, 60)}`});
		for (const ex of c.examples.negative)
			if (hit(ex)) out.push({id: `context:${c.id}`, severity: 'error', message: `negative example matches: ${ex.slice(0, 60)}`});
	}
	return out;
}

export type ExampleResult = {id: string; kind: 'positive' | 'negative'; index: number; name: string; ok: boolean; message: string};

/** Runs every entry's own examples against the whole KB, the way a user's input would be diagnosed. */
export function testKb(compiled: CompiledKb, only?: string): ExampleResult[] {
	const results: ExampleResult[] = [];
	for (const entry of compiled.kb.entries) {
		if (only && entry.id !== only) continue;
		entry.examples.positive.forEach((ex, index) => {
			const {text, facts, top, possible, name} = normalise(ex, index);
			const d = diagnoseText(compiled, text, facts, {resemble: false});
			const found = d.findings.find((f) => f.id === entry.id);
			const first = d.findings[0];
			let ok = found !== undefined && (possible ? found.confidence < REPORT_CONFIDENCE : found.confidence >= REPORT_CONFIDENCE);
			let message = found
				? `confidence ` +
					`${found.confidence}` +
					`${possible && found.confidence >= REPORT_CONFIDENCE ? ' (the text cannot decide: it must stay possible, below 0.5)' : ''}`
				: 'not found';
			if (ok && top && first?.id !== entry.id) {
				ok = false;
				message = `ranked below ${first?.id} (${first?.confidence} vs ${found!.confidence})`;
			}
			results.push({id: entry.id, kind: 'positive', index, name, ok, message});
		});
		entry.examples.negative.forEach((ex, index) => {
			const {text, facts, name} = normalise(ex, index);
			const d = diagnoseText(compiled, text, facts, {resemble: false});
			const found = d.findings.find((f) => f.id === entry.id);
			const ok = found === undefined || found.confidence < REPORT_CONFIDENCE;
			results.push({id: entry.id, kind: 'negative', index, name, ok, message: found ? `confidence ${found.confidence}` : 'not found'});
		});
	}
	return results;
}

function normalise(ex: Example, index: number) {
	if (typeof ex === 'string') return {text: ex, facts: undefined, top: false, possible: false, name: `#${index + 1}`};
	const facts = ex.facts ? Object.fromEntries(Object.entries(ex.facts).map(([k, vs]) => [k, vs.map((value) => ({value}))])) : undefined;
	return {text: ex.text, facts, top: ex.top, possible: ex.possible, name: ex.name ?? `#${index + 1}`};
}
