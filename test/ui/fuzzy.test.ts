import {describe, expect, it} from 'vitest';
import {fuzzyFilter, subsequence} from '../../src/ui/fuzzy.js';
import {realKb} from '../helpers/kb.js';

const entries = [...realKb().kb.byId.values()];
const search = (q: string) =>
	fuzzyFilter(
		entries,
		q,
		(e) => [e.id, e.title],
		(e) => [e.summary, ...e.signals.map((s) => s.means)],
	).map((e) => e.id);

describe('the screens’ fuzzy filter', () => {
	it('finds the letters in order in a name (imgload → image-not-loaded), tightest and word starts first', () => {
		expect(search('imgload').slice(0, 2)).toContain('image-not-loaded');
		expect(search('lfstack')).toEqual(['go-runtime-lfstack-crash']);
		expect(search('oom').slice(0, 2).sort()).toEqual(['build-oom-killed', 'pod-oom-killed']);
		expect(subsequence('imgload', 'image-not-loaded')).toEqual({span: 14, wordStart: true});
		// Letters spread over a whole sentence are not a match.
		expect(subsequence('loded', 'The container is killed for exceeding its memory limit (OOMKilled)')).toBeUndefined();
	});

	it('a typo still finds its entry, and a short query does not match everything', () => {
		expect(search('loded')[0]).toBe('image-not-loaded');
		expect(search('loded').length).toBeLessThan(6);
		expect(search('imgae').slice(0, 2)).toContain('image-name-mismatch');
		expect(search('zzqx')).toEqual([]);
		expect(search('')).toHaveLength(entries.length);
	});
});
