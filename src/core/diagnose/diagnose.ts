import type {CompiledKb} from '../kb/compile.js';
import {seenKinds} from './kinds.js';
import {TextScanner} from './scan.js';
import {resemble} from './resemble.js';
import {unmatchedLines, type UnmatchedLine} from './unmatched.js';
import {REPORT_CONFIDENCE, score, type Facts, type Finding} from './score.js';

/** `resemble: false` asks the signals alone (the KB's own tests); `exclude` keeps one thread's cases out of the library. */
export type DiagnoseOptions = {resemble?: boolean; exclude?: string};

export type InputStatus = 'ok' | 'empty' | 'binary';

export type Diagnosis = {
	status: InputStatus;
	findings: Finding[];
	stats: {bytes: number; lines: number};
	/** When no known cause matched (nothing at 0.5 or more): the lines that look most like the failure. */
	unmatched?: UnmatchedLine[];
};

/** Diagnoses a stream chunk by chunk, so a multi-GB log never sits in memory. */
export async function diagnoseStream(
	compiled: CompiledKb,
	source: AsyncIterable<Uint8Array | string>,
	opts: {facts?: Facts; signal?: AbortSignal} & DiagnoseOptions = {},
): Promise<Diagnosis> {
	const scanner = new TextScanner(compiled);
	for await (const chunk of source) {
		opts.signal?.throwIfAborted();
		if (typeof chunk === 'string') scanner.push(chunk);
		else scanner.pushBytes(chunk);
		// Binary is known from the first bytes: stop reading (an endless /dev/urandom ends here too).
		if (scanner.isBinary) break;
	}
	opts.signal?.throwIfAborted();
	return finish(compiled, scanner, opts.facts, opts);
}

/**
 * Diagnoses a growing input (a `kubectl logs -f` pipe): after a chunk, when `due()` says so, the findings of the lines
 * read so far go to `onUpdate`; when the input ends, or `signal` aborts (the person stopped watching), the diagnosis of
 * everything read. The resemblance to library cases waits for the end (it is for inputs no signal explains at all).
 */
export async function diagnoseFollow(
	compiled: CompiledKb,
	source: AsyncIterable<Uint8Array | string>,
	opts: {
		signal?: AbortSignal;
		/** Whether to score now, after a chunk (a few times a second is enough for a fast stream). */
		due: () => boolean;
		/** Resolves once the stream has been quiet a while: lines read but not yet scored are scored then. */
		quiet: () => Promise<void>;
		onUpdate: (findings: Finding[], lines: number) => void;
	},
): Promise<Diagnosis> {
	const scanner = new TextScanner(compiled);
	const it = source[Symbol.asyncIterator]();
	// A pipe that stays quiet must not keep a stopped follow waiting for its next line.
	const stopped = new Promise<'stopped'>((resolve) => {
		if (opts.signal?.aborted) resolve('stopped');
		opts.signal?.addEventListener('abort', () => resolve('stopped'), {once: true});
	});
	const update = () => {
		const now = scanner.snapshot();
		if (!now.binary) opts.onUpdate(score(compiled, now.matches, undefined, now.vetoed, seenKinds(compiled, now)), now.lines);
	};
	let pending: Promise<IteratorResult<Uint8Array | string>> | undefined;
	let unscored = false;
	try {
		for (;;) {
			pending ??= it.next();
			const waits: Promise<IteratorResult<Uint8Array | string> | 'stopped' | 'quiet'>[] = [pending, stopped];
			if (unscored) waits.push(opts.quiet().then(() => 'quiet' as const));
			const next = await Promise.race(waits);
			if (next === 'stopped') break;
			if (next === 'quiet') {
				update();
				unscored = false;
				continue;
			}
			pending = undefined;
			if (next.done) break;
			if (typeof next.value === 'string') scanner.push(next.value);
			else scanner.pushBytes(next.value);
			if (scanner.isBinary) break;
			unscored = true;
			if (opts.due()) {
				update();
				unscored = false;
			}
		}
	} catch (error) {
		// An aborted read is the person stopping: what was read is still diagnosed.
		if (!opts.signal?.aborted) throw error;
	}
	if (opts.signal?.aborted) void it.return?.();
	const d = finish(compiled, scanner, undefined, {});
	opts.onUpdate(d.findings, d.stats.lines);
	return d;
}

/** Diagnoses text already in memory (examples, pasted snippets, tests). */
export function diagnoseText(compiled: CompiledKb, text: string, facts?: Facts, opts: DiagnoseOptions = {}): Diagnosis {
	const scanner = new TextScanner(compiled);
	scanner.push(text);
	return finish(compiled, scanner, facts, opts);
}

function finish(compiled: CompiledKb, scanner: TextScanner, facts: Facts | undefined, opts: DiagnoseOptions): Diagnosis {
	const result = scanner.end();
	const hasFacts = facts !== undefined && Object.keys(facts).length > 0;
	const status: InputStatus = result.binary ? 'binary' : result.blank && !hasFacts ? 'empty' : 'ok';
	let findings = score(compiled, result.matches, facts, result.vetoed, seenKinds(compiled, result));
	// No signal at all: the library's nearest real cases may still name a possible cause.
	if (status === 'ok' && findings.length === 0 && opts.resemble !== false && !result.blank) {
		const index = compiled.cases?.();
		if (index) findings = resemble(compiled, index, windowText(result.head, result.tail, result.bytes), {exclude: opts.exclude});
	}
	const d: Diagnosis = {status, findings, stats: {bytes: result.bytes, lines: result.lines}};
	if (status === 'ok' && !findings.some((f) => f.confidence >= REPORT_CONFIDENCE)) {
		const lines = unmatchedLines(result.head, result.tail, result.lines, result.bytes);
		if (lines.length > 0) d.unmatched = lines;
	}
	return d;
}

/** The text the scanner kept: all of a short input, its first and last windows otherwise. */
function windowText(head: Buffer, tail: Buffer, bytes: number): string {
	return head.length >= bytes ? head.toString('utf8') : `${head.toString('utf8')}\n${tail.toString('utf8')}`;
}

/** True when at least one finding is confident enough to be called a diagnosis. */
export function hasDiagnosis(d: Diagnosis): boolean {
	return d.findings.some((f) => f.confidence >= REPORT_CONFIDENCE);
}
