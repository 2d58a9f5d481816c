import {InputError, openInput} from '../adapters/input.js';
import {diagnoseStream, hasDiagnosis, type Diagnosis} from '../core/diagnose/diagnose.js';
import type {CompiledKb} from '../core/kb/compile.js';
import {OUTPUT_SCHEMA_VERSION} from '../core/output-schema.js';
import {diagnosisJson, diagnosisText, makePaint} from '../plain/format.js';

export type DiagnosedInput = {file: string; diagnosis?: Diagnosis; error?: string};

/** Diagnoses each input in order; an unreadable one is reported, the others still run. */
export async function diagnoseInputs(c: CompiledKb, files: string[], signal?: AbortSignal): Promise<DiagnosedInput[]> {
	const out: DiagnosedInput[] = [];
	for (const file of files) {
		try {
			const diagnosis = await diagnoseStream(c, openInput(file), {signal});
			// Ctrl-C ends the writer of a pipe too, and its end-of-file can arrive before kdoctor's own SIGINT: let that
			// signal land first, so an interrupted read is never reported as a result.
			if (file === '-') await settle(signal);
			out.push({file, diagnosis});
		} catch (error) {
			if (error instanceof InputError) out.push({file, error: error.message});
			else throw error;
		}
	}
	return out;
}

const SETTLE_MS = 50;
async function settle(signal: AbortSignal | undefined): Promise<void> {
	await new Promise((r) => setTimeout(r, SETTLE_MS));
	signal?.throwIfAborted();
}

/** 2 if any input could not be looked at (unreadable, empty, binary), else 1 if any has a diagnosis, else 0. */
export function exitCodeFor(results: DiagnosedInput[]): number {
	if (results.some((r) => r.error || r.diagnosis?.status === 'empty' || r.diagnosis?.status === 'binary')) return 2;
	return results.some((r) => r.diagnosis && hasDiagnosis(r.diagnosis)) ? 1 : 0;
}

export function renderJson(results: DiagnosedInput[]): string {
	return (
		results
			.map((r) =>
				JSON.stringify(
					r.diagnosis
						? diagnosisJson(r.file, r.diagnosis)
						: {file: r.file, status: 'error', error: r.error, findings: [], schemaVersion: OUTPUT_SCHEMA_VERSION},
				),
			)
			.join('\n') + '\n'
	);
}

export function renderPlain(results: DiagnosedInput[], color: boolean, verbose: boolean): {out: string; err: string} {
	const paint = makePaint(color);
	let out = '';
	let err = '';
	for (const r of results) {
		if (r.error) {
			err += `kdoctor: ${r.error}\n`;
			continue;
		}
		if (out) out += '\n';
		out += diagnosisText(r.file, r.diagnosis!, paint, verbose);
	}
	return {out, err};
}
