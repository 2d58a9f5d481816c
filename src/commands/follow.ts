import {openInput} from '../adapters/input.js';
import {diagnoseFollow, hasDiagnosis, type Diagnosis} from '../core/diagnose/diagnose.js';
import type {Finding} from '../core/diagnose/score.js';
import type {CompiledKb} from '../core/kb/compile.js';
import {OUTPUT_SCHEMA_VERSION} from '../core/output-schema.js';
import {diagnosisJson, diagnosisText, findingJson, makePaint} from '../plain/format.js';

type Out = {write(s: string): void};

/** How often, at most, the findings so far are scored again while lines keep arriving. */
const EVERY_MS = 250;

/**
 * `kdoctor diagnose --follow -`: findings as the lines arrive (`kubectl logs -f … | kdoctor diagnose --follow -`), one
 * line (or JSON object) per cause that appears or changes its confidence; when the input ends or the person stops it
 * (Ctrl-C), the whole diagnosis of what was read. Exit status as diagnose's.
 */
export async function followCommand(
	compiled: CompiledKb,
	file: string,
	opts: {json: boolean; color: boolean; signal: AbortSignal},
	out: Out,
): Promise<number> {
	const paint = makePaint(opts.color);
	const said = new Map<string, number>();
	let last = 0;
	const started = Date.now();
	const onUpdate = (findings: Finding[], lines: number) => {
		for (const f of findings) {
			if (said.get(f.id) === f.confidence) continue;
			const before = said.get(f.id);
			said.set(f.id, f.confidence);
			if (opts.json) {
				out.write(
					JSON.stringify({
						event: before === undefined ? 'found' : 'changed',
						line: lines,
						finding: findingJson(f),
						schemaVersion: OUTPUT_SCHEMA_VERSION,
					}) + '\n',
				);
				continue;
			}
			const pct = `${Math.round(f.confidence * 100)}%`;
			const mark = f.confidence >= 0.5 ? paint.red('✗') : paint.yellow('?');
			const at = f.evidence[0]?.line ? `line ${f.evidence[0].line}: ${f.evidence[0].text.trim()}` : (f.evidence[0]?.text.trim() ?? '');
			const when = `${((Date.now() - started) / 1000).toFixed(1)}s`;
			out.write(
				`${paint.dim(when.padStart(7))} ${mark} ${f.id} ` +
					`${pct}${before === undefined ? '' : paint.dim(` (was ${Math.round(before * 100)}%)`)}  ${at}\n`,
			);
		}
	};
	const d: Diagnosis = await diagnoseFollow(compiled, openInput(file), {
		signal: opts.signal,
		// Scoring again on every chunk of a fast stream would cost more than it tells: a few times a second is enough.
		due: () => {
			const now = Date.now();
			if (now - last < EVERY_MS) return false;
			last = now;
			return true;
		},
		quiet: () => new Promise((resolve) => setTimeout(resolve, EVERY_MS)),
		onUpdate,
	});
	if (opts.json) out.write(JSON.stringify({event: 'end', ...diagnosisJson(file, d)}) + '\n');
	else out.write(`${paint.dim('── the input ended: the whole diagnosis of what was read ──')}\n${diagnosisText(file, d, paint, false)}`);
	// Empty or binary: nothing could be looked at, as diagnose says.
	if (d.status !== 'ok') return 2;
	return hasDiagnosis(d) ? 1 : 0;
}
