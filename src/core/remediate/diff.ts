/** A unified diff of two texts that differ line-for-line (the shape every kdoctor edit has). */
export function unifiedDiff(path: string, before: string, after: string, context = 3): string {
	// A final newline ends the last line; it does not start an empty one.
	const a = (before.endsWith('\n') ? before.slice(0, -1) : before).split('\n');
	const b = (after.endsWith('\n') ? after.slice(0, -1) : after).split('\n');
	const header = `--- a/${path}\n+++ b/${path}\n`;
	if (a.length !== b.length)
		return (
			header + `@@ -1,${a.length} +1,${b.length} @@\n` + a.map((l) => `-${l}`).join('\n') + '\n' + b.map((l) => `+${l}`).join('\n') + '\n'
		);
	const changed: number[] = [];
	for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) changed.push(i);
	if (changed.length === 0) return '';
	const hunks: [number, number][] = [];
	for (const i of changed) {
		const start = Math.max(0, i - context);
		const end = Math.min(a.length - 1, i + context);
		const last = hunks[hunks.length - 1];
		if (last && start <= last[1] + 1) last[1] = end;
		else hunks.push([start, end]);
	}
	let out = header;
	for (const [start, end] of hunks) {
		const len = end - start + 1;
		out += `@@ -${start + 1},${len} +${start + 1},${len} @@\n`;
		for (let i = start; i <= end; i++) {
			if (a[i] === b[i]) out += ` ${a[i]}\n`;
			else out += `-${a[i]}\n+${b[i]}\n`;
		}
	}
	return out;
}
