#!/usr/bin/env node
// `kdoctor up` of the demo on the local cluster of test/cluster (existing provider), cold then warm, in one session:
// cold = every image rebuilt with --no-cache (--rebuild), removed from the node first so every load runs, the
// namespace deleted so every object is created and every pod starts, no history; warm = the same command again with
// everything in place. Writes bench/out/up-cluster.json and prints a Markdown table.
import {spawnSync} from 'node:child_process';
import {existingArgs, resetExistingDemo, runUp} from './up-run.mjs';
import {existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {cpus, tmpdir, totalmem} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const clusterDir = process.env.KDOCTOR_CLUSTER_DIR ?? '/tmp/kdoctor-cluster';

function skip(why) {
	console.log(`up-cluster bench skipped: ${why}`);
	process.exit(0);
}
const infoFile = join(clusterDir, 'cluster.json');
if (!existsSync(infoFile)) skip(`the local cluster is not up (npm run cluster:up starts it; ${infoFile} is missing)`);
const info = JSON.parse(readFileSync(infoFile, 'utf8'));
if (spawnSync('podman', ['image', 'exists', 'localhost/kdoctor-world/go-toolset:1']).status !== 0)
	skip('the test world is missing (run test/world/setup.sh)');

const up = (state, extra) => runUp(state, [...existingArgs(info), ...extra]);

const state = mkdtempSync(join(tmpdir(), 'kdoctor-bench-up-'));
try {
	const removed = await resetExistingDemo(info);
	const cold = await up(state, ['--rebuild']);
	const warm = await up(state, []);
	const result = {
		at: new Date().toISOString(),
		machine: {cpus: cpus().length, memGiB: Math.round(totalmem() / 2 ** 30), kubernetes: info.version, kubelet: info.kubelet},
		removedFromNode: removed,
		cold,
		warm,
	};
	mkdirSync(join(root, 'bench/out'), {recursive: true});
	writeFileSync(join(root, 'bench/out/up-cluster.json'), JSON.stringify(result, null, 2));
	const s = (r, id) =>
		r.steps[id] ? `${(r.steps[id].ms / 1000).toFixed(1)} s${r.steps[id].state === 'done' ? '' : ` (${r.steps[id].state})`}` : '—';
	const ids = [...new Set([...Object.keys(cold.steps), ...Object.keys(warm.steps)])];
	console.log(`\n## kdoctor up, demo on the local cluster (${info.version}, ${info.kubelet}), ${cpus().length} CPUs\n`);
	console.log('| step | cold | warm |\n|---|---|---|');
	for (const id of ids) console.log(`| ${id} | ${s(cold, id)} | ${s(warm, id)} |`);
	console.log(
		`| **whole run** | **${(cold.ms / 1000).toFixed(1)} s** ${cold.ok ? '' : '(FAILED)'} | **${(warm.ms / 1000).toFixed(1)} s** ${warm.ok ? '' : '(FAILED)'} |`,
	);
	console.log(`\nwarm / cold = ${(warm.ms / cold.ms).toFixed(3)}`);
	if (!cold.ok || !warm.ok) process.exitCode = 1;
} finally {
	rmSync(state, {recursive: true, force: true});
}
