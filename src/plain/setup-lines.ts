import {GROUP_TITLES, type CheckGroup, type CheckResult, type CheckStatus} from '../core/setup/types.js';
import {verdict} from '../core/setup/checks.js';
import type {Paint} from './format.js';
import {quoteArg} from './quote.js';

/** flutter doctor's marks: everyone who has run a doctor tool reads them at a glance. */
export const MARK: Record<CheckStatus, string> = {ok: '✓', warning: '!', failed: '✗', unknown: '?'};
export const STATUS_WORD: Record<CheckStatus, string> = {ok: 'ok', warning: 'warning', failed: 'failed', unknown: 'could not check'};

export function commandText(argv: string[]): string {
	return argv.map(quoteArg).join(' ');
}

/** What a fix would do, as lines: the exact commands (or the file it edits) and whether it can be undone. */
export function fixLines(r: CheckResult): string[] {
	const f = r.fix;
	if (!f) return r.hint ? [`how: ${r.hint}`] : [];
	const lines = [`fix [${f.key}] ${f.title}${f.destructive ? ' (asks first: it cannot be taken back lightly)' : ''}`];
	for (const c of f.commands ?? []) lines.push(`  $ ${commandText(c)}`);
	if (f.edit)
		lines.push(
			`  edits ${f.edit.file} line ${f.edit.lines.join(', ')} (the KB's ${f.edit.finding} [${f.edit.key}] fix; kdoctor undo restores it)`,
		);
	if (f.warning) lines.push(`  note: ${f.warning}`);
	if (f.undo) lines.push(`  undo: kdoctor undo runs ${f.undo.map(commandText).join('; ')}`);
	else if (f.noUndo) lines.push(`  undo: none (${f.noUndo})`);
	if (r.hint) lines.push(`  or: ${r.hint}`);
	return lines;
}

/** The plain report: one line per check under its group, the fix or the way to do it by hand, and the verdict. */
export function setupText(results: CheckResult[], head: string, paint: Paint, verbose = false): string {
	const colour: Record<CheckStatus, (s: string) => string> = {
		ok: paint.green,
		warning: paint.yellow,
		failed: paint.red,
		unknown: paint.yellow,
	};
	let out = `${paint.bold(head)}\n`;
	let group: CheckGroup | undefined;
	for (const r of results) {
		if (r.group !== group) {
			group = r.group;
			out += `\n${paint.bold(GROUP_TITLES[group])}\n`;
		}
		out += `  ${colour[r.status](`[${MARK[r.status]}]`)} ${r.title}: ${r.summary}\n`;
		if (verbose) for (const d of r.details) out += `      ${paint.dim(d)}\n`;
		if (r.status !== 'ok') for (const l of fixLines(r)) out += `      ${l.startsWith('fix') ? paint.cyan(l) : l}\n`;
	}
	const v = verdict(results);
	const parts = [`${v.failed} failed`, `${v.warnings} warning${v.warnings === 1 ? '' : 's'}`, `${v.unknown} could not be checked`];
	out += `\n${v.ready ? paint.green('Ready') : v.failed > 0 ? paint.red('Not ready') : paint.yellow('Not sure')}: ${parts.join(', ')}.`;
	const keys = results.filter((r) => r.fix && r.status !== 'ok');
	if (keys.length > 0) out += ` Apply a fix with: kdoctor setup --fix ${keys[0]!.fix!.key} (preview) and --yes (apply).`;
	return `${out}\n`;
}
