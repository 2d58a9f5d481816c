import type {Kb} from './load.js';
import type {Entry, Signal} from './schema.js';

export type CompiledTextSignal = {
	key: string;
	entry: Entry;
	signal: Signal;
	re: RegExp;
	follow?: RegExp;
	within: number;
	allowPrefixes?: string[];
};

export type CompiledKb = {
	kb: Kb;
	text: CompiledTextSignal[];
	/** One alternation of every text pattern: a cheap superset test that finds candidate lines. */
	union: RegExp | undefined;
};

/** Compiles every text pattern once; the union regex is what the scanner runs over whole chunks. */
export function compileKb(kb: Kb): CompiledKb {
	const text: CompiledTextSignal[] = [];
	const sources: string[] = [];
	for (const entry of kb.entries) {
		for (const signal of entry.signals) {
			if (!signal.pattern) continue;
			const flags = signal.caseSensitive ? '' : 'i';
			const unless = signal.capture?.unlessPrefix;
			const allowPrefixes = unless === undefined ? undefined : typeof unless === 'string' ? asList(kb.settings[unless.slice(1)]) : unless;
			text.push({
				key: `${entry.id}/${signal.id}`,
				entry,
				signal,
				re: new RegExp(signal.pattern, flags),
				follow: signal.followedBy ? new RegExp(signal.followedBy.pattern, flags) : undefined,
				within: signal.followedBy?.within ?? 0,
				allowPrefixes,
			});
			sources.push(signal.pattern);
			if (signal.followedBy) sources.push(signal.followedBy.pattern);
		}
	}
	const unique = [...new Set(sources)];
	const union = unique.length > 0 ? new RegExp(unique.map((s) => `(?:${stripGroups(s)})`).join('|'), 'gim') : undefined;
	return {kb, text, union};
}

function asList(v: string | string[] | undefined): string[] {
	if (v === undefined) return [];
	return Array.isArray(v) ? v : v.split(',').map((s) => s.trim()).filter(Boolean);
}

/** Capturing groups are useless in the union and slow it down; make them non-capturing. */
function stripGroups(source: string): string {
	let out = '';
	let inClass = false;
	for (let i = 0; i < source.length; i++) {
		const c = source[i]!;
		if (c === '\\') {
			out += c + (source[i + 1] ?? '');
			i++;
			continue;
		}
		if (inClass) {
			if (c === ']') inClass = false;
			out += c;
			continue;
		}
		if (c === '[') inClass = true;
		if (c === '(' && source[i + 1] !== '?') {
			out += '(?:';
			continue;
		}
		if (c === '(' && source[i + 1] === '?' && source[i + 2] === '<' && source[i + 3] !== '=' && source[i + 3] !== '!') {
			const close = source.indexOf('>', i);
			out += '(?:';
			i = close;
			continue;
		}
		out += c;
	}
	return out;
}

/** Normalises an image reference the way container runtimes do, so policy checks see the real registry. */
export function normaliseImageRef(ref: string): string {
	const clean = ref.replace(/^["']|["']$/g, '');
	const first = clean.split('/')[0]!;
	const hasDomain = clean.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
	if (hasDomain) return clean;
	return clean.includes('/') ? `docker.io/${clean}` : `docker.io/library/${clean}`;
}
