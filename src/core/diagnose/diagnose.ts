import type {CompiledKb} from '../kb/compile.js';
import {seenKinds} from './kinds.js';
import {TextScanner} from './scan.js';
import {unmatchedLines, type UnmatchedLine} from './unmatched.js';
import {REPORT_CONFIDENCE, score, type Facts, type Finding} from './score.js';

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
	opts: {facts?: Facts; signal?: AbortSignal} = {},
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
	return finish(compiled, scanner, opts.facts);
}

/** Diagnoses text already in memory (examples, pasted snippets, tests). */
export function diagnoseText(compiled: CompiledKb, text: string, facts?: Facts): Diagnosis {
	const scanner = new TextScanner(compiled);
	scanner.push(text);
	return finish(compiled, scanner, facts);
}

function finish(compiled: CompiledKb, scanner: TextScanner, facts: Facts | undefined): Diagnosis {
	const result = scanner.end();
	const hasFacts = facts !== undefined && Object.keys(facts).length > 0;
	const status: InputStatus = result.binary ? 'binary' : result.blank && !hasFacts ? 'empty' : 'ok';
	const findings = score(compiled, result.matches, facts, result.vetoed, seenKinds(compiled, result));
	const d: Diagnosis = {status, findings, stats: {bytes: result.bytes, lines: result.lines}};
	if (status === 'ok' && !findings.some((f) => f.confidence >= REPORT_CONFIDENCE)) {
		const lines = unmatchedLines(result.head, result.tail, result.lines, result.bytes);
		if (lines.length > 0) d.unmatched = lines;
	}
	return d;
}

/** True when at least one finding is confident enough to be called a diagnosis. */
export function hasDiagnosis(d: Diagnosis): boolean {
	return d.findings.some((f) => f.confidence >= REPORT_CONFIDENCE);
}
