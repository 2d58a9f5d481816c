/**
 * Text that others wrote (logs, pod output, events, file names, run folders) is shown, never obeyed: every character
 * a terminal would act on becomes visible text. ESC is `\e`, CR `\r`, other C0 controls `\xNN`, DEL, C1 controls and
 * bidi overrides `\uNNNN` (a form that is also a valid escape inside a JSON string). Newline and tab are kept.
 */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/g;
// eslint-disable-next-line no-control-regex
const UNSAFE_TEST = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/;

function show(c: string): string {
	const code = c.charCodeAt(0);
	if (code === 0x1b) return '\\e';
	if (code === 0x0d) return '\\r';
	if (code < 0x20) return `\\x${code.toString(16).padStart(2, '0')}`;
	return `\\u${code.toString(16).padStart(4, '0')}`;
}

/** Foreign text made safe to print: control characters shown as text (fast path: unchanged when there are none). */
export function visible(s: string): string {
	return UNSAFE_TEST.test(s) ? s.replace(UNSAFE, show) : s;
}

/** True when s holds a character visible() would rewrite. */
export function hasControl(s: string): boolean {
	return UNSAFE_TEST.test(s);
}

// kdoctor's own colours: SGR sequences only (ESC [ digits ; … m). Everything else that starts with ESC is shown as text.
// eslint-disable-next-line no-control-regex
const OUTPUT = /\u001B\[[0-9;]*m|[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/g;

/**
 * The last guard before a terminal or a pipe: kdoctor's own colour codes pass, every other control character is
 * shown as text. Applied to everything kdoctor writes as plain output, so a path or message that escaped visible()
 * upstream still cannot move the cursor, set the title or write the clipboard.
 */
export function terminalSafe(s: string): string {
	if (!UNSAFE_TEST.test(s)) return s;
	return s.replace(OUTPUT, (m) => (m.length > 1 ? m : show(m)));
}
