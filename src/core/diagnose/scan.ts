import {ROW_ESCAPE, ROW_NEWLINE} from '../kb/aho.js';
import {normaliseImageRef, type CompiledKb, type CompiledTextSignal} from '../kb/compile.js';
import {validCapture} from '../text/captured.js';
import {visible} from '../text/visible.js';

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
	/** Signals whose unlessSeen pattern appeared: they do not count. */
	vetoed: Set<string>;
	lines: number;
	bytes: number;
	/** True when the input's first bytes are binary data (NULs and other controls), whatever matched in it. */
	binary: boolean;
	/** True when the input had nothing but white space. */
	blank: boolean;
	/** The first and last bytes of the input (up to WINDOW each): where to look for the failure when no cause matched. */
	head: Buffer;
	tail: Buffer;
};

/** How much of the input's start and end is kept for the lines that look most like the failure. */
export const WINDOW = 256 * 1024;

/** Lines longer than this are scanned in overlapping segments so memory stays bounded. */
export const MAX_SEGMENT = 64 * 1024;
const OVERLAP = 1024;
const MAX_HITS_KEPT = 3;
const MAX_PENDING = 16;
const CONTEXT = 2;
const MAX_SHOWN = 400;
const NL = 10;
// eslint-disable-next-line no-control-regex
const ANSI = /\u001B\[[0-9;?]*[ -/]*(?:[@-~]|$)/g;
const ESCAPED_QUOTE = /\\+"/g;
const EMPTY = Buffer.alloc(0);
/** Binary or text is decided from the first bytes (and only them), so /dev/zero or a core dump ends at once. */
export const SNIFF_BYTES = 1024 * 1024;
/**
 * The input is binary when the sniffed bytes hold NULs (more than one in a thousand: random data has 4, an ELF
 * hundreds, a log with one stray NUL almost none) or many other control bytes (random data ~10%; a log's OSC
 * title or BEL is far rarer).
 */
const NUL_SHARE = 0.001;
const CONTROL_SHARE = 0.05;

type Pending = {sig: CompiledTextSignal; hit: Hit; until: number};

/**
 * Streams bytes through the KB. An Aho–Corasick automaton over the patterns' required literals walks the
 * raw UTF-8 (no decoding); only lines where a literal ends are decoded and tested with the real patterns.
 */
export class TextScanner {
	/** Bytes of the current, unfinished line (kept between chunks). */
	private carry: Buffer = EMPTY;
	/** True when the carry continues a line whose earlier part was already scanned as a segment. */
	private continuing = false;
	private lineNo = 1;
	private bytes = 0;
	private binary = false;
	private sniffed = 0;
	private nulBytes = 0;
	private oddBytes = 0;
	private decided = false;
	private blank = true;
	/** The input's first WINDOW bytes (copied once) and its last chunks (references: chunks are not reused). */
	private headBytes: Buffer[] = [];
	private headLen = 0;
	private tailChunks: Buffer[] = [];
	private tailLen = 0;
	private tail: string[] = [];
	private needAfter: Hit[] = [];
	private pending: Pending[] = [];
	/** The last line any pending followedBy window covers. */
	private pendingUntil = 0;
	private lastHitLine = new Map<string, number>();
	private aliases = new Set<string>();
	private readonly matches = new Map<string, SignalHits>();
	private readonly vetoed = new Set<string>();
	/** items[i] === stamp means prefilter item i may match the current candidate line. */
	private readonly items: Uint32Array;
	private stamp = 0;
	private readonly everyLine: boolean;
	private readonly candidateSignals: number[] = [];

	constructor(private readonly compiled: CompiledKb) {
		this.items = new Uint32Array(compiled.itemCount);
		this.everyLine = compiled.alwaysItems.length > 0;
	}

	/** Text already in memory (examples, tests, pasted snippets). */
	push(text: string): void {
		this.pushBytes(Buffer.from(text, 'utf8'));
	}

	pushBytes(chunk: Uint8Array): void {
		if (chunk.length === 0) return;
		this.bytes += chunk.length;
		const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
		if (!this.decided) this.sniff(bytes);
		if (this.binary) return;
		if (this.blank) this.blank = this.isBlank(bytes);
		this.keepWindows(bytes);
		let buf = bytes;
		if (this.carry.length > 0) {
			// Only the unfinished line is joined with the new chunk's first line; the rest is scanned in place.
			const first = bytes.indexOf(NL);
			if (first === -1) buf = Buffer.concat([this.carry, bytes]);
			else {
				const joined = Buffer.concat([this.carry, bytes.subarray(0, first + 1)]);
				this.carry = EMPTY;
				this.pushLines(joined);
				buf = bytes.subarray(first + 1);
			}
		}
		this.pushLines(buf);
	}

	/** Scans the complete lines of buf; keeps the unfinished last line (bounded by MAX_SEGMENT) as the carry. */
	private pushLines(input: Buffer): void {
		let buf = input;
		const end = buf.lastIndexOf(NL);
		if (end !== -1) {
			this.process(buf, 0, end + 1);
			buf = buf.subarray(end + 1);
			this.continuing = false;
		}
		while (buf.length > MAX_SEGMENT) {
			this.process(buf, 0, MAX_SEGMENT);
			buf = buf.subarray(MAX_SEGMENT - OVERLAP);
			this.continuing = true;
		}
		// Copy: the caller may reuse its chunk buffer.
		this.carry = buf.length > 0 ? Buffer.from(buf) : EMPTY;
	}

	/** Keeps the start and the end of the input, outside the scan's hot loop (a copy of at most WINDOW bytes, once). */
	private keepWindows(bytes: Buffer): void {
		if (this.headLen < WINDOW) {
			const part = Buffer.from(bytes.subarray(0, WINDOW - this.headLen));
			this.headBytes.push(part);
			this.headLen += part.length;
		}
		this.tailChunks.push(bytes);
		this.tailLen += bytes.length;
		while (this.tailChunks.length > 1 && this.tailLen - this.tailChunks[0]!.length >= WINDOW)
			this.tailLen -= this.tailChunks.shift()!.length;
	}

	/** True once the first bytes have shown binary data: the caller may stop reading (nothing more is scanned). */
	get isBinary(): boolean {
		return this.binary;
	}

	/** Counts NULs, and control bytes other than text's own (tab, newline, CR, FF, VT, BS, BEL, ESC), in the first SNIFF_BYTES. */
	private sniff(bytes: Buffer): void {
		const n = Math.min(bytes.length, SNIFF_BYTES - this.sniffed);
		let odd = 0;
		let nul = 0;
		for (let i = 0; i < n; i++) {
			const b = bytes[i]!;
			if (b === 0) nul++;
			else if (b < 0x20 && b !== 9 && b !== 10 && b !== 13 && b !== 12 && b !== 11 && b !== 8 && b !== 0x1b && b !== 7) odd++;
		}
		this.sniffed += n;
		this.nulBytes += nul;
		this.oddBytes += odd + nul;
		if (this.sniffed >= SNIFF_BYTES) this.decide();
	}

	private decide(): void {
		this.decided = true;
		this.binary = this.sniffed > 0 && (this.nulBytes / this.sniffed > NUL_SHARE || this.oddBytes / this.sniffed > CONTROL_SHARE);
		if (this.binary) {
			// Nothing found in binary data counts: it is not a log.
			this.matches.clear();
			this.vetoed.clear();
			this.carry = EMPTY;
			this.blank = false;
		}
	}

	/** What the whole lines read so far show (a partial last line waits for its end): for following a growing input. */
	snapshot(): ScanResult {
		const whole = Buffer.concat(this.tailChunks);
		return {
			matches: this.matches,
			vetoed: this.vetoed,
			lines: Math.max(0, this.lineNo - 1),
			bytes: this.bytes,
			binary: this.decided && this.binary,
			blank: this.blank,
			head: Buffer.concat(this.headBytes),
			tail: whole.length > WINDOW ? whole.subarray(whole.length - WINDOW) : whole,
		};
	}

	end(): ScanResult {
		if (!this.decided) this.decide();
		if (this.carry.length > 0) {
			this.process(this.carry, 0, this.carry.length);
			this.lineNo++;
			this.carry = EMPTY;
		}
		// Every line is whole now: the end is the last snapshot.
		return this.snapshot();
	}

	private isBlank(bytes: Buffer): boolean {
		for (let i = 0; i < bytes.length; i++) {
			const b = bytes[i]!;
			if (b !== 32 && b !== 9 && b !== 10 && b !== 13 && b !== 11 && b !== 12) return false;
		}
		return true;
	}

	/** Scans buf[from, to): whole lines, or one segment of a long line. */
	private process(buf: Buffer, from: number, to: number): void {
		if (this.needAfter.length > 0) this.fillAfter(buf, from, to);
		const table = this.compiled.automaton.bytes;
		const st = this.runState;
		st[LINE] = this.lineNo;
		st[LINE_START] = from;
		st[STATE] = 0;
		let i = from;
		while (i < to) {
			// Inside a followedBy window every line is read, since the follow-up line needs no literal.
			const slow = this.everyLine || (this.pending.length > 0 && st[LINE]! <= this.pendingUntil);
			const hit = slow ? nextLineEnd(i, to, st) : runAutomaton(buf, i, to, table, st);
			if (hit === -1) break;
			if (st[KIND] === ROW_ESCAPE) {
				// Resume after the escape with the state from before it, so a colour code does not split a literal.
				i = skipEscape(buf, hit, to) + 1;
				continue;
			}
			let nl = buf.indexOf(NL, hit);
			if (nl === -1 || nl >= to) nl = to;
			this.candidate(buf, st[LINE]!, st[LINE_START]!, nl, to, hit);
			// The rest of this line needs no more scanning: step over its newline.
			st[STATE] = 0;
			if (nl < to) {
				st[LINE]!++;
				st[LINE_START] = nl + 1;
			}
			i = nl + 1;
		}
		this.lineNo = st[LINE]!;
		this.rememberTail(buf, from, to);
	}

	/** [line, lineStart, automaton state, kind of stop]: the hot loop's state between calls. */
	private readonly runState = new Int32Array(4);

	/** `at` is where a literal ended: on a very long line only a window around it is decoded. */
	private candidate(buf: Buffer, line: number, start: number, end: number, limit: number, at: number): void {
		let from = start;
		let to = end;
		if (end - start > MAX_SEGMENT) {
			from = Math.max(start, at - MAX_SEGMENT / 2);
			to = Math.min(end, from + MAX_SEGMENT);
		}
		this.onCandidate(line, decodeLine(buf, from, to), buf, start, end, limit);
	}

	/** Marks which patterns could match this line, from the literals it contains. */
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

	private onCandidate(line: number, lineText: string, buf: Buffer, start: number, end: number, limit: number): void {
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
			if (sig.unless && items[sig.unlessItem] === stamp && !this.vetoed.has(sig.key) && sig.unless.test(lineText)) this.vetoed.add(sig.key);
			if (items[sig.mainItem] !== stamp) continue;
			if (this.lastHitLine.get(sig.key) === line) continue;
			const m = sig.re.exec(lineText);
			if (m === null) continue;
			const captures = this.captures(sig, m);
			if (captures === undefined) continue;
			const hit = this.makeHit(line, lineText, m.index, buf, start, end, limit, captures);
			if (sig.follow) {
				if (this.pending.filter((p) => p.sig === sig).length < MAX_PENDING) {
					this.pending.push({sig, hit, until: line + sig.within});
					this.pendingUntil = Math.max(this.pendingUntil, line + sig.within);
				}
			} else {
				this.record(sig, hit);
			}
		}
		for (const p of this.pending) {
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
		// The line still counts as evidence; a value that is not what the capture names never reaches a fix.
		if (spec.as !== 'image-ref') return validCapture(spec.name, value) ? {[spec.name]: value} : {};
		const alias = /\bAS\s+([\w.-]+)\s*$/i.exec(m.input);
		if (alias) this.aliases.add(alias[1]!.toLowerCase());
		if (value.includes('$') || value.toLowerCase() === 'scratch' || this.aliases.has(value.toLowerCase())) return undefined;
		const normalised = normaliseImageRef(value);
		if (sig.allowPrefixes?.some((p) => normalised.startsWith(p))) return undefined;
		if (!validCapture(spec.name, value)) return undefined;
		return {[spec.name]: value, [`${spec.name}Normalised`]: normalised};
	}

	private makeHit(
		line: number,
		lineText: string,
		at: number,
		buf: Buffer,
		start: number,
		end: number,
		limit: number,
		captures: Record<string, string>,
	): Hit {
		const before: string[] = [];
		let s = start;
		while (before.length < CONTEXT && s > 0) {
			const prev = s >= 2 ? buf.lastIndexOf(NL, s - 2) : -1;
			before.unshift(clip(decodeLine(buf, prev + 1, s - 1), 0));
			s = prev + 1;
		}
		if (before.length < CONTEXT && s === 0 && !this.continuing) before.unshift(...this.tail.slice(-(CONTEXT - before.length)));
		const after = end + 1 < limit ? linesFrom(buf, end + 1, limit, CONTEXT) : [];
		return {line, text: clip(lineText, at), before, after, captures};
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

	/** Context lines that arrive in a later chunk than their evidence line. */
	private fillAfter(buf: Buffer, from: number, to: number): void {
		const lines = linesFrom(buf, from, to, CONTEXT);
		for (const hit of this.needAfter) hit.after.push(...lines.slice(0, CONTEXT - hit.after.length));
		this.needAfter = this.needAfter.filter((h) => h.after.length < CONTEXT);
	}

	private rememberTail(buf: Buffer, from: number, to: number): void {
		const lines: string[] = [];
		let e = to > from && buf[to - 1] === NL ? to - 1 : to;
		while (lines.length < CONTEXT && e >= from && to > from) {
			const s = e > from ? buf.lastIndexOf(NL, e - 1) : -1;
			const start = s < from ? from : s + 1;
			lines.unshift(clip(decodeLine(buf, start, e), 0));
			if (s < from) break;
			e = s;
		}
		this.tail = [...this.tail, ...lines].slice(-CONTEXT);
	}
}

const LINE = 0;
const LINE_START = 1;
const STATE = 2;
const KIND = 3;

/**
 * kdoctor's hot loop: one table step per byte until a literal ends or an escape starts (returns that index)
 * or the range ends (-1). Newlines are counted here. Kept small and monomorphic so V8 optimises it fully.
 */
function runAutomaton(buf: Uint8Array, from: number, to: number, table: Int32Array, st: Int32Array): number {
	let s = st[STATE]!;
	let line = st[LINE]!;
	let lineStart = st[LINE_START]!;
	for (let i = from; i < to; i++) {
		const v = table[s + buf[i]!]!;
		const kind = v & 3;
		if (kind === 0) {
			s = v;
		} else if (kind === ROW_NEWLINE) {
			line++;
			lineStart = i + 1;
			s = v - kind;
		} else {
			st[LINE] = line;
			st[LINE_START] = lineStart;
			st[STATE] = s;
			st[KIND] = kind;
			return i;
		}
	}
	st[LINE] = line;
	st[LINE_START] = lineStart;
	st[STATE] = s;
	return -1;
}

/** The slow path (a pattern with no literal, or a followedBy window open): every line is a candidate. */
function nextLineEnd(from: number, to: number, st: Int32Array): number {
	if (from >= to) return -1;
	st[KIND] = 1;
	return from;
}

/** Up to `max` lines of buf[pos, to), decoded and clipped for display. */
function linesFrom(buf: Buffer, pos: number, to: number, max: number): string[] {
	const lines: string[] = [];
	while (lines.length < max && pos < to) {
		let nl = buf.indexOf(NL, pos);
		if (nl === -1 || nl > to) nl = to;
		lines.push(clip(decodeLine(buf, pos, nl), 0));
		pos = nl + 1;
	}
	return lines;
}

/** Skips an ANSI escape (ESC [ … final byte) so colour codes do not break a literal in two. */
function skipEscape(buf: Buffer, i: number, to: number): number {
	if (buf[i + 1] !== 0x5b) return i;
	let j = i + 2;
	while (j < to && buf[j]! >= 0x20 && buf[j]! <= 0x3f) j++;
	while (j < to && buf[j]! >= 0x20 && buf[j]! <= 0x2f) j++;
	// A final byte ends the escape; anything else (a newline, the end) is left for the scanner to read.
	if (j < to && buf[j]! >= 0x40 && buf[j]! <= 0x7e) return j;
	return j - 1;
}

/**
 * A line as text: UTF-8 decoded (invalid bytes become U+FFFD), CR and colour codes removed, and quotes escaped by a
 * JSON or a language's string (\" or \\\") read as the quotes the tool printed.
 */
function decodeLine(buf: Buffer, start: number, end: number): string {
	const cut = Math.min(end, start + MAX_SEGMENT);
	let s = buf.toString('utf8', start, cut);
	if (s.endsWith('\r')) s = s.slice(0, -1);
	if (s.includes('\\"')) s = s.replace(ESCAPED_QUOTE, '"');
	return s.includes('\u001B') ? s.replace(ANSI, '') : s;
}

/** Keeps evidence lines readable and inert: long lines are cut to a window around the match, controls shown as text. */
function clip(s: string, at: number): string {
	if (s.length <= MAX_SHOWN) return visible(s);
	const start = Math.max(0, Math.min(at - 80, s.length - MAX_SHOWN));
	return visible((start > 0 ? '…' : '') + s.slice(start, start + MAX_SHOWN) + (start + MAX_SHOWN < s.length ? '…' : ''));
}
