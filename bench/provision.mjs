#!/usr/bin/env node
// Real Podman builds of the demo's two Go services inside one memory cgroup — the stand-in for a podman
// machine VM too small for two builds at once — run three ways in the same session: all parallel (the
// hand-written harness), all sequential, and kdoctor's schedule (fresh history, then learned), plus a second
// kdoctor run with nothing changed. Writes bench/out/provision.json and prints a Markdown table.
import {spawn, spawnSync} from 'node:child_process';
import {existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, rmdirSync} from 'node:fs';
import {cpus, tmpdir, totalmem} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(root, 'dist/bin/cli.js');
const BUDGET_MIB = Number(process.env.BENCH_BUDGET_MIB ?? 350);
const CG_NAME = 'kdoctor-bench';
const MEMROOT = '/sys/fs/cgroup/memory';
const WORLD = {builder: 'localhost/kdoctor-world/go-toolset:1', runtime: 'localhost/kdoctor-world/ubi-minimal:1'};
const IMAGES = [
	{name: 'gateway', dockerfile: 'dockerfiles/gateway.Dockerfile'},
	{name: 'datastorage', dockerfile: 'dockerfiles/datastorage.Dockerfile'},
];

function skip(why) {
	console.log(`provision bench skipped: ${why}`);
	process.exit(0);
}
if (spawnSync('podman', ['--version']).status !== 0) skip('podman is not installed (test/world/setup.sh installs it)');
for (const img of Object.values(WORLD))
	if (spawnSync('podman', ['image', 'exists', img]).status !== 0) skip(`${img} is missing (run test/world/setup.sh)`);
if (!existsSync(join(MEMROOT, 'memory.limit_in_bytes')))
	skip('needs cgroup v1 memory accounting at /sys/fs/cgroup/memory (the budget stand-in)');

/** The budget cgroup: every build below it shares BUDGET_MIB, and the kernel OOM-kills what does not fit. */
function makeBudget() {
	const dir = join(MEMROOT, CG_NAME);
	mkdirSync(dir, {recursive: true});
	const bytes = String(BUDGET_MIB * 1024 * 1024);
	// memsw must be raised first when lowering is not the case; write memory first, then memsw (swap off for the cap).
	writeFileSync(join(dir, 'memory.limit_in_bytes'), bytes);
	try {
		writeFileSync(join(dir, 'memory.memsw.limit_in_bytes'), bytes);
	} catch {
		// No swap accounting on this kernel: the memory limit alone caps the builds.
	}
	return dir;
}

function cleanupCgroups(dir) {
	spawnSync('sh', ['-c', `find ${dir} -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null; true`]);
}

const buildArgs = ['--build-arg', `BUILDER_IMAGE=${WORLD.builder}`, '--build-arg', `RUNTIME_IMAGE=${WORLD.runtime}`];

/** One plain `podman build --no-cache` in its own child cgroup of the budget, as the harness would run it. */
function podmanBuild(img, tag) {
	return new Promise((resolve) => {
		const sub = `${CG_NAME}/${tag}-${img.name}`;
		mkdirSync(join(MEMROOT, sub), {recursive: true});
		const started = Date.now();
		const child = spawn(
			'podman',
			[
				'build',
				'--no-cache',
				`--cgroup-parent=/${sub}/run`,
				'-t',
				`localhost/kdoctor-bench/${img.name}:${tag}`,
				'-f',
				join(root, img.dockerfile),
				...buildArgs,
				join(root, 'demo'),
			],
			{stdio: ['ignore', 'pipe', 'pipe']},
		);
		let out = '';
		child.stdout.on('data', (d) => (out += d));
		child.stderr.on('data', (d) => (out += d));
		child.on('close', (code) => {
			let peak;
			try {
				peak = Math.round(Number(readFileSync(join(MEMROOT, sub, 'memory.max_usage_in_bytes'), 'utf8')) / 2 ** 20);
			} catch {}
			resolve({
				name: img.name,
				ok: code === 0,
				ms: Date.now() - started,
				peakMiB: peak,
				killed: /signal: killed/.test(out),
				last: out.trim().split('\n').filter(Boolean).at(-1),
			});
		});
	});
}

async function allParallel() {
	const started = Date.now();
	const r = await Promise.all(IMAGES.map((i) => podmanBuild(i, 'par')));
	return {ms: Date.now() - started, builds: r};
}

async function allSequential() {
	const started = Date.now();
	const r = [];
	for (const i of IMAGES) r.push(await podmanBuild(i, 'seq'));
	return {ms: Date.now() - started, builds: r};
}

/** kdoctor up --images-only on a profile of the two builds, with the budget cgroup as its engine's memory. */
function kdoctor(stateDir, extra) {
	const started = Date.now();
	const r = spawnSync(
		'node',
		[CLI, '--config', join(stateDir, 'kdoctor.yaml'), 'up', '--profile', 'bench', '--images-only', '--json', ...buildArgs, ...extra],
		{
			env: {...process.env, KDOCTOR_STATE_DIR: stateDir, KDOCTOR_ENGINE_CGROUP: `/${CG_NAME}`, CI: ''},
			encoding: 'utf8',
			maxBuffer: 256 * 1024 * 1024,
		},
	);
	const ms = Date.now() - started;
	const events = r.stdout
		.split('\n')
		.filter(Boolean)
		.map((l) => JSON.parse(l));
	const ends = events.filter((e) => e.type === 'step-end' && e.id.startsWith('build:'));
	const retries = events.filter((e) => e.type === 'step-retry');
	const start = events.find((e) => e.type === 'run-start');
	const end = events.find((e) => e.type === 'run-end');
	return {
		ms,
		exit: r.status,
		ok: end?.ok === true,
		budgetMiB: start?.budgetMiB,
		budgetSource: start?.budgetSource,
		retries: retries.map((x) => ({id: x.id, memoryMiB: x.memoryMiB})),
		builds: ends.map((e) => ({id: e.id, state: e.state, ms: e.durationMs, peakMiB: e.peakMiB, note: e.note})),
		plannedMiB: start?.steps.filter((s) => s.kind === 'build').map((s) => ({id: s.id, memoryMiB: s.memoryMiB, source: s.memorySource})),
		stderr: r.stderr.trim().split('\n').at(-1),
	};
}

const budgetDir = makeBudget();
const stateDir = mkdtempSync(join(tmpdir(), 'kdoctor-bench-'));
// The bench profile: the demo's two Go builds with a first-run estimate far below the truth (150 MiB), so
// the first kdoctor run believes both fit, gets one killed for real, re-runs it alone and learns the peak.
writeFileSync(
	join(stateDir, 'kdoctor.yaml'),
	`profiles:
  bench:
    source: ${root}
    namespace: bench
    images:
${IMAGES.map((i) => `      - {name: ${i.name}, repository: kdoctor-bench/${i.name}, dockerfile: ${i.dockerfile}, context: demo, memoryMiB: 150}`).join('\n')}
    cluster: {name: bench}
    deploy:
      - {id: all, files: [manifests/demo/gateway.yaml]}
`,
);

const results = {
	machine: `${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
	date: new Date().toISOString(),
	budgetMiB: BUDGET_MIB,
};
try {
	console.error('provision bench: all parallel…');
	results.parallel = await allParallel();
	cleanupCgroups(budgetDir);
	console.error('provision bench: all sequential…');
	results.sequential = await allSequential();
	cleanupCgroups(budgetDir);
	console.error('provision bench: kdoctor, first run (no history)…');
	results.kdoctorFresh = kdoctor(stateDir, ['--rebuild']);
	console.error('provision bench: kdoctor, learned peaks…');
	results.kdoctorLearned = kdoctor(stateDir, ['--rebuild']);
	console.error('provision bench: kdoctor, nothing changed…');
	results.kdoctorCached = kdoctor(stateDir, []);
} finally {
	cleanupCgroups(budgetDir);
	try {
		rmdirSync(budgetDir);
	} catch {}
	spawnSync('sh', [
		'-c',
		'podman images --format "{{.Repository}}:{{.Tag}}" | grep "^localhost/kdoctor-bench/" | xargs -r podman rmi -f >/dev/null 2>&1; podman image prune -f >/dev/null 2>&1; true',
	]);
	rmSync(stateDir, {recursive: true, force: true});
}

mkdirSync(join(root, 'bench/out'), {recursive: true});
writeFileSync(join(root, 'bench/out/provision.json'), `${JSON.stringify(results, null, 2)}\n`);
const s = (ms) => `${(ms / 1000).toFixed(1)} s`;
const builds = (r) =>
	r.builds
		.map(
			(b) =>
				`${b.name ?? b.id} ${b.ok === false || b.state === 'failed' ? (b.killed ? 'OOM-killed' : 'failed') : b.state === 'skipped' ? 'skipped (cached)' : 'ok'}${b.peakMiB ? ` (peak ${b.peakMiB} MiB)` : ''}`,
		)
		.join('; ');
console.log(`\n### Real builds under a ${BUDGET_MIB} MiB budget (${results.machine}, ${results.date})\n`);
console.log('| strategy | wall time | result | builds |');
console.log('|---|---|---|---|');
console.log(
	`| all parallel (podman build ×2 at once) | ${s(results.parallel.ms)} | ${results.parallel.builds.every((b) => b.ok) ? 'ok' : 'FAILED'} | ${builds(results.parallel)} |`,
);
console.log(
	`| all sequential | ${s(results.sequential.ms)} | ${results.sequential.builds.every((b) => b.ok) ? 'ok' : 'FAILED'} | ${builds(results.sequential)} |`,
);
for (const [label, r] of [
	['kdoctor, first run (estimate 150 MiB each)', results.kdoctorFresh],
	['kdoctor, learned peaks', results.kdoctorLearned],
	['kdoctor, nothing changed', results.kdoctorCached],
]) {
	const retry = r.retries.length
		? `; ${r.retries.length} OOM re-run alone (${r.retries.map((x) => `${x.id} at ${x.memoryMiB} MiB`).join(', ')})`
		: '';
	console.log(
		`| ${label} | ${s(r.ms)} | ${r.ok ? 'ok' : `FAILED (exit ${r.exit}: ${r.stderr})`} | planned ${r.plannedMiB?.map((p) => `${p.memoryMiB} MiB ${p.source}`).join(', ')}; ${builds(r)}${retry} |`,
	);
}
