import Fuse from 'fuse.js';
import type {Kb} from '../kb/load.js';

export type NearMiss = {line: number; text: string; id: string; resembles: string; score: number};

const FAILURE_WORDS = /\b(?:error|fail(?:ed|ure)?|fatal|panic|refused|denied|timed? ?out|killed|cannot|unable|invalid|not found|no such|forbidden|unauthorized)\b/i;
const MAX_LINES = 300;

type ExampleLine = {id: string; line: string};

/** Example lines of every entry, the corpus near-miss text is compared with (built once per KB). */
function exampleLines(kb: Kb): ExampleLine[] {
	const out: ExampleLine[] = [];
	for (const e of kb.entries) {
		for (const ex of e.examples.positive) {
			const text = typeof ex === 'string' ? ex : ex.text;
			for (const raw of text.split('\n')) {
				const line = raw.trim();
				if (line.length >= 16 && FAILURE_WORDS.test(line)) out.push({id: e.id, line: line.slice(0, 300)});
			}
		}
	}
	return out;
}

/**
 * Lines that look like a known symptom without matching its signature (a reworded message, a new
 * version's wording). They are leads to read, never findings: no cause is reported without its signature.
 */
export function nearMisses(kb: Kb, text: string, exclude: Set<string> = new Set(), limit = 3): NearMiss[] {
	const index = new Fuse(exampleLines(kb), {keys: ['line'], includeScore: true, threshold: 0.3, ignoreLocation: true, minMatchCharLength: 6});
	const best = new Map<string, NearMiss>();
	let seen = 0;
	const lines = text.split('\n');
	for (let i = 0; i < lines.length && seen < MAX_LINES; i++) {
		const line = lines[i]!.trim();
		if (line.length < 16 || !FAILURE_WORDS.test(line)) continue;
		seen++;
		const hit = index.search(line.slice(0, 200), {limit: 1})[0];
		if (!hit || hit.score === undefined || hit.score > 0.25 || exclude.has(hit.item.id)) continue;
		const prev = best.get(hit.item.id);
		if (!prev || hit.score < prev.score) best.set(hit.item.id, {line: i + 1, text: line.slice(0, 200), id: hit.item.id, resembles: hit.item.line, score: Math.round(hit.score * 100) / 100});
	}
	return [...best.values()].sort((a, b) => a.score - b.score).slice(0, limit);
}
