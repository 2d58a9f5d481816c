/**
 * Required literals of a regex: a set of lower-case strings such that every match contains at least one.
 * The scanner searches chunks for these with one literal alternation (fast in V8) and runs the real
 * patterns only on lines that contain one; a union of the full patterns is orders of magnitude slower.
 */

type Info = {exact: Set<string> | null; req: Set<string> | null};

const MAX_EXACT = 16;
const MAX_LEN = 64;
const ANY: Info = {exact: null, req: null};
const EMPTY: Info = {exact: new Set(['']), req: null};

/** Literals every match of `source` contains (lower-case), or undefined when there is no useful set. */
export function requiredLiterals(source: string, minLength = 3): string[] | undefined {
	let info: Info;
	try {
		info = new Parser(source).parse();
	} catch {
		return undefined;
	}
	const req = info.req ?? reqOf(info.exact);
	if (!req || req.size === 0) return undefined;
	const list = [...req];
	if (list.some((l) => l.length < minLength)) return undefined;
	return list;
}

function reqOf(exact: Set<string> | null): Set<string> | null {
	if (!exact || exact.size === 0 || exact.has('')) return null;
	return exact;
}

/** Fragments found on a large share of ordinary log lines: a poor prefilter even when long. */
const COMMON = new Set([
	'container image "',
	'http://',
	'https://',
	'localhost',
	'localhost/',
	'error',
	'error:',
	'failed',
	'failed to',
	'warning',
	'info',
	'debug',
	'level=',
	'"level":',
]);

function score(s: Set<string> | null): number {
	if (!s || s.size === 0) return -1;
	let min = Infinity;
	let common = false;
	for (const x of s) {
		min = Math.min(min, x.length);
		if (COMMON.has(x)) common = true;
	}
	// Tiers: too short to be useful < contains a common fragment < a good set (longest shortest literal wins).
	if (min < 3) return min / 100;
	return common ? 1 + min / 100 : 10 + min * 100 - s.size;
}

function better(a: Set<string> | null, b: Set<string> | null): Set<string> | null {
	return score(b) > score(a) ? b : a;
}

function product(a: Set<string>, b: Set<string>): Set<string> | null {
	if (a.size * b.size > MAX_EXACT) return null;
	const out = new Set<string>();
	for (const x of a)
		for (const y of b) {
			if (x.length + y.length > MAX_LEN) return null;
			out.add(x + y);
		}
	return out;
}

function concat(items: Info[]): Info {
	let cur: Set<string> | null = new Set(['']);
	let best: Set<string> | null = null;
	let allExact = true;
	for (const it of items) {
		if (it.exact && cur) {
			const p = product(cur, it.exact);
			if (p) {
				cur = p;
				continue;
			}
		}
		best = better(best, reqOf(cur));
		if (!it.exact) allExact = false;
		cur = it.exact;
		best = better(best, it.req);
	}
	best = better(best, reqOf(cur));
	return {exact: allExact && cur ? cur : null, req: best};
}

function alternate(branches: Info[]): Info {
	let exact: Set<string> | null = new Set();
	let req: Set<string> | null = new Set();
	for (const b of branches) {
		if (exact && b.exact && exact.size + b.exact.size <= MAX_EXACT) for (const x of b.exact) exact.add(x);
		else exact = null;
		const r = b.req ?? reqOf(b.exact);
		if (req && r) for (const x of r) req.add(x);
		else req = null;
	}
	return {exact, req};
}

class Parser {
	private i = 0;
	constructor(private readonly s: string) {}

	parse(): Info {
		const info = this.alternation();
		if (this.i < this.s.length) throw new Error('unbalanced');
		return info;
	}

	private alternation(): Info {
		const branches = [this.sequence()];
		while (this.s[this.i] === '|') {
			this.i++;
			branches.push(this.sequence());
		}
		return branches.length === 1 ? branches[0]! : alternate(branches);
	}

	private sequence(): Info {
		const items: Info[] = [];
		while (this.i < this.s.length && this.s[this.i] !== '|' && this.s[this.i] !== ')') items.push(this.quantified(this.atom()));
		return concat(items);
	}

	private quantified(atom: Info): Info {
		const c = this.s[this.i];
		let min: number;
		if (c === '*' || c === '+' || c === '?') {
			this.i++;
			min = c === '+' ? 1 : 0;
		} else if (c === '{' && /^\{\d+(,\d*)?\}/.test(this.s.slice(this.i))) {
			const m = /^\{(\d+)(,\d*)?\}/.exec(this.s.slice(this.i))!;
			this.i += m[0].length;
			min = Number(m[1]);
			if (min === 1 && m[2] === undefined) return atom;
		} else return atom;
		if (this.s[this.i] === '?') this.i++;
		if (min === 0) return c === '?' && atom.exact && atom.exact.size < MAX_EXACT ? {exact: new Set([...atom.exact, '']), req: null} : ANY;
		return {exact: null, req: atom.req ?? reqOf(atom.exact)};
	}

	private atom(): Info {
		const c = this.s[this.i++]!;
		switch (c) {
			case '(':
				return this.group();
			case '[':
				return this.charClass();
			case '.':
				return ANY;
			case '^':
			case '$':
				return EMPTY;
			case '\\':
				return this.escape();
			default:
				return lit(c);
		}
	}

	private group(): Info {
		let lookaround = false;
		if (this.s[this.i] === '?') {
			const rest = this.s.slice(this.i);
			if (rest.startsWith('?:')) this.i += 2;
			else if (rest.startsWith('?=') || rest.startsWith('?!')) {
				this.i += 2;
				lookaround = true;
			} else if (rest.startsWith('?<=') || rest.startsWith('?<!')) {
				this.i += 3;
				lookaround = true;
			} else if (rest.startsWith('?<')) this.i = this.s.indexOf('>', this.i) + 1;
			else throw new Error('group');
		}
		const inner = this.alternation();
		if (this.s[this.i] !== ')') throw new Error('unclosed group');
		this.i++;
		return lookaround ? EMPTY : inner;
	}

	private charClass(): Info {
		let negated = false;
		if (this.s[this.i] === '^') {
			negated = true;
			this.i++;
		}
		const chars = new Set<string>();
		let simple = true;
		let first = true;
		while (this.i < this.s.length && (this.s[this.i] !== ']' || first)) {
			first = false;
			let ch = this.s[this.i++]!;
			if (ch === '\\') {
				const e = this.s[this.i++]!;
				if (/[dDwWsSbB]/.test(e)) simple = false;
				ch = unescapeChar(e);
			}
			if (this.s[this.i] === '-' && this.s[this.i + 1] !== ']') simple = false;
			chars.add(ch.toLowerCase());
		}
		this.i++;
		if (negated || !simple || chars.size > 4) return ANY;
		return {exact: chars, req: null};
	}

	private escape(): Info {
		const e = this.s[this.i++]!;
		if (/[dDwWsS]/.test(e)) return ANY;
		if (e === 'b' || e === 'B') return EMPTY;
		if (e === 'u' && this.s[this.i] === '{') {
			const end = this.s.indexOf('}', this.i);
			const cp = parseInt(this.s.slice(this.i + 1, end), 16);
			this.i = end + 1;
			return lit(String.fromCodePoint(cp));
		}
		if (e === 'u') {
			const cp = parseInt(this.s.slice(this.i, this.i + 4), 16);
			this.i += 4;
			return lit(String.fromCharCode(cp));
		}
		if (e === 'x') {
			const cp = parseInt(this.s.slice(this.i, this.i + 2), 16);
			this.i += 2;
			return lit(String.fromCharCode(cp));
		}
		if (/[1-9]/.test(e) || e === 'k') return ANY;
		return lit(unescapeChar(e));
	}
}

function unescapeChar(e: string): string {
	return e === 'n' ? '\n' : e === 't' ? '\t' : e === 'r' ? '\r' : e === 'f' ? '\f' : e === 'v' ? '\v' : e === '0' ? '\0' : e;
}

function lit(c: string): Info {
	return {exact: new Set([c.toLowerCase()]), req: null};
}
