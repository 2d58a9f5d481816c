import {InputError, openInput} from '../adapters/input.js';
import {diagnoseStream, hasDiagnosis, type Diagnosis} from '../core/diagnose/diagnose.js';
import {nearMisses, type NearMiss} from '../core/diagnose/near-miss.js';
import type {CompiledKb} from '../core/kb/compile.js';
import {diagnosisJson, diagnosisText, makePaint} from '../plain/format.js';

export type DiagnosedInput = {file: string; diagnosis?: Diagnosis; error?: string; nearMisses?: NearMiss[]};

/** How much of each input is kept for the near-miss pass (the diagnosis itself streams everything). */
const NEAR_MISS_PREFIX = 4 * 1024 * 1024;

/** Passes chunks through while keeping the first few MB, so memory stays bounded for any input size. */
async function* keepPrefix(source: AsyncIterable<Uint8Array>, kept: Buffer[]): AsyncIterable<Uint8Array> {
	let size = 0;
	for await (const chunk of source) {
		if (size < NEAR_MISS_PREFIX) {
			const part = Buffer.from(chunk.subarray(0, NEAR_MISS_PREFIX - size));
			kept.push(part);
			size += part.length;
		}
		yield chunk;
	}
}

/** Diagnoses each input in order; an unreadable one is reported, the others still run. */
export async function diagnoseInputs(c: CompiledKb, files: string[], signal?: AbortSignal, withNearMisses = false): Promise<DiagnosedInput[]> {
	const out: DiagnosedInput[] = [];
	for (const file of files) {
		try {
			const kept: Buffer[] = [];
			const diagnosis = await diagnoseStream(c, withNearMisses ? keepPrefix(openInput(file), kept) : openInput(file), {signal});
			const result: DiagnosedInput = {file, diagnosis};
			if (withNearMisses && diagnosis.status === 'ok' && !hasDiagnosis(diagnosis)) {
				const found = nearMisses(c.kb, Buffer.concat(kept).toString('utf8'), new Set(diagnosis.findings.map((f) => f.id)));
				if (found.length > 0) result.nearMisses = found;
			}
			out.push(result);
		} catch (error) {
			if (error instanceof InputError) out.push({file, error: error.message});
			else throw error;
		}
	}
	return out;
}

/** 2 if any input could not be looked at, else 1 if any has a diagnosis, else 0. */
export function exitCodeFor(results: DiagnosedInput[]): number {
	if (results.some((r) => r.error || r.diagnosis?.status === 'empty')) return 2;
	return results.some((r) => r.diagnosis && hasDiagnosis(r.diagnosis)) ? 1 : 0;
}

export function renderJson(results: DiagnosedInput[]): string {
	return results
		.map((r) => JSON.stringify(r.diagnosis ? diagnosisJson(r.file, r.diagnosis) : {file: r.file, status: 'error', error: r.error, findings: []}))
		.join('\n') + '\n';
}

export function renderPlain(results: DiagnosedInput[], color: boolean, verbose: boolean): {out: string; err: string} {
	const paint = makePaint(color);
	let out = '';
	let err = '';
	results.forEach((r, i) => {
		if (i > 0) out += '\n';
		if (r.error) err += `kdoctor: ${r.error}\n`;
		else out += diagnosisText(r.file, r.diagnosis!, paint, verbose);
		if (r.nearMisses?.length) {
			out += `\n${paint.yellow('?')} Lines that resemble known failures but do not carry their signature (leads, not findings):\n`;
			for (const n of r.nearMisses) out += `    ${paint.cyan(`line ${n.line}`.padStart(9))}  ${n.text}\n    ${' '.repeat(9)}  ${paint.dim(`≈ ${n.id}: ${n.resembles}`)}\n`;
		}
	});
	return {out, err};
}
