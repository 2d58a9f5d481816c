import {stringify} from 'yaml';
import {ANSI, type UnmatchedLine} from '../diagnose/unmatched.js';
import {escapeRegExp} from '../text/quote.js';
import {visible} from '../text/visible.js';
import type {Kb} from './load.js';
import {requiredLiterals} from './literals.js';
import {mayBacktrack} from './patterns.js';

/**
 * `kdoctor kb new`: a first entry for a failure no known cause explains, drafted from its most telling line — a
 * pattern of that line's constant words (its numbers, hashes, paths and quoted names as wildcards), which the
 * prefilter can find by a literal and `kb lint` accepts — with the failure itself as the first positive example.
 */
export type Draft = {id: string; pattern: string; line: UnmatchedLine; yaml: string};

const MAX_EXAMPLE_LINES = 40;
/** Tokens that change from one run to the next: they become wildcards. */
const VARIABLE = /"[^"\s]*"|'[^'\s]*'|\S*\d\S*|\S*\/\S*|\b[0-9a-f]{7,}\b/gi;

/** The line split into constant text and wildcard classes, in order. */
function pieces(line: string): {text: string; wild?: string}[] {
	const out: {text: string; wild?: string}[] = [];
	let at = 0;
	for (const m of line.matchAll(VARIABLE)) {
		if (m.index > at) out.push({text: line.slice(at, m.index)});
		const t = m[0];
		out.push({text: t, wild: t.startsWith('"') ? '"[^"]*"' : t.startsWith("'") ? "'[^']*'" : '\\S+'});
		at = m.index + t.length;
	}
	if (at < line.length) out.push({text: line.slice(at)});
	return out;
}

/** A pattern for one line: the longest constant run and its neighbours, wildcards between; undefined if none is telling. */
export function draftPattern(line: string): string | undefined {
	const ps = pieces(line.replace(ANSI, '').trim());
	const constant = (i: number) => (ps[i]!.wild ? 0 : ps[i]!.text.replace(/[^A-Za-z]/g, '').length);
	let best = -1;
	for (let i = 0; i < ps.length; i++) if (constant(i) > (best < 0 ? 0 : constant(best))) best = i;
	if (best < 0 || constant(best) < 8) return undefined;
	// Widen to the constant runs beside it (at most two on each side), over single wildcards.
	let from = best;
	let to = best;
	while (from - 2 >= 0 && best - from < 4 && ps[from - 1]!.wild && constant(from - 2) >= 3) from -= 2;
	while (to + 2 < ps.length && to - best < 4 && ps[to + 1]!.wild && constant(to + 2) >= 3) to += 2;
	const slice = ps.slice(from, to + 1).map((p) => ({...p}));
	// Leading and trailing punctuation and blanks are decoration (a log's column bars, a sentence's full stop).
	slice[0]!.text = slice[0]!.text.replace(/^[^A-Za-z0-9"'(]+/, '');
	slice[slice.length - 1]!.text = slice.at(-1)!.text.replace(/[^A-Za-z0-9"')\]]+$/, '');
	const parts = slice.map((p) => (p.wild ? p.wild : escapeRegExp(p.text)));
	const pattern = parts.join('');
	const re = new RegExp(pattern, 'i');
	if (!re.test(line) || mayBacktrack(pattern) || !requiredLiterals(pattern)) {
		const lit = ps[best]!.text.trim().replace(/^[^A-Za-z]+|[^A-Za-z]+$/g, '');
		return lit.length >= 8 ? escapeRegExp(lit) : undefined;
	}
	return pattern;
}

/** Words of a log line that name its level or join its words, not what failed. */
const NOISE_WORDS = new Set(['error', 'fatal', 'warn', 'warning', 'info', 'debug', 'the', 'and', 'for', 'with', 'from', 'was', 'has']);

/** The line's constant words, its changing parts as an ellipsis: a title that fits the next failure too. */
function titleFrom(line: string): string {
	const t = line
		.replace(ANSI, '')
		.replace(VARIABLE, '…')
		.replace(/(?:\s*…\s*)+/g, ' … ')
		.replace(/^[\s…|:[\]-]+|[\s…|:([-]+$/g, '')
		.replace(/\s+/g, ' ');
	return visible(t.length > 70 ? `${t.slice(0, 70)}…` : t);
}

/** An id from the line's first telling words: `team-` and at most four of them, kebab-case. */
function idFrom(line: string, kb: Kb): string {
	const words = line
		.replace(ANSI, '')
		.replace(VARIABLE, ' ')
		.toLowerCase()
		.split(/[^a-z]+/)
		.filter((w) => w.length >= 3 && !NOISE_WORDS.has(w))
		.slice(0, 4);
	const base = `team-${words.join('-') || 'failure'}`;
	let id = base;
	for (let n = 2; kb.byId.has(id); n++) id = `${base}-${n}`;
	return id;
}

/** The failing line and the lines around it, as the example (at most 40 lines), made inert. */
function excerpt(text: string, lineNo: number): string {
	const lines = text.replace(/\r\n/g, '\n').split('\n');
	const start = Math.max(0, Math.min(lineNo - 1 - MAX_EXAMPLE_LINES / 2, lines.length - MAX_EXAMPLE_LINES));
	return lines
		.slice(start, start + MAX_EXAMPLE_LINES)
		.map((l) => visible(l.replace(ANSI, '')))
		.join('\n')
		.trimEnd();
}

export type DraftInput = {kb: Kb; text: string; file: string; unmatched: UnmatchedLine[]; id?: string; date: string};

/** The draft, or a reason (one line) why no line is telling enough to draft from. */
export function draftEntry(input: DraftInput): Draft | {reason: string} {
	const order = ['first error', 'last error', 'before the exit'] as const;
	const candidates = [...input.unmatched].sort((a, b) => order.indexOf(a.why) - order.indexOf(b.why));
	for (const line of candidates) {
		const raw = input.text.replace(/\r\n/g, '\n').split('\n')[line.line - 1] ?? line.text;
		const pattern = draftPattern(raw);
		if (!pattern) continue;
		const id = input.id ?? idFrom(raw, input.kb);
		const re = new RegExp(pattern, 'i');
		const other = input.text
			.split('\n')
			.map((l) => l.replace(ANSI, '').trim())
			.find((l) => l.length >= 3 && !re.test(l));
		const shown = visible(raw.replace(ANSI, '').trim());
		const entry = {
			id,
			title: `${titleFrom(raw)} (drafted: say what went wrong)`,
			layer: 'workload',
			summary:
				`Drafted by kdoctor kb new from ${input.file}, line ${line.line}. Replace ` +
				`this with the cause in two or three sentences a tired person can read.`,
			signals: [
				{
					id: 'message',
					means: `the failing line of ${input.file} (drafted: widen or narrow it as more cases come)`,
					role: 'signature',
					weight: 0.6,
					pattern,
				},
			],
			remediations: [
				{
					key: 'i',
					title: 'Write the fix here',
					kind: 'info',
					change: 'what to change, in words a reviewer can check',
					verify: 'how to see it worked',
					undo: 'how to take it back',
				},
			],
			references: [],
			examples: {
				positive: [
					{name: `${input.file} (the failure this entry was drafted from)`, text: excerpt(input.text, line.line), top: true},
					{name: 'the failing line alone', text: shown},
				],
				negative: [{name: 'a line of the same output that is not the failure', text: visible(other ?? 'all checks passed')}],
			},
		};
		const yaml =
			`# Drafted by kdoctor kb new on ${input.date} from ${input.file}: edit the title, summary and fix, then\n` +
			`# kdoctor kb test ${id}\n` +
			stringify({topic: 'Team entries', entries: [entry]}, {lineWidth: 0});
		return {id, pattern, line, yaml};
	}
	return {reason: 'no line of it says clearly enough what failed (no error line with 8 or more letters of constant text)'};
}
