/**
 * The rooms and what each may import (docs/architecture.md), checked on the source itself: engines in src/core reach
 * the world only through ports, adapters are the only users of execa and client-node, screens show text only through
 * the sanitising Text, and nothing imports in a circle.
 */
import {readdirSync, readFileSync, statSync} from 'node:fs';
import {dirname, join, relative, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import {describe, expect, it} from 'vitest';

const SRC = fileURLToPath(new URL('../src/', import.meta.url));
const files: string[] = [];
const walk = (d: string) => {
	for (const n of readdirSync(d)) {
		const p = join(d, n);
		if (statSync(p).isDirectory()) walk(p);
		else if (/\.tsx?$/.test(n) && !n.endsWith('.d.ts')) files.push(p);
	}
};
walk(SRC);

/** Every import of a file: static, re-export and dynamic. */
function importsOf(file: string): string[] {
	const text = readFileSync(file, 'utf8');
	const out: string[] = [];
	for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]/g)) out.push(m[1]!);
	for (const m of text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) out.push(m[1]!);
	return out;
}

const room = (file: string) => relative(SRC, file).split('/')[0]!;
const resolveLocal = (from: string, spec: string) => {
	const base = resolve(dirname(from), spec).replace(/\.js$/, '');
	return [`${base}.ts`, `${base}.tsx`].find((f) => files.includes(f));
};

describe('the rooms of src/', () => {
	it('src/core imports nothing from adapters, ui, commands, state or plain, and no process, file, network or terminal library', () => {
		const bad: string[] = [];
		for (const f of files.filter((x) => room(x) === 'core')) {
			for (const spec of importsOf(f)) {
				const local = spec.startsWith('.') ? resolveLocal(f, spec) : undefined;
				if (local && room(local) !== 'core') bad.push(`${relative(SRC, f)} → ${relative(SRC, local)}`);
				if (
					/^(?:node:)?(?:fs|fs\/promises|child_process|net|tls|http|https|http2|dgram|tty)$/.test(spec) ||
					/^(?:execa|@kubernetes\/client-node|ink|react|zustand)/.test(spec)
				)
					bad.push(`${relative(SRC, f)} → ${spec}`);
			}
		}
		expect(bad).toEqual([]);
	});

	it('one change service: only src/core/remediate/changes.ts writes journal entries or marks them undone', () => {
		const writers = files
			.filter((f) => /\.(?:record|markUndone)\(/.test(readFileSync(f, 'utf8').replace(/this\.record\(|z\.record\(/g, '')))
			.map((f) => relative(SRC, f))
			// The journal adapter implements the port; the port declares it.
			.filter((f) => f !== 'adapters/journal.ts' && f !== 'core/ports.ts');
		expect(writers).toEqual(['core/remediate/changes.ts']);
	});

	it('the layers point one way: commands, state, adapters and plain never import the screens; adapters never the commands or the store', () => {
		const rules: [string, string[]][] = [
			['commands', ['ui']],
			['state', ['ui', 'commands', 'adapters']],
			['adapters', ['ui', 'commands', 'state', 'plain']],
			['plain', ['ui', 'commands', 'state', 'adapters']],
		];
		const bad: string[] = [];
		for (const [from, not] of rules)
			for (const f of files.filter((x) => room(x) === from))
				for (const spec of importsOf(f)) {
					const local = spec.startsWith('.') ? resolveLocal(f, spec) : undefined;
					if (local && not.includes(room(local))) bad.push(`${relative(SRC, f)} → ${relative(SRC, local)}`);
				}
		expect(bad).toEqual([]);
	});

	it('only src/adapters imports execa and @kubernetes/client-node (type-only imports of client-node types included)', () => {
		const bad = files
			.filter((f) => room(f) !== 'adapters' && importsOf(f).some((s) => s === 'execa' || s.startsWith('@kubernetes/client-node')))
			.map((f) => relative(SRC, f));
		expect(bad).toEqual([]);
	});

	it("the screens show text only through components/text.tsx (which makes every control character visible), never Ink's Text directly", () => {
		const bad = files
			.filter(
				(f) =>
					room(f) === 'ui' &&
					!f.endsWith('components/text.tsx') &&
					/import\s*\{[^}]*\bText\b[^}]*\}\s*from\s*'ink'/.test(readFileSync(f, 'utf8')),
			)
			.map((f) => relative(SRC, f));
		expect(bad).toEqual([]);
	});

	it('nothing in src/ imports in a circle', () => {
		const graph = new Map(
			files.map((f) => [
				f,
				importsOf(f)
					.filter((s) => s.startsWith('.'))
					.map((s) => resolveLocal(f, s))
					.filter((x): x is string => Boolean(x)),
			]),
		);
		const cycles: string[] = [];
		const state = new Map<string, 'open' | 'done'>();
		const stack: string[] = [];
		const visit = (f: string) => {
			if (state.get(f) === 'done') return;
			if (state.get(f) === 'open') {
				cycles.push([...stack.slice(stack.indexOf(f)), f].map((x) => relative(SRC, x)).join(' → '));
				return;
			}
			state.set(f, 'open');
			stack.push(f);
			for (const g of graph.get(f) ?? []) visit(g);
			stack.pop();
			state.set(f, 'done');
		};
		for (const f of files) visit(f);
		expect(cycles).toEqual([]);
		// The graph is real: the check would see a cycle if there were one.
		expect([...graph.values()].reduce((n, e) => n + e.length, 0)).toBeGreaterThan(200);
	});
});
