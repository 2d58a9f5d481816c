import {spawn, spawnSync} from 'node:child_process';
import {existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {afterAll, beforeAll, expect, it} from 'vitest';
import type {RunEvent} from '../src/core/provision/events.js';
import {CLI, runCli} from './helpers/cli.js';
import {kindBinary, needsWorld, WORLD_IMAGES} from './helpers/world.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const WORLD_ARGS = [
	'--build-arg',
	`BUILDER_IMAGE=${WORLD_IMAGES.goToolset}`,
	'--build-arg',
	`RUNTIME_IMAGE=${WORLD_IMAGES.ubiMinimal}`,
	'--build-arg',
	'BASE_IMAGE=localhost/kdoctor-world/debian-data:1',
];
const events = (stdout: string): RunEvent[] =>
	stdout
		.split('\n')
		.filter(Boolean)
		.map((l) => JSON.parse(l) as RunEvent);
const ends = (ev: RunEvent[]) =>
	Object.fromEntries(
		ev.filter((e) => e.type === 'step-end').map((e) => [(e as {id: string}).id, e as Extract<RunEvent, {type: 'step-end'}>]),
	);

let state: string;
let env: Record<string, string>;
beforeAll(() => {
	state = mkdtempSync(join(tmpdir(), 'kdoctor-up-'));
	const kind = kindBinary();
	env = {KDOCTOR_STATE_DIR: state, PATH: `${kind ? join(kind, '..') : ''}:${process.env.PATH}:/usr/local/go/bin`};
});
afterAll(() => rmSync(state, {recursive: true, force: true}));

it('prints the plan without running anything: steps, dependencies, memory and the expected schedule', async () => {
	const r = await runCli(['up', '--plan', '--memory', '2048', '--build-arg', 'X=1'], {env});
	if (r.code !== 0 && /podman/.test(r.stderr)) return expect(r.stderr.trim().split('\n')).toHaveLength(1);
	expect(r.code).toBe(0);
	expect(r.stdout).toMatch(/^profile demo, run \d{8}-\d{6}-[0-9a-f]{4}, memory budget 2048 MiB/m);
	expect(r.stdout).toMatch(/gateway\s+localhost\/kdoctor-demo\/gateway:kd-[0-9a-f]{12}/);
	expect(r.stdout).toMatch(/build:gateway\s+1024 MiB \(profile\)\s+after: preflight/);
	expect(r.stdout).toMatch(/cluster\s+400 MiB \(default\) \+ keeps 1024 MiB/);
	expect(r.stdout).toMatch(/deploy:gateway .*after: cluster, load:gateway, deploy:datastorage/);
	expect(r.stdout).toMatch(/expected: \d+s, peak memory \d+ of 2048 MiB/);
	const j = await runCli(['up', '--plan', '--json', '--memory', '2048'], {env});
	const plan = JSON.parse(j.stdout) as {steps: {id: string}[]; schedule: {makespan: number; peakMemoryMiB: number}};
	expect(plan.steps.map((s) => s.id)).toContain('health');
	expect(plan.schedule.peakMemoryMiB).toBeLessThanOrEqual(2048);
	expect(existsSync(join(state, 'runs'))).toBe(false);
});

it('refuses bad input in one line: unknown profile, missing --source, a malformed --build-arg', async () => {
	for (const [args, pattern] of [
		[['up', '--profile', 'nope', '--plan'], /^kdoctor: no profile called nope \(known: demo, kubernaut-gateway\)$/],
		[
			['up', '--profile', 'kubernaut-gateway', '--plan'],
			/^kdoctor: the kubernaut-gateway profile builds from a checkout: pass --source DIR$/,
		],
		[['up', '--plan', '--build-arg', 'NOEQUALS'], /^kdoctor: --build-arg NOEQUALS: expected NAME=VALUE$/],
		[['up', '--plan', '--provider', 'existing', '--node-image', 'kindest/node:v1.33.1'], /^kdoctor: --node-image is for --provider kind$/],
		[
			['up', '--plan', '--node-image', 'x;rm -rf /'],
			/^kdoctor: --node-image x;rm -rf \/: expected an image reference such as kindest\/node:v1\.33\.1$/,
		],
	] as const) {
		const r = await runCli([...args], {env: {KDOCTOR_STATE_DIR: state}});
		expect(r.code).toBe(2);
		expect(r.stderr.trim()).toMatch(pattern);
	}
	// No engine at all: one line that says how to get one, and nothing written.
	const bin = mkdtempSync(join(tmpdir(), 'kdoctor-nopath-'));
	symlinkSync(process.execPath, join(bin, 'node'));
	const r = await runCli(['up'], {env: {KDOCTOR_STATE_DIR: state, PATH: bin}});
	expect(r.code).toBe(2);
	expect(r.stderr.trim()).toMatch(/^kdoctor: podman is not installed or not on PATH: .+$/);
	expect(existsSync(join(state, 'runs'))).toBe(false);
	rmSync(bin, {recursive: true, force: true});
});

needsWorld([
	'podman',
	'root',
	'cgroupfs',
	WORLD_IMAGES.goToolset,
	WORLD_IMAGES.ubiMinimal,
	'localhost/kdoctor-world/debian-data:1',
]).describe('kdoctor up with real Podman builds', () => {
	it(
		'builds every image of the demo from local base images, then a second run with nothing changed skips every build',
		{timeout: 900_000},
		async () => {
			const first = await runCli(['up', '--images-only', '--json', ...WORLD_ARGS], {env});
			expect(first.stderr).toBe('');
			const ev1 = events(first.stdout);
			const start = ev1.find((e) => e.type === 'run-start') as Extract<RunEvent, {type: 'run-start'}>;
			expect(start.steps.map((s) => s.id).sort()).toEqual([
				'build:datastorage',
				'build:gateway',
				'build:postgres',
				'build:redis',
				'preflight',
			]);
			expect(ev1.at(-1)).toMatchObject({type: 'run-end', ok: true});
			expect(first.code).toBe(0);
			const refs = start.steps.filter((s) => s.kind === 'build').map((s) => /\((\S+)\)$/.exec(s.title)![1]!);
			for (const ref of refs) {
				expect(ref).toMatch(/^localhost\/kdoctor-demo\/[a-z]+:kd-[0-9a-f]{12}$/);
				expect(spawnSync('podman', ['image', 'exists', ref]).status).toBe(0);
			}
			const second = await runCli(['up', '--images-only', '--json', ...WORLD_ARGS], {env});
			const e2 = ends(events(second.stdout));
			for (const id of ['build:gateway', 'build:datastorage', 'build:postgres', 'build:redis']) {
				expect(e2[id]!.state).toBe('skipped');
				expect(e2[id]!.note).toMatch(/^cached: localhost\/kdoctor-demo\/.+ already built from the same inputs$/);
			}
			// The same tags: one content hash per image, whatever run asks.
			const start2 = events(second.stdout).find((e) => e.type === 'run-start') as Extract<RunEvent, {type: 'run-start'}>;
			expect(start2.steps.filter((s) => s.kind === 'build').map((s) => s.title)).toEqual(
				start.steps.filter((s) => s.kind === 'build').map((s) => s.title),
			);
			// Another build arg is another image.
			const other = await runCli(['up', '--images-only', '--plan', '--json', ...WORLD_ARGS, '--build-arg', 'APP_VERSION=2'], {env});
			const refsOther = Object.values((JSON.parse(other.stdout) as {images: Record<string, string>}).images);
			expect(refsOther.filter((r) => refs.includes(r))).toEqual([]);
			// The run folder keeps what a report needs later.
			const run = JSON.parse(
				readFileSync(join(state, 'runs', readFileSync(join(state, 'runs', 'latest'), 'utf8').trim(), 'run.json'), 'utf8'),
			) as {ok: boolean; images: Record<string, string>; steps: unknown[]};
			expect(run.ok).toBe(true);
			expect(Object.values(run.images).sort()).toEqual([...refs].sort());
		},
	);

	it('Ctrl-C stops every child process, keeps what was built and says how to resume', {timeout: 300_000}, async () => {
		const child = spawn(process.execPath, [CLI, 'up', '--images-only', '--rebuild', '--json', ...WORLD_ARGS], {
			env: {...process.env, ...env, CI: '', NO_COLOR: '1'},
			stdio: ['ignore', 'pipe', 'pipe'],
		});
		let out = '';
		let err = '';
		child.stdout.on('data', (d: Buffer) => (out += d.toString()));
		child.stderr.on('data', (d: Buffer) => (err += d.toString()));
		await new Promise<void>((resolve) => {
			// Interrupt once a build is inside its RUN step, so a real compile is running under podman.
			const check = () =>
				/"type":"step-line","at":\d+,"id":"build:(gateway|datastorage)","line":"[^"]*STEP \d+\/\d+: RUN/.test(out)
					? resolve()
					: setTimeout(check, 200);
			check();
		});
		child.kill('SIGINT');
		const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
		expect(code).toBe(130);
		expect(err).toContain('kdoctor: stopping: ending every child process');
		const end = events(out).at(-1) as Extract<RunEvent, {type: 'run-end'}>;
		expect(end).toMatchObject({
			type: 'run-end',
			ok: false,
			message: 'stopped: every child process ended; built images are kept (the next run skips them)',
			resume: 'kdoctor up --profile demo --images-only',
		});
		expect(
			events(out).filter((e) => e.type === 'step-end' && e.id.startsWith('build:') && e.state === 'cancelled').length,
		).toBeGreaterThanOrEqual(1);
		const left = spawnSync('pgrep', ['-f', 'podman build -t localhost/kdoctor-demo'], {encoding: 'utf8'});
		expect(left.stdout.trim()).toBe('');
	});
});

needsWorld(['podman', 'kind', WORLD_IMAGES.goToolset]).describe('kdoctor up: the kind provider, for real', () => {
	it(
		'runs the real kind CLI for the cluster (its node image cannot be pulled here): the failure is diagnosed and the evidence kept',
		{timeout: 600_000},
		async () => {
			const r = await runCli(['up', '--json', ...WORLD_ARGS], {env});
			const ev = events(r.stdout);
			expect(r.code).toBe(1);
			const cluster = ends(ev).cluster!;
			expect(cluster.state).toBe('failed');
			expect(cluster.note).toMatch(/^kind create cluster failed: .*kindest\/node/);
			const end = ev.at(-1) as Extract<RunEvent, {type: 'run-end'}>;
			expect(end.ok).toBe(false);
			expect(end.message).toMatch(/^cluster failed: /);
			expect(end.bundle).toBeDefined();
			expect(readFileSync(join(end.bundle!, 'README.txt'), 'utf8')).toContain('Could not collect');
			expect(existsSync(join(end.runDir, 'kind-config.yaml'))).toBe(true);
			expect(readFileSync(join(end.runDir, 'kind-config.yaml'), 'utf8')).toContain('hostPort: 23080');
			expect(existsSync(join(end.runDir, 'run.log'))).toBe(true);
			// The images were cached by the earlier test, so nothing waited on a build.
			expect(['skipped', 'done']).toContain(ends(ev)['build:gateway']!.state);
			// No load or deploy was attempted after the cluster failed.
			expect(ev.some((e) => e.type === 'step-start' && /^(load|deploy):/.test(e.id))).toBe(false);
		},
	);
});
