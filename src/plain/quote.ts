/** Shows an argv the way a shell user would type it; display only, never executed as a string. */
export function quoteArg(a: string): string {
	return /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}
