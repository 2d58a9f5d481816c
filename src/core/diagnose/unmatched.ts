import {visible} from '../text/visible.js';

/** A line that looks like the failure, when no known cause matched: its number and its text (inert). */
export type UnmatchedLine = {line: number; text: string; why: 'first error' | 'last error' | 'before the exit'};

// eslint-disable-next-line no-control-regex
export const ANSI = /\u001B\[[0-9;?]*[ -/]*[@-~]/g;
/** Words a failing line says in any tool's language; INFO/DEBUG lines are not failures even when they quote one. */
const ERROR_WORDS = [
	'error|fatal|failed|failure|panic|exception|traceback|killed|denied|refused|timed out|timeout',
	"cannot|can't|unable to|not found|no such|invalid|forbidden|unauthorized|exit (?:code|status) [1-9]\\d*",
];
export const ERRORISH = new RegExp(String.raw`\b(?:${ERROR_WORDS.join('|')})\b`, 'i');
const QUIET = /^\s*(?:\S+\s+)?(?:\[?(?:INFO|DEBUG|TRACE)\]?\b|level=(?:info|debug)\b|"level":\s*"(?:info|debug)")/i;
const EXIT_WORDS = [
	'exit (?:code|status)|exited with code|returned a non-zero code|Process completed with exit code',
	'Error: Job failed|make: \\*\\*\\*|npm ERR! code|command terminated with exit code',
];
const EXIT = new RegExp(String.raw`\b(?:${EXIT_WORDS.join('|')})\b`, 'i');
const MAX_TEXT = 400;

function clean(s: string): string {
	const t = s.replace(/\r$/, '').replace(ANSI, '');
	return visible(t.length > MAX_TEXT ? `${t.slice(0, MAX_TEXT)}…` : t);
}

/**
 * The lines that look most like the failure, from the start and the end of the input: the first error, the last
 * error, and the line before the exit. Line numbers of the end are counted back from the total.
 */
export function unmatchedLines(head: Buffer, tail: Buffer, totalLines: number, bytes: number): UnmatchedLine[] {
	const headLines = head.toString('utf8').split('\n');
	// A head that is the whole input already holds every line.
	const whole = head.length >= bytes;
	if (!whole && head.length > 0 && head[head.length - 1] !== 10) headLines.pop();
	const tailText = tail.toString('utf8');
	let tailLines = whole ? headLines : tailText.split('\n');
	if (tailText.endsWith('\n') && !whole) tailLines = tailLines.slice(0, -1);
	if (whole && headLines.at(-1) === '') headLines.pop();
	const tailFirst = whole ? 1 : totalLines - tailLines.length + 1;
	// The tail window may start mid-line: its first line is not trusted.
	const fromTail = whole ? tailLines.map((t, i) => ({n: i + 1, t})) : tailLines.slice(1).map((t, i) => ({n: tailFirst + 1 + i, t}));
	const isError = (t: string) => ERRORISH.test(t) && !QUIET.test(t);
	const out: UnmatchedLine[] = [];
	const first = headLines.findIndex(isError);
	if (first >= 0) out.push({line: first + 1, text: clean(headLines[first]!), why: 'first error'});
	for (let i = fromTail.length - 1; i >= 0; i--) {
		if (isError(fromTail[i]!.t)) {
			if (!out.some((o) => o.line === fromTail[i]!.n)) out.push({line: fromTail[i]!.n, text: clean(fromTail[i]!.t), why: 'last error'});
			break;
		}
	}
	for (let i = fromTail.length - 1; i > 0; i--) {
		if (!EXIT.test(fromTail[i]!.t)) continue;
		let j = i - 1;
		while (j >= 0 && fromTail[j]!.t.trim() === '') j--;
		if (j >= 0 && !out.some((o) => o.line === fromTail[j]!.n))
			out.push({line: fromTail[j]!.n, text: clean(fromTail[j]!.t), why: 'before the exit'});
		break;
	}
	return out.sort((a, b) => a.line - b.line);
}
