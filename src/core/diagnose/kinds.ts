import type {CompiledKb} from '../kb/compile.js';
import type {ScanResult} from './scan.js';

/**
 * Which kinds of output the input is (a build, kubectl describe, a pod status, helm …), judged from its first and last
 * WINDOW bytes and from the lines around every evidence line. It runs once, at the end, so the scan's hot loop never
 * stops at the common words that tell a kind (STEP n/m, Events:, NAME READY STATUS): the automaton stays as lean as it
 * was. Returns each kind seen with the number of lines that showed it.
 */
export function seenKinds(compiled: CompiledKb, result: ScanResult): Map<string, number> {
	const seen = new Map<string, number>();
	if (compiled.contexts.length === 0) return seen;
	const lines: string[] = [];
	const head = result.head.toString('utf8').split('\n');
	lines.push(...head);
	// A head that holds the whole input is the tail too.
	if (result.head.length < result.bytes) lines.push(...result.tail.toString('utf8').split('\n').slice(1));
	for (const m of result.matches.values()) {
		for (const h of m.hits) {
			lines.push(h.text, ...h.before, ...h.after);
			if (h.related) lines.push(h.related.text);
		}
	}
	for (const raw of lines) {
		if (!raw) continue;
		const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
		const lower = line.toLowerCase();
		for (const c of compiled.contexts) {
			for (let i = 0; i < c.res.length; i++) {
				const lits = c.literals[i];
				if (lits && !lits.some((l) => lower.includes(l))) continue;
				if (c.res[i]!.test(line)) {
					seen.set(c.context.id, (seen.get(c.context.id) ?? 0) + 1);
					break;
				}
			}
		}
	}
	return seen;
}
