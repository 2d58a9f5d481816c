import {normaliseImageRef, type CompiledKb, type CompiledTextSignal} from '../kb/compile.js';

export type Hit = {
	line: number;
	text: string;
	before: string[];
	after: string[];
	/** For followedBy signals: the second line that completed the match. */
	related?: {line: number; text: string};
	captures: Record<string, string>;
};

export type SignalHits = {key: string; count: number; hits: Hit[]};

export type ScanResult = {
	matches: Map<string, SignalHits>;
	lines: number;
	chars: number;
	/** True when the input looked like binary data (NUL bytes) rather than text. */
	binary: boolean;
	/** True when the input had nothing but white space. */
	blank: boolean;
};

/** Lines longer than this are scanned in overlapping segments so memory stays bounded. */
export const MAX_SEGMENT = 64 * 1024;
const OVERLAP = 1024;
const MAX_HITS_KEPT = 3;
const MAX_PENDING = 16;
const CONTEXT = 2;
const MAX_SHOWN = 400;
// eslint-disable-next-line no-control-regex
const ANSI = /\u001B\[[0-9;?]*[ -/]*[@-~]/g;

type Pending = {sig: CompiledTextSignal; hit: Hit; until: number};

/** Streams text through the KB: a union regex finds candidate lines, the signal patterns confirm them. */
export class TextScanner {
	private carry = '';
	private lineNo = 1;
	private chars = 0;
	private binary = false;
	private blank = true;
	private tail: string[] = [];
	private needAfter: Hit[] = [];
	private pending: Pending[] = [];
	private lastHitLine = new Map<string, number>();
	private aliases = new Set<string>();
	private readonly matches = new Map<string, SignalHits>();
	/** items[i] === stamp means prefilter item i may match the current candidate line. */
	private readonly items: Uint32Array;
	private stamp = 0;
	private readonly everyLine: boolean;

	constructor(private readonly compiled: CompiledKb) {
		this.items = new Uint32Array(compiled.itemCount);
		this.everyLine = compiled.alwaysItems.length > 0;
	}

	push(text: string): void {
		this.chars += text.length;
		if (!this.binary && text.includes('\u0000')) this.binary = true;
		if (this.blank && /\S/.test(text)) this.blank = false;
		let buf = this.carry.length > 0 ? this.carry + text : text;
		const end = buf.lastIndexOf('\n');
		if (end !== -1) {
			this.process(buf.slice(0, end + 1));
			buf = buf.slice(end + 1);
		}
		while (buf.length > MAX_SEGMENT) {
			this.process(buf.slice(0, MAX_SEGMENT));
			buf = buf.slice(MAX_SEGMENT - OVERLAP);
		}
		this.carry = buf;
	}

	end(): ScanResult {
		if (this.carry.length > 0) {
			this.process(this.carry);
			if (!this.carry.endsWith('\n')) this.lineNo++;
			this.carry = '';
		}
		const lines = this.chars === 0 ? 0 : this.lineNo - 1;
		return {matches: this.matches, lines, chars: this.chars, binary: this.binary, blank: this.blank};
	}

	private process(input: string): void {
		const text = input.includes('\u001B') ? input.replace(ANSI, '') : input;
		if (this.needAfter.length > 0) this.fillAfter(text);
		const ac = this.compiled.automaton;
		let pos = 0;
		let line = this.lineNo;
		for (;;) {
			const hit = this.everyLine ? (pos < text.length ? pos : -1) : ac.findEnd(text, pos);
			if (hit === -1) break;
			let nl = text.indexOf('\n', pos);
			while (nl !== -1 && nl < hit) {
				line++;
				pos = nl + 1;
				nl = text.indexOf('\n', pos);
			}
			const lineEnd = nl === -1 ? text.length : nl;
			this.onCandidate(line, text, pos, lineEnd);
			if (nl === -1) {
				pos = text.length;
				break;
			}
			line++;
			pos = nl + 1;
		}
		let nl = text.indexOf('\n', pos);
		while (nl !== -1) {
			line++;
			pos = nl + 1;
			nl = text.indexOf('\n', pos);
		}
		this.lineNo = line;
		this.rememberTail(text);
	}

	/** Marks which patterns could match this line, from the literals it contains; returns their signals. */
	private markItems(lineText: string): number {
		const stamp = ++this.stamp;
		const items = this.items;
		const sigs = this.candidateSignals;
		sigs.length = 0;
		const byLiteral = this.compiled.itemsByLiteral;
		const itemSignal = this.compiled.itemSignal;
		const mark = (i: number) => {
			if (items[i] === stamp) return;
			items[i] = stamp;
			sigs.push(itemSignal[i]!);
		};
		for (const i of this.compiled.alwaysItems) mark(i);
		this.compiled.automaton.collect(lineText, 0, lineText.length, (id) => {
			for (const i of byLiteral[id]!) mark(i);
		});
		return stamp;
	}

	private readonly candidateSignals: number[] = [];

	private onCandidate(line: number, text: string, start: number, end: number): void {
		const raw = text.slice(start, end);
		const lineText = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
		const stamp = this.markItems(lineText);
		const items = this.items;
		if (this.pending.length > 0) this.pending = this.pending.filter((p) => p.until >= line);
		const signals = this.compiled.text;
		const seen = this.candidateSignals.length > 1 ? new Set<number>() : undefined;
		for (const index of this.candidateSignals) {
			if (seen) {
				if (seen.has(index)) continue;
				seen.add(index);
			}
			const sig = signals[index]!;
			if (items[sig.mainItem] !== stamp) continue;
			if (this.lastHitLine.get(sig.key) === line) continue;
			const m = sig.re.exec(lineText);
			if (m === null) continue;
			const captures = this.captures(sig, m);
			if (captures === undefined) continue;
			const hit = this.makeHit(line, lineText, m.index, text, start, end, captures);
			if (sig.follow) {
				if (this.pending.filter((p) => p.sig === sig).length < MAX_PENDING) this.pending.push({sig, hit, until: line + sig.within});
			} else {
				this.record(sig, hit);
			}
		}
		for (const p of this.pending) {
			if (items[p.sig.followItem] !== stamp) continue;
			if (this.lastHitLine.get(p.sig.key) === p.hit.line) continue;
			const m = p.sig.follow!.exec(lineText);
			if (m === null) continue;
			this.record(p.sig, {...p.hit, related: {line, text: clip(lineText, m.index)}});
			this.lastHitLine.set(p.sig.key, p.hit.line);
		}
	}

	private captures(sig: CompiledTextSignal, m: RegExpExecArray): Record<string, string> | undefined {
		const spec = sig.signal.capture;
		if (!spec) return {};
		const value = m[spec.group];
		if (value === undefined) return spec.as === 'image-ref' || spec.unlessPrefix !== undefined ? undefined : {};
		if (spec.as !== 'image-ref') return {[spec.name]: value};
		const alias = /\bAS\s+([\w.-]+)\s*$/i.exec(m.input);
		if (alias) this.aliases.add(alias[1]!.toLowerCase());
		if (value.includes('$') || value.toLowerCase() === 'scratch' || this.aliases.has(value.toLowerCase())) return undefined;
		const normalised = normaliseImageRef(value);
		if (sig.allowPrefixes?.some((p) => normalised.startsWith(p))) return undefined;
		return {[spec.name]: value, [`${spec.name}Normalised`]: normalised};
	}

	private makeHit(line: number, lineText: string, at: number, text: string, start: number, end: number, captures: Record<string, string>): Hit {
		const before: string[] = [];
		let s = start;
		while (before.length < CONTEXT && s > 0) {
			const prev = text.lastIndexOf('\n', s - 2);
			before.unshift(trimCr(text.slice(prev + 1, s - 1)));
			s = prev + 1;
		}
		if (before.length < CONTEXT && s === 0) before.unshift(...this.tail.slice(-(CONTEXT - before.length)));
		const after: string[] = [];
		let e = end;
		while (after.length < CONTEXT && e < text.length) {
			const next = text.indexOf('\n', e + 1);
			const stop = next === -1 ? text.length : next;
			if (stop > e + 1 || next !== -1) after.push(trimCr(text.slice(e + 1, stop)));
			e = stop;
		}
		const hit: Hit = {line, text: clip(lineText, at), before: before.map((b) => clip(b, 0)), after: after.map((a) => clip(a, 0)), captures};
		return hit;
	}

	private record(sig: CompiledTextSignal, hit: Hit): void {
		this.lastHitLine.set(sig.key, hit.line);
		let entry = this.matches.get(sig.key);
		if (!entry) {
			entry = {key: sig.key, count: 0, hits: []};
			this.matches.set(sig.key, entry);
		}
		entry.count++;
		if (entry.hits.length < MAX_HITS_KEPT) {
			entry.hits.push(hit);
			if (hit.after.length < CONTEXT) this.needAfter.push(hit);
		}
	}

	private fillAfter(text: string): void {
		let pos = 0;
		const lines: string[] = [];
		while (lines.length < CONTEXT && pos < text.length) {
			const nl = text.indexOf('\n', pos);
			lines.push(clip(trimCr(text.slice(pos, nl === -1 ? text.length : nl)), 0));
			if (nl === -1) break;
			pos = nl + 1;
		}
		for (const hit of this.needAfter) hit.after.push(...lines.slice(0, CONTEXT - hit.after.length));
		this.needAfter = this.needAfter.filter((h) => h.after.length < CONTEXT);
	}

	private rememberTail(text: string): void {
		const lines: string[] = [];
		let e = text.endsWith('\n') ? text.length - 1 : text.length;
		while (lines.length < CONTEXT && e > 0) {
			const s = text.lastIndexOf('\n', e - 1);
			lines.unshift(clip(trimCr(text.slice(s + 1, e)), 0));
			e = s;
			if (s === -1) break;
		}
		this.tail = [...this.tail, ...lines].slice(-CONTEXT);
	}
}

function trimCr(s: string): string {
	return s.endsWith('\r') ? s.slice(0, -1) : s;
}

/** Keeps evidence lines readable: long lines are cut to a window around the match. */
function clip(s: string, at: number): string {
	if (s.length <= MAX_SHOWN) return s;
	const start = Math.max(0, Math.min(at - 80, s.length - MAX_SHOWN));
	return (start > 0 ? '…' : '') + s.slice(start, start + MAX_SHOWN) + (start + MAX_SHOWN < s.length ? '…' : '');
}
