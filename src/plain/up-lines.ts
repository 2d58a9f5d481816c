/**
 * `kdoctor up` without a screen: timestamped lines for pipes and CI logs, and the --json event stream.
 *
 * The --json contract is the RunEvent union of src/core/provision/events.ts, one JSON object per line, in
 * the order the runner emitted them, nothing added or renamed (`at` is epoch milliseconds):
 *   run-start    {runId, runDir, profile, provider, engine, budgetMiB, budgetSource, steps: PlannedStep[]}
 *   step-start   {id, attempt}                       a step (or a retry of it) began
 *   step-line    {id, line, stream: stdout|stderr}   one line of a step's output (every line, unthrottled)
 *   step-note    {id, text}                          a note worth its own line (cache hit, image names)
 *   step-end     {id, state: done|failed|skipped|cancelled, durationMs, note?, peakMiB?}
 *   step-retry   {id, attempt, reason, memoryMiB, finding?}   killed for memory: runs again alone with more memory
 *   diagnosis    {step?, findings: Finding[]}        what kdoctor made of a failure (src/core/diagnose/score.ts)
 *   run-end      {ok, durationMs, runDir, message, resume?, bundle?}   always the last event
 */
import type {PlannedStep, RunEvent} from '../core/provision/events.js';
import {REPORT_CONFIDENCE} from '../core/diagnose/score.js';
import {makePaint, type Paint} from './format.js';

/** Output lines a failed step shows in plain mode: enough to see the failure, short enough for a CI log. */
export const PLAIN_FAILURE_LINES = 20;

/** "0.4s", "12s", "2m30s", "1h02m": short enough for a column, exact enough to compare runs. */
export function formatDuration(ms: number): string {
	const t = Math.max(0, ms);
	if (t < 10_000) return `${(Math.floor(t / 100) / 10).toFixed(1)}s`;
	const s = Math.floor(t / 1000);
	if (s < 60) return `${s}s`;
	if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
	return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** "300M", "1.4G": memory figures in a narrow column. */
export function formatMiB(mib: number): string {
	return mib < 1024 ? `${Math.round(mib)}M` : `${(mib / 1024).toFixed(1)}G`;
}

import {cleanLine} from '../core/provision/timeline.js';

export {cleanLine};

/** Local wall-clock time with milliseconds: lines from parallel steps sort and line up. */
export function clockTime(at: number): string {
	const d = new Date(at);
	const p = (n: number, w = 2) => String(n).padStart(w, '0');
	return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

/** The plain renderer: one line per thing that happened, a failed step's last output lines, then the verdict. */
export function createPlainUpRenderer(write: (s: string) => void, opts: {color: boolean}): (ev: RunEvent) => void {
	const paint = makePaint(opts.color);
	const steps = new Map<string, PlannedStep>();
	const tails = new Map<string, {lines: {at: number; line: string}[]; total: number}>();
	let idWidth = 3;
	const line = (at: number, who: string, msg: string) => write(`${paint.dim(clockTime(at))}  ${paint.cyan(who.padEnd(idWidth))}  ${msg}\n`);

	return (ev) => {
		switch (ev.type) {
			case 'run-start': {
				steps.clear();
				tails.clear();
				for (const s of ev.steps) steps.set(s.id, s);
				idWidth = Math.max(3, ...ev.steps.map((s) => s.id.length));
				line(
					ev.at,
					'run',
					`${paint.bold('kdoctor up')} ${ev.profile} · ${ev.provider} · ${ev.engine} · run ` +
						`${ev.runId} · budget ${ev.budgetMiB} MiB (${ev.budgetSource}) · ${ev.steps.length} steps`,
				);
				line(ev.at, 'run', `logs ${ev.runDir}`);
				return;
			}
			case 'step-start': {
				tails.set(ev.id, {lines: [], total: 0});
				const s = steps.get(ev.id);
				const plan = s ? `: ${s.title} (est ${formatDuration(s.estimateMs)}${s.memoryMiB > 0 ? `, ${s.memoryMiB} MiB` : ''})` : '';
				line(ev.at, ev.id, `▶ start${ev.attempt > 1 ? ` attempt ${ev.attempt}` : ''}${plan}`);
				return;
			}
			case 'step-line': {
				let t = tails.get(ev.id);
				if (!t) tails.set(ev.id, (t = {lines: [], total: 0}));
				t.lines.push({at: ev.at, line: ev.line});
				t.total++;
				if (t.lines.length > PLAIN_FAILURE_LINES) t.lines.shift();
				return;
			}
			case 'step-note':
				line(ev.at, ev.id, paint.dim(`· ${ev.text}`));
				return;
			case 'step-retry': {
				// The next attempt's start line shows the memory it now assumes.
				const st = steps.get(ev.id);
				if (st) steps.set(ev.id, {...st, memoryMiB: ev.memoryMiB});
				line(
					ev.at,
					ev.id,
					paint.yellow(`↻ retry as attempt ${ev.attempt} with ${ev.memoryMiB} MiB: ${ev.reason}${ev.finding ? ` [${ev.finding.id}]` : ''}`),
				);
				return;
			}
			case 'step-end': {
				const note = ev.note ? `: ${ev.note}` : '';
				const peak = ev.peakMiB !== undefined ? ` · peak ${ev.peakMiB} MiB` : '';
				if (ev.state === 'done')
					line(ev.at, ev.id, `${paint.green('✓')} done in ${formatDuration(ev.durationMs)}${peak}${ev.note ? ` · ${ev.note}` : ''}`);
				else if (ev.state === 'skipped') line(ev.at, ev.id, paint.dim(`↷ skipped${note}`));
				else if (ev.state === 'cancelled') line(ev.at, ev.id, paint.yellow(`⊘ cancelled after ${formatDuration(ev.durationMs)}${note}`));
				else {
					line(ev.at, ev.id, `${paint.red('✗')} ${paint.red(`failed after ${formatDuration(ev.durationMs)}`)}${note}${peak}`);
					const t = tails.get(ev.id);
					if (t && t.lines.length > 0) {
						line(
							ev.at,
							ev.id,
							paint.dim(
								t.total > t.lines.length
									? `last ${t.lines.length} of ${t.total} output lines:`
									: `output (${t.total} line${t.total === 1 ? '' : 's'}):`,
							),
						);
						for (const l of t.lines) line(l.at, ev.id, `${paint.dim('│')} ${cleanLine(l.line)}`);
					}
				}
				return;
			}
			case 'diagnosis':
				diagnosisLines(ev, paint, (msg) => line(ev.at, ev.step ?? 'run', msg));
				return;
			case 'run-end':
				if (ev.ok)
					line(
						ev.at,
						'run',
						`${paint.green('✓')} ${paint.bold(`ready in ${formatDuration(ev.durationMs)}`)}${ev.message ? ` · ${ev.message}` : ''}`,
					);
				else line(ev.at, 'run', `${paint.red('✗')} ${paint.bold(ev.message)}${paint.dim(` (after ${formatDuration(ev.durationMs)})`)}`);
				if (ev.bundle) line(ev.at, 'run', `bundle ${ev.bundle}`);
				if (ev.resume) line(ev.at, 'run', `resume ${paint.cyan(ev.resume)}`);
				return;
		}
	};
}

function diagnosisLines(ev: Extract<RunEvent, {type: 'diagnosis'}>, paint: Paint, out: (msg: string) => void): void {
	const [top, ...rest] = ev.findings;
	if (!top) {
		out('diagnosis: no known cause in this output');
		return;
	}
	const confident = top.confidence >= REPORT_CONFIDENCE;
	out(
		`${confident ? paint.red('✗') : paint.yellow('?')} diagnosis ${Math.round(top.confidence * 100)}% ${paint.bold(top.id)}: ${top.title}`,
	);
	const e = top.evidence[0];
	if (e) out(`  evidence ${paint.cyan(e.line === null ? e.source : `line ${e.line}`)}: ${cleanLine(e.text.trim(), 300)}`);
	for (const r of top.remediations) out(`  fix ${paint.green(`[${r.key}]`)} ${r.title}`);
	if (rest.length > 0) out(paint.dim(`  also possible: ${rest.map((f) => `${f.id} (${Math.round(f.confidence * 100)}%)`).join(', ')}`));
}

/** --json: one event per line, exactly as emitted (see the contract at the top of this file). */
export function jsonLines(write: (s: string) => void): (ev: RunEvent) => void {
	return (ev) => write(JSON.stringify(ev) + '\n');
}
