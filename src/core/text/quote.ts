/** Shows an argv word the way a shell user would type it; display only, never executed as a string. */
export function quoteArg(a: string): string {
	return /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}

/** A command line for a person to copy, quoted word by word from its argv. */
export function shellLine(argv: readonly string[]): string {
	return argv.map(quoteArg).join(' ');
}

/** Text as a regex that matches exactly it (every metacharacter escaped). */
export function escapeRegExp(s: string): string {
	return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
