import Fuse from 'fuse.js';

/**
 * The tightest place the query's letters occur in order in the text (fzf-style), or undefined: its span and whether
 * it starts a word. A match spread over a whole sentence is no match: the span may be at most twice the query plus 4.
 */
export function subsequence(query: string, text: string): {span: number; wordStart: boolean} | undefined {
	const q = query.toLowerCase();
	const t = text.toLowerCase();
	if (!q) return {span: 0, wordStart: true};
	let best: {span: number; wordStart: boolean} | undefined;
	for (let start = t.indexOf(q[0]!); start !== -1; start = t.indexOf(q[0]!, start + 1)) {
		let at = start;
		let ok = true;
		for (let i = 1; i < q.length; i++) {
			at = t.indexOf(q[i]!, at + 1);
			if (at === -1) {
				ok = false;
				break;
			}
		}
		if (!ok) break;
		const span = at - start + 1;
		const wordStart = start === 0 || /[\s\-_/.:(]/.test(t[start - 1]!);
		if (!best || span < best.span || (span === best.span && wordStart && !best.wordStart)) best = {span, wordStart};
	}
	return best && best.span <= q.length * 2 + 4 ? best : undefined;
}

/**
 * A filter that finds what a person typed: the letters in order in a name or title (`imgload` finds
 * image-not-loaded, tightest first, word starts first); only when nothing matches so, a typo-tolerant search that
 * also reads the longer text (`loded`, `imgae`), kept strict enough that a short query does not match everything.
 */
export function fuzzyFilter<T>(items: T[], query: string, names: (t: T) => string[], more: (t: T) => string[] = () => []): T[] {
	const q = query.trim();
	if (!q) return items;
	const scored = items.flatMap((item, i) => {
		const hits = names(item)
			.map((n) => subsequence(q, n))
			.filter((h): h is NonNullable<typeof h> => h !== undefined);
		if (hits.length === 0) return [];
		const score = Math.max(...hits.map((h) => (h.wordStart ? 3 : 0) - (h.span - q.length)));
		return [{item, score, i}];
	});
	if (scored.length > 0) return scored.sort((a, b) => b.score - a.score || a.i - b.i).map((s) => s.item);
	const fuse = new Fuse(
		items.map((item) => ({item, names: names(item).join(' '), more: more(item).join(' ')})),
		{keys: [{name: 'names', weight: 3}, 'more'], threshold: 0.3, ignoreLocation: true, minMatchCharLength: 2},
	);
	return fuse.search(q).map((r) => r.item.item);
}
