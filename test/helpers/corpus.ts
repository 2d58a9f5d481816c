import {readFileSync} from 'node:fs';
import {parse} from 'yaml';
import type {LabelledCase} from '../../src/core/kb/evaluate.js';

type Row = {id: string; category: string; is_negative: boolean; symptom: string};

/** The 68 real cases copied from the shared corpus, labelled with the KB id each should rank first. */
export function corpusCases(): LabelledCase[] {
	const dir = new URL('../fixtures/corpus/', import.meta.url);
	const expected = parse(readFileSync(new URL('expected.yaml', dir), 'utf8')) as Record<string, string>;
	const rows = readFileSync(new URL('kubernaut-dev.jsonl', dir), 'utf8')
		.split('\n')
		.filter(Boolean)
		.map((l) => JSON.parse(l) as Row);
	return rows.map((r) => {
		if (!r.is_negative && !expected[r.category]) throw new Error(`no expected id for corpus category ${r.category}`);
		return {id: r.id, text: r.symptom, expected: r.is_negative ? undefined : expected[r.category], negative: r.is_negative};
	});
}
