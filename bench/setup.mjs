#!/usr/bin/env node
// kdoctor setup on this machine: every check at once (what `kdoctor setup` does) against the same checks one after
// another, alternating in one session so both see the same machine; plus the cost of a whole `kdoctor setup --json`
// process. Writes bench/out/setup.json and prints a Markdown table.
import {spawnSync} from 'node:child_process';
import {mkdirSync, writeFileSync} from 'node:fs';
import {cpus, totalmem} from 'node:os';
import {fileURLToPath} from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const ROUNDS = Number(process.env.BENCH_SETUP_ROUNDS ?? 7);
const {loadCompiledKb} = await import(`${root}dist/commands/context.js`);
const {setupInput} = await import(`${root}dist/commands/setup.js`);
const {runChecks} = await import(`${root}dist/core/setup/checks.js`);
const kb = await loadCompiledKb({});

const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const times = {concurrent: [], sequential: []};
let checks = 0;
for (let i = 0; i < ROUNDS; i++) {
	for (const mode of i % 2 === 0 ? ['concurrent', 'sequential'] : ['sequential', 'concurrent']) {
		// A fresh adapter each time: nothing is remembered from the previous round.
		const input = setupInput(kb, {profile: 'demo'});
		const t = performance.now();
		const r = await runChecks(input, undefined, {sequential: mode === 'sequential'});
		times[mode].push(performance.now() - t);
		checks = r.length;
	}
}
const proc = [];
for (let i = 0; i < 3; i++) {
	const t = performance.now();
	spawnSync(process.execPath, [`${root}dist/bin/cli.js`, 'setup', '--json'], {encoding: 'utf8'});
	proc.push(performance.now() - t);
}
const res = {
	machine: `${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
	date: new Date().toISOString(),
	rounds: ROUNDS,
	results: checks,
	concurrentMs: Math.round(median(times.concurrent)),
	sequentialMs: Math.round(median(times.sequential)),
	processMs: Math.round(median(proc)),
};
mkdirSync(`${root}bench/out`, {recursive: true});
writeFileSync(`${root}bench/out/setup.json`, `${JSON.stringify({...res, times}, null, 2)}\n`);
console.log(`\n### kdoctor setup (profile demo, ${res.results} results, median of ${ROUNDS} alternating rounds)\n`);
console.log('| what | time |\n|---|---|');
console.log(`| every check at once (kdoctor setup) | ${res.concurrentMs} ms |`);
console.log(`| the same checks one after another | ${res.sequentialMs} ms |`);
console.log(`| speed-up | ${(res.sequentialMs / res.concurrentMs).toFixed(1)}× |`);
console.log(`| a whole \`kdoctor setup --json\` process | ${res.processMs} ms |`);
