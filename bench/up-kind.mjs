#!/usr/bin/env node
// `kdoctor up` of the demo through a real Kind cluster (the node image of test/world/kind-node.sh) beside the same
// run on the local cluster of test/cluster (existing provider), in one session, so the ratio holds on a shared machine.
// cold = a new cluster (kind: `kind create cluster`; existing: the namespace deleted and the demo images removed from
// the node), images already built (cache hits: both providers share that cost, measured in bench/up-cluster.mjs);
// warm = the same command again with everything in place (kind: --reuse). Writes bench/out/up-kind.json.
import {spawnSync} from 'node:child_process';
import {existingArgs, resetExistingDemo, runUp} from './up-run.mjs';
import {existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {cpus, tmpdir, totalmem} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const NODE_IMAGE = 'localhost/kdoctor-world/kind-node:v1.33.13';
const CLUSTER = 'kdoctor-demo';
const cache =
	process.env.KDOCTOR_WORLD_CACHE ??
	(process.getuid?.() === 0 ? '/var/cache/kdoctor-world' : join(process.env.HOME, '.cache/kdoctor-world'));
const kind = join(cache, 'bin', 'kind');
const clusterDir = process.env.KDOCTOR_CLUSTER_DIR ?? '/tmp/kdoctor-cluster';

function skip(why) {
	console.log(`up-kind bench skipped: ${why}`);
	process.exit(0);
}
if (!existsSync(kind)) skip(`the kind CLI is not built (test/world/kind.sh)`);
if (spawnSync('podman', ['image', 'exists', NODE_IMAGE]).status !== 0) skip(`${NODE_IMAGE} is not built (test/world/kind-node.sh)`);
const infoFile = join(clusterDir, 'cluster.json');
const info = existsSync(infoFile) ? JSON.parse(readFileSync(infoFile, 'utf8')) : undefined;

const kindEnv = {...process.env, KIND_EXPERIMENTAL_PROVIDER: 'podman'};
const deleteKind = () => spawnSync(kind, ['delete', 'cluster', '--name', CLUSTER], {env: kindEnv, stdio: 'ignore'});

const up = (state, args) => runUp(state, args, `${join(cache, 'bin')}:`);

const state = mkdtempSync(join(tmpdir(), 'kdoctor-bench-kind-'));
const kindArgs = ['--provider', 'kind', '--node-image', NODE_IMAGE];
try {
	// Images built once first, so neither provider's cold run pays for the builds.
	const prime = await up(state, ['--images-only']);
	if (!prime.ok) throw new Error('building the demo images failed');
	deleteKind();
	const kindCold = await up(state, kindArgs);
	const kindWarm = await up(state, [...kindArgs, '--reuse']);
	deleteKind();
	let existing;
	if (info) {
		await resetExistingDemo(info);
		const cold = await up(state, existingArgs(info));
		const warm = await up(state, existingArgs(info));
		existing = {cold, warm};
	}
	const result = {
		at: new Date().toISOString(),
		machine: {cpus: cpus().length, memGiB: Math.round(totalmem() / 2 ** 30)},
		kind: {cold: kindCold, warm: kindWarm},
		existing,
	};
	mkdirSync(join(root, 'bench/out'), {recursive: true});
	writeFileSync(join(root, 'bench/out/up-kind.json'), JSON.stringify(result, null, 2));
	const s = (r, id) =>
		r?.steps[id] ? `${(r.steps[id].ms / 1000).toFixed(1)} s${r.steps[id].state === 'done' ? '' : ` (${r.steps[id].state})`}` : '—';
	const runs = [kindCold, kindWarm, existing?.cold, existing?.warm];
	const ids = [...new Set(runs.flatMap((r) => (r ? Object.keys(r.steps) : [])))].filter((id) => !id.startsWith('build:'));
	console.log(`\n## kdoctor up, demo: real Kind (${NODE_IMAGE}) beside the local cluster (existing provider), ${cpus().length} CPUs\n`);
	console.log('| step | kind cold | kind warm | existing cold | existing warm |\n|---|---|---|---|---|');
	for (const id of ids) console.log(`| ${id} | ${runs.map((r) => s(r, id)).join(' | ')} |`);
	const whole = (r) => (r ? `**${(r.ms / 1000).toFixed(1)} s**${r.ok ? '' : ' (FAILED)'}` : '—');
	console.log(`| **whole run** | ${runs.map(whole).join(' | ')} |`);
	if (existing)
		console.log(
			`\nkind cold / existing cold = ${(kindCold.ms / existing.cold.ms).toFixed(2)}; kind warm / existing warm = ${(kindWarm.ms / existing.warm.ms).toFixed(2)}`,
		);
	if (runs.some((r) => r && !r.ok)) process.exitCode = 1;
} finally {
	rmSync(state, {recursive: true, force: true});
}
