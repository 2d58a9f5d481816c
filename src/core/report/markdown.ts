import {REPORT_CONFIDENCE} from '../diagnose/score.js';
import type {ReportFinding, ReportModel, ReportStep} from './model.js';

/** Text from a run in Markdown prose or a table cell: what Markdown would read as markup is escaped. */
export function mdText(s: string): string {
	return s.replace(/\r?\n/g, ' ').replace(/[\\`*|<>[\]]/g, '\\$&');
}

/** A code span that holds any text, backticks included (CommonMark: a longer fence, padded when needed). */
export function mdCode(s: string, inTable = false): string {
	const text = s.replace(/\r?\n/g, ' ');
	const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((r) => r.length));
	const fence = '`'.repeat(longest + 1);
	const pad = text.startsWith('`') || text.endsWith('`') || text === '' ? ' ' : '';
	const body = inTable ? text.replace(/\|/g, '\\|') : text;
	return `${fence}${pad}${body}${pad}${fence}`;
}

/** A fenced block that no line of the text can close early. */
function fenced(lines: string[], lang = 'text'): string {
	const longest = Math.max(2, ...lines.flatMap((l) => (l.match(/`{3,}/g) ?? []).map((r) => r.length)));
	const fence = '`'.repeat(longest + 1);
	return `${fence}${lang}\n${lines.join('\n')}\n${fence}`;
}

const STATE_MARK: Record<string, string> = {
	done: '✓ done',
	failed: '✗ failed',
	skipped: '↷ skipped',
	cancelled: '⊘ cancelled',
	running: '▶ running',
	waiting: '· waiting',
};

function when(iso: string): string {
	const d = new Date(iso);
	return Number.isNaN(d.getTime()) ? iso : `${d.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

function bytes(n: number): string {
	if (n < 1024) return `${n} B`;
	if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
	return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

function resultLine(m: ReportModel): string {
	if (m.result === 'ok') return 'ok';
	if (m.result === 'cancelled') return 'cancelled (stopped by the user)';
	return m.failedStep ? `failed at ${m.failedStep}` : 'failed';
}

function timeline(m: ReportModel, fmt: (ms: number) => string): string[] {
	const out = ['## Timeline', '', '| # | step | title | state | start | duration | peak | note |', '|---:|---|---|---|---:|---:|---:|---|'];
	m.steps.forEach((s: ReportStep, i) => {
		const state = s.cached ? '✓ cached' : (STATE_MARK[s.state] ?? s.state);
		const attempts = s.attempts > 1 ? ` (${s.attempts} attempts)` : '';
		const row = [
			String(i + 1),
			mdCode(s.id, true),
			mdText(s.title),
			`${s.failed ? '**' : ''}${state}${attempts}${s.failed ? '**' : ''}`,
			s.startMs === undefined ? '' : `+${fmt(s.startMs)}`,
			s.durationMs === undefined ? '' : fmt(s.durationMs),
			s.peakMiB === undefined ? '' : `${Math.round(s.peakMiB)} MiB`,
			s.note ? mdText(s.note) : '',
		];
		out.push(`| ${row.join(' | ')} |`);
	});
	const retries = m.steps.flatMap((s) => s.retries.map((r) => ({id: s.id, ...r})));
	if (retries.length > 0) {
		out.push('', 'Re-runs (a build killed for lack of memory runs again alone, with more memory reserved):', '');
		for (const r of retries) out.push(`- ${mdCode(r.id)} attempt ${r.attempt} at +${fmt(r.atMs)}: ${mdText(r.reason)}`);
	}
	return out;
}

function finding(f: ReportFinding): string[] {
	const out = [
		`### ${mdCode(f.id)} ${mdText(f.title)} (${Math.round(f.confidence * 100)}%${f.confidence < REPORT_CONFIDENCE ? ', possible' : ''})`,
		'',
	];
	const where = f.recovered
		? `Seen in step ${mdCode(f.step ?? '?')}, which was re-run and recovered`
		: f.step
			? `Failed step: ${mdCode(f.step)}`
			: 'Found in the run';
	out.push(`${where} · layer ${mdText(f.layer)}`, '', `> ${mdText(f.summary)}`, '', 'Evidence:', '');
	for (const e of f.evidence) out.push(`- ${mdText(e.source)}${e.line !== undefined ? `, line ${e.line}` : ''}: ${mdCode(e.text)}`);
	if (f.fixes.length > 0)
		out.push(
			'',
			`Fixes the knowledge base offers: ${f.fixes.map((x) => `${mdCode(`[${x.key}]`)} ${mdText(x.title)} (${x.kind})`).join('; ')}`,
		);
	return out;
}

/** The report in Markdown, everything in it already redacted; `chart` is the SVG's file name beside it, when written. */
export function renderMarkdown(m: ReportModel, fmt: (ms: number) => string, opts: {chart?: string} = {}): string {
	const out: string[] = [];
	out.push(`# kdoctor up ${mdText(m.profile)}: run ${mdCode(m.runId)} ${resultLine(m)}`, '');
	out.push(`- **Result:** ${mdText(m.message ?? resultLine(m))}`);
	out.push(`- **Started:** ${when(m.startedAt)} · **took** ${fmt(m.durationMs)}`);
	out.push(`- **Run folder:** ${mdCode(m.runDir)}`);
	if (m.resume) out.push('', 'Resume with:', '', fenced([m.resume], 'sh'));
	out.push('', ...timeline(m, fmt));
	if (opts.chart) out.push('', `![Gantt chart of the run's steps](${encodeURI(opts.chart)})`);

	out.push('', '## Findings', '');
	if (m.findings.length === 0)
		out.push(
			m.result === 'ok'
				? 'None: the run succeeded.'
				: "None: the knowledge base named no cause for this failure (see the failed step's output below).",
		);
	for (const f of m.findings) out.push(...finding(f), '');
	if (m.failedLog && m.failedLog.lines.length > 0) {
		const shown = m.failedLog.lines.length;
		out.push(
			`### Output of ${mdCode(m.failedLog.step)} ` +
				`(${shown === m.failedLog.total ? `all ${shown} lines` : `last ${shown} of ${m.failedLog.total} lines`} ` +
				`of ${mdCode(m.failedLog.file)})`,
			'',
			fenced(m.failedLog.lines),
			'',
		);
	}

	out.push('## Fixes applied', '');
	if (m.fixes.length === 0) out.push('None recorded in the journal for this run.');
	else {
		out.push('| when | finding | fix | what it changed | result | undone |', '|---|---|---|---|---|---|');
		for (const x of m.fixes) {
			const undone = x.undone
				? `yes, ${when(x.undone)}${x.change === 'rollout restart' ? ' (a restart has nothing to revert)' : ''}`
				: 'no';
			const result = x.verified === true ? `✓ ${x.result}` : x.verified === false ? `✗ ${x.result}` : x.result;
			out.push(
				`| ${when(x.at)} | ${mdCode(x.finding, true)} | ${mdCode(`[${x.key}]`, true)} ${mdText(x.title)} | ` +
					`${mdText(x.target)}${x.change ? `: ${mdText(x.change)}` : ''} | ${mdText(result)} | ${mdText(undone)} |`,
			);
		}
	}

	out.push('', '## Environment', '', '| | |', '|---|---|');
	for (const e of m.environment) out.push(`| ${mdText(e.label)} | ${mdText(e.value)} |`);
	if (m.images.length > 0) {
		out.push('', '| image | reference |', '|---|---|');
		for (const i of m.images) out.push(`| ${mdText(i.name)} | ${mdCode(i.ref, true)} |`);
	}

	out.push('', '## Evidence bundle', '');
	if (!m.bundle)
		out.push(
			m.result === 'ok'
				? 'None: a bundle is written only when a run fails.'
				: 'None: the run failed before there was a cluster to collect from.',
		);
	else {
		const total = m.bundle.files.reduce((a, f) => a + f.bytes, 0);
		out.push(
			`${mdCode(m.bundle.dir)}: ${m.bundle.files.length}${m.bundle.truncated ? '+' : ''} files, ` +
				`${bytes(total)} (listed, not copied here: they are the run's raw evidence and are not redacted)`,
			'',
			'| file | size |',
			'|---|---:|',
		);
		for (const f of m.bundle.files) out.push(`| ${mdCode(f.path, true)} | ${bytes(f.bytes)} |`);
	}

	if (!opts.chart)
		out.push('', '## Chart', '', 'The Gantt chart of the steps is written beside the report with `-o FILE`, or inline with `--html`.');
	if (m.notes.length > 0) out.push('', '## Notes', '', ...m.notes.map((n) => `- ${mdText(n)}`));
	return `${out.join('\n')}\n`;
}

/** The last line: how many values were redacted (never which), and what was looked for. */
export function redactionFooter(count: number, sources: string[]): string {
	const what =
		count === 0 ? 'No value needed redacting' : `${count} value${count === 1 ? ' was' : 's were'} redacted (shown as ‹redacted›)`;
	return (
		`\n---\n\n${what}. Looked for: values of keys, variables, flags and headers named like secrets; ` +
		`credentials in URLs; private keys${sources.length ? `; ${sources.map(mdText).join('; ')}` : ''}.\n`
	);
}
