import type {Diagnosis} from '../core/diagnose/diagnose.js';
import {resemblance} from '../core/diagnose/resemble.js';
import {shellLine} from '../core/text/quote.js';
import {OUTPUT_SCHEMA_VERSION} from '../core/output-schema.js';
import {REPORT_CONFIDENCE, type Finding} from '../core/diagnose/score.js';

/** The --json contract: a finding as outside tools read it. */
export function findingJson(f: Finding) {
	return {
		id: f.id,
		title: f.title,
		layer: f.layer,
		confidence: f.confidence,
		evidence: f.evidence.map((e) => ({line: e.line, text: e.text, ...(e.source === 'text' ? {} : {source: e.source})})),
		remediations: f.remediations,
		...(f.tellApart ? {tellApart: f.tellApart} : {}),
		...(f.resembles ? {resembles: f.resembles} : {}),
		// A symptom of a stronger cause says which (it ranks below it).
		...(f.explainedBy ? {explainedBy: f.explainedBy} : {}),
	};
}

export function diagnosisJson(file: string, d: Diagnosis) {
	return {
		file,
		status: d.status,
		findings: d.findings.map(findingJson),
		...(d.unmatched ? {unmatched: d.unmatched.map((u) => ({line: u.line, text: u.text, why: u.why}))} : {}),
		schemaVersion: OUTPUT_SCHEMA_VERSION,
	};
}

export type Paint = {
	bold(s: string): string;
	dim(s: string): string;
	red(s: string): string;
	yellow(s: string): string;
	green(s: string): string;
	cyan(s: string): string;
};

const ESC = '\u001B[';
export function makePaint(color: boolean): Paint {
	const wrap = (open: number, close: number) => (s: string) => (color ? `${ESC}${open}m${s}${ESC}${close}m` : s);
	return {bold: wrap(1, 22), dim: wrap(2, 22), red: wrap(31, 39), yellow: wrap(33, 39), green: wrap(32, 39), cyan: wrap(36, 39)};
}

/** Plain text for pipes and logs: same content as the screen, no cursor tricks. */
export function diagnosisText(file: string, d: Diagnosis, paint: Paint, verbose = false): string {
	const out: string[] = [];
	const head = `${file} — ${d.stats.lines} line${d.stats.lines === 1 ? '' : 's'}`;
	if (d.status === 'empty') return `${head}: input is empty, nothing to diagnose (could not look)\n`;
	const causes = d.findings.filter((f) => f.confidence >= REPORT_CONFIDENCE);
	const possible = d.findings.filter((f) => f.confidence < REPORT_CONFIDENCE);
	if (d.findings.length === 0) {
		out.push(
			d.status === 'binary'
				? `${head}: the input looks binary, not a text log (could not look): give kdoctor the text output`
				: d.unmatched?.length
					? `${head}: ${paint.yellow('no known cause matched')}`
					: `${head}: ${paint.green('no known failure found')}`,
		);
		out.push(...unmatchedText(d, paint));
		return out.join('\n') + '\n';
	}
	out.push(
		`${head}: ` +
			`${causes.length > 0 ? paint.red(`${causes.length} likely cause${causes.length === 1 ? '' : 's'}`) : 'no confident cause'}` +
			`${possible.length > 0 ? `, ${possible.length} possible` : ''}`,
	);
	d.findings.forEach((f, i) => {
		if (!verbose && i >= 5) return;
		const pct = `${Math.round(f.confidence * 100)}%`.padStart(4);
		const mark = f.confidence >= REPORT_CONFIDENCE ? paint.red('✗') : paint.yellow('?');
		out.push('');
		out.push(
			`${mark} ${paint.bold(f.title)}  ` +
				`${paint.dim(`[${f.id} · ${f.layer} · ${pct}]`)}${f.explainedBy ? paint.dim(` (explained by ${f.explainedBy})`) : ''}`,
		);
		if (i === 0 || verbose) out.push(indent(wrapText(f.summary, 96), '    '));
		for (const e of f.evidence.slice(0, i === 0 || verbose ? 6 : 2)) {
			const where = e.line === null ? e.source : `line ${e.line}`;
			out.push(`    ${paint.cyan(where.padStart(9))}  ${e.text.trim()}`);
			if (verbose) out.push(`    ${' '.repeat(9)}  ${paint.dim('↳ ' + e.means)}`);
		}
		for (const t of f.tellApart ?? []) out.push(`    ${paint.yellow('tell apart')} from ${t.id}: ${t.check}`);
		if (f.resembles) out.push(`    ${paint.yellow('resembles')} ${resemblance(f.resembles)}`);
		if (f.remediations.length > 0 && (i === 0 || verbose)) {
			out.push(`    fixes: ${f.remediations.map((r) => `[${r.key}] ${r.title}`).join('  ')}`);
			// The same fix without the screen, quoted from its argv so it pastes as it reads (a saved file only: stdin is gone).
			const offline = f.remediations.find((r) => r.kind === 'edit-file') ?? f.remediations[0]!;
			const argv = ['kdoctor', 'fix', f.id, '--from', file, '--key', offline.key];
			if (file !== '-') out.push(paint.dim(`    without the screen: ${shellLine(argv)} (a preview; add --yes to apply)`));
		}
	});
	if (!verbose && d.findings.length > 5) out.push('', paint.dim(`… ${d.findings.length - 5} more (use --verbose)`));
	out.push(...unmatchedText(d, paint));
	return out.join('\n') + '\n';
}

/** No known cause matched: say so plainly, and show the lines that look most like the failure. */
function unmatchedText(d: Diagnosis, paint: Paint): string[] {
	if (!d.unmatched?.length) return [];
	return [
		'',
		`No known cause matched. The lines that look most like the failure:`,
		...d.unmatched.map((u) => `    ${paint.cyan(`line ${u.line}`.padStart(9))}  ${u.text.trim()}  ${paint.dim(`(${u.why})`)}`),
	];
}

function wrapText(s: string, width: number): string {
	const words = s.replace(/\s+/g, ' ').trim().split(' ');
	const lines: string[] = [];
	let cur = '';
	for (const w of words) {
		if (cur && cur.length + w.length + 1 > width) {
			lines.push(cur);
			cur = w;
		} else cur = cur ? `${cur} ${w}` : w;
	}
	if (cur) lines.push(cur);
	return lines.join('\n');
}

function indent(s: string, pad: string): string {
	return s
		.split('\n')
		.map((l) => pad + l)
		.join('\n');
}
