import type {CaseIndex} from '../diagnose/case-index.js';
import {LiteralAutomaton, type AutomatonParts} from './aho.js';
import {requiredLiterals} from './literals.js';
import type {Kb} from './load.js';
import type {Context, Entry, Signal} from './schema.js';

export type CompiledTextSignal = {
	key: string;
	entry: Entry;
	signal: Signal;
	re: RegExp;
	follow?: RegExp;
	within: number;
	allowPrefixes?: string[];
	/** Prefilter item ids of the main and the unlessSeen pattern (-1: none); a followedBy line is read directly. */
	mainItem: number;
	unless?: RegExp;
	unlessItem: number;
};

/** A kind of output, recognised outside the scan's hot loop (see diagnose/kinds.ts): patterns and their literals. */
export type CompiledContext = {context: Context; res: RegExp[]; literals: (string[] | undefined)[]};

export type CompiledKb = {
	kb: Kb;
	text: CompiledTextSignal[];
	contexts: CompiledContext[];
	/** Finds the required literals of every pattern in one pass: lines without one are never looked at. */
	automaton: LiteralAutomaton;
	/** Literal id → prefilter items (patterns) that need it. */
	itemsByLiteral: number[][];
	/** Items with no usable literal: they force every line to be a candidate (kb lint rejects them). */
	alwaysItems: number[];
	itemCount: number;
	/** Prefilter item → the signal it belongs to (index into text). */
	itemSignal: number[];
	/** Required literals per prefilter item (undefined: none usable). */
	literalsOf: (string[] | undefined)[];
	/** The case library's index, built on first use (an input no signal explains); absent when none is shipped. */
	cases?: () => CaseIndex | undefined;
};

const MAX_LITERAL = 24;

/** Compiles every text pattern once; the union regex is what the scanner runs over whole chunks. */
/** What compiling a KB derives from its patterns alone, so a cache can hand it back next time. */
export type PrefilterParts = {
	itemLiterals: (string[] | null)[];
	/** The automaton's table may come as a reader: a look that diagnoses nothing never reads its megabytes. */
	automaton: Omit<AutomatonParts, 'bytes'> & {bytes: Int32Array | (() => Int32Array)};
};

export function compileKb(kb: Kb, prebuilt?: PrefilterParts): CompiledKb {
	const text: CompiledTextSignal[] = [];
	const literalsOf: (string[] | undefined)[] = [];
	const addItem = (pattern: string): number => {
		if (prebuilt) {
			literalsOf.push(prebuilt.itemLiterals[literalsOf.length] ?? undefined);
			return literalsOf.length - 1;
		}
		// A prefix of a required literal is required too; capping the length keeps the automaton small.
		const mapped = requiredLiterals(pattern)?.map((l) => asciiCore(l).slice(0, MAX_LITERAL));
		const lits = mapped?.every((l) => l.length >= 2) ? mapped : undefined;
		literalsOf.push(lits);
		return literalsOf.length - 1;
	};
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
				mainItem: addItem(signal.pattern),
				unless: signal.unlessSeen ? new RegExp(signal.unlessSeen, flags) : undefined,
				unlessItem: signal.unlessSeen ? addItem(signal.unlessSeen) : -1,
			});
		}
	}
	const ids = new Map<string, number>();
	const itemsByLiteral: number[][] = [];
	literalsOf.forEach((lits, item) => {
		for (const l of lits ?? []) {
			let id = ids.get(l);
			if (id === undefined) {
				id = itemsByLiteral.length;
				ids.set(l, id);
				itemsByLiteral.push([]);
			}
			itemsByLiteral[id]!.push(item);
		}
	});
	const alwaysItems = literalsOf.flatMap((l, i) => (l ? [] : [i]));
	const itemSignal: number[] = [];
	text.forEach((t, i) => {
		itemSignal[t.mainItem] = i;
		if (t.unlessItem >= 0) itemSignal[t.unlessItem] = i;
	});
	const literals = [...ids.keys()];
	let automaton: LiteralAutomaton | undefined;
	const build = (): LiteralAutomaton => {
		const p = prebuilt?.automaton;
		if (p && sameList(p.literals, literals)) {
			try {
				return LiteralAutomaton.fromParts({...p, bytes: typeof p.bytes === 'function' ? p.bytes() : p.bytes});
			} catch {
				// A cached table that cannot be read is only a lost optimisation: build it again.
			}
		}
		return new LiteralAutomaton(literals);
	};
	const contexts = (kb.contexts ?? []).map((c) => {
		const patterns = contextPatterns(c);
		return {context: c, res: patterns.map((p) => new RegExp(p, 'i')), literals: patterns.map((p) => requiredLiterals(p))};
	});
	return {
		kb,
		text,
		contexts,
		get automaton() {
			return (automaton ??= build());
		},
		itemsByLiteral,
		alwaysItems,
		itemCount: literalsOf.length,
		itemSignal,
		literalsOf,
	};
}

/** A context's patterns as a list (they share its id: any of them shows the kind). */
export function contextPatterns(c: Context): string[] {
	return Array.isArray(c.pattern) ? c.pattern : [c.pattern];
}

/** The parts a cache keeps: per-pattern literals and the automaton's tables. */
export function prefilterParts(c: CompiledKb): PrefilterParts & {automaton: AutomatonParts} {
	return {itemLiterals: c.literalsOf.map((l) => l ?? null), automaton: c.automaton.parts()};
}

function sameList(a: string[], b: string[]): boolean {
	return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * The longest printable-ASCII run of a literal (any substring of a required literal is required too): the
 * automaton scans UTF-8 bytes for the file and UTF-16 for a line, and ASCII reads the same in both.
 */
function asciiCore(l: string): string {
	// eslint-disable-next-line no-control-regex
	return l.split(/[^\u0020-\u007e\t]+/).reduce((a, b) => (b.length > a.length ? b : a), '');
}

function asList(v: string | string[] | undefined): string[] {
	if (v === undefined) return [];
	return Array.isArray(v)
		? v
		: v
				.split(',')
				.map((s) => s.trim())
				.filter(Boolean);
}

/** Normalises an image reference the way container runtimes do, so policy checks see the real registry. */
export function normaliseImageRef(ref: string): string {
	const clean = ref.replace(/^["']|["']$/g, '');
	const first = clean.split('/')[0]!;
	const hasDomain = clean.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
	if (hasDomain) return clean;
	return clean.includes('/') ? `docker.io/${clean}` : `docker.io/library/${clean}`;
}
