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
