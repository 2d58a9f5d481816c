/** The repository's style is the formatter's (prettier, .prettierrc.json): every source, test and bench file is formatted. */
import {readdirSync, readFileSync, statSync} from 'node:fs';
import {join, relative} from 'node:path';
import {fileURLToPath} from 'node:url';
import * as prettier from 'prettier';
import {expect, it} from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const files: string[] = [];
const walk = (d: string) => {
	for (const n of readdirSync(d)) {
		const p = join(d, n);
		if (n === 'node_modules' || n === 'fixtures' || n === 'out') continue;
		if (statSync(p).isDirectory()) walk(p);
		else if (/\.(?:ts|tsx|mjs)$/.test(n)) files.push(p);
	}
};
for (const d of ['src', 'test', 'bench']) walk(join(ROOT, d));

it('every file of src, test and bench is as prettier formats it', async () => {
	const unformatted: string[] = [];
	for (const f of files) {
		const options = {...(await prettier.resolveConfig(f)), filepath: f};
		if (!(await prettier.check(readFileSync(f, 'utf8'), options))) unformatted.push(relative(ROOT, f));
	}
	expect(unformatted, 'run npx prettier --write src test bench').toEqual([]);
	expect(files.length).toBeGreaterThan(100);
}, 120_000);

it('no line of src is over 140 characters (the formatter cannot break a long string or comment: they are split by hand)', () => {
	const long = files
		.filter((f) => relative(ROOT, f).startsWith('src'))
		.flatMap((f) =>
			readFileSync(f, 'utf8')
				.split('\n')
				.flatMap((l, i) => (l.length > 140 ? [`${relative(ROOT, f)}:${i + 1} (${l.length})`] : [])),
		);
	expect(long).toEqual([]);
});
