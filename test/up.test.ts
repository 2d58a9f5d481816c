import {spawn, spawnSync} from 'node:child_process';
import {existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, rmdirSync, symlinkSync, writeFileSync} from 'node:fs';
import {createServer, type Server} from 'node:net';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {afterAll, beforeAll, expect, it} from 'vitest';
import type {RunEvent} from '../src/core/provision/events.js';
import {CLI, runCli} from './helpers/cli.js';
import {kindBinary, needsWorld, WORLD_IMAGES} from './helpers/world.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const WORLD_ARGS = ['--build-arg', `BUILDER_IMAGE=${WORLD_IMAGES.goToolset}`, '--build-arg', `RUNTIME_IMAGE=${WORLD_IMAGES.ubiMinimal}`, '--build-arg', 'BASE_IMAGE=localhost/kdoctor-world/debian-data:1'];
const events = (stdout: string): RunEvent[] =>
	stdout
		.split('\n')
		.filter(Boolean)
		.map((l) => JSON.parse(l) as RunEvent);
const ends = (ev: RunEvent[]) => Object.fromEntries(ev.filter((e) => e.type === 'step-end').map((e) => [(e as {id: string}).id, e as Extract<RunEvent, {type: 'step-end'}>]));

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
		[['up', '--profile', 'kubernaut-gateway', '--plan'], /^kdoctor: the kubernaut-gateway profile builds from a checkout: pass --source DIR$/],
		[['up', '--plan', '--build-arg', 'NOEQUALS'], /^kdoctor: --build-arg NOEQUALS: expected NAME=VALUE$/],
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

needsWorld(['podman', 'root', 'cgroupfs', WORLD_IMAGES.goToolset, WORLD_IMAGES.ubiMinimal, 'localhost/kdoctor-world/debian-data:1']).describe('kdoctor up with real Podman builds', () => {
	it('builds every image of the demo from local base images, then a second run with nothing changed skips every build', {timeout: 900_000}, async () => {
		const first = await runCli(['up', '--images-only', '--json', ...WORLD_ARGS], {env});
		expect(first.stderr).toBe('');
		const ev1 = events(first.stdout);
		const start = ev1.find((e) => e.type === 'run-start') as Extract<RunEvent, {type: 'run-start'}>;
		expect(start.steps.map((s) => s.id).sort()).toEqual(['build:datastorage', 'build:gateway', 'build:postgres', 'build:redis', 'preflight']);
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
		expect(start2.steps.filter((s) => s.kind === 'build').map((s) => s.title)).toEqual(start.steps.filter((s) => s.kind === 'build').map((s) => s.title));
		// Another build arg is another image.
		const other = await runCli(['up', '--images-only', '--plan', '--json', ...WORLD_ARGS, '--build-arg', 'APP_VERSION=2'], {env});
		const refsOther = Object.values((JSON.parse(other.stdout) as {images: Record<string, string>}).images);
		expect(refsOther.filter((r) => refs.includes(r))).toEqual([]);
		// The run folder keeps what a report needs later.
		const run = JSON.parse(readFileSync(join(state, 'runs', readFileSync(join(state, 'runs', 'latest'), 'utf8').trim(), 'run.json'), 'utf8')) as {ok: boolean; images: Record<string, string>; steps: unknown[]};
		expect(run.ok).toBe(true);
		expect(Object.values(run.images).sort()).toEqual([...refs].sort());
	});

	it('recognises a real out-of-memory kill, re-runs that build alone with a raised estimate, and learns the peak', {timeout: 1_200_000}, async () => {
		const cg = `kdoctor-uptest-${process.pid}`;
		const dir = join('/sys/fs/cgroup/memory', cg);
		mkdirSync(dir, {recursive: true});
		const budget = String(350 * 1024 * 1024);
		writeFileSync(join(dir, 'memory.limit_in_bytes'), budget);
		try {
			writeFileSync(join(dir, 'memory.memsw.limit_in_bytes'), budget);
		} catch {
			// Without swap accounting the memory limit alone applies.
		}
		const oomState = mkdtempSync(join(tmpdir(), 'kdoctor-oom-'));
		// Two real Go builds whose first-run estimate (150 MiB) is far below their real peak (a compile alone holds ~220 MiB): the plan
		// runs both at once inside 350 MiB, the kernel kills one or both, and kdoctor must notice and recover.
		writeFileSync(
			join(oomState, 'kdoctor.yaml'),
			`profiles:\n  oom:\n    source: ${root}\n    namespace: oom\n    images:\n      - {name: gateway, repository: kdoctor-oomtest/gateway, dockerfile: dockerfiles/gateway.Dockerfile, context: demo, memoryMiB: 150}\n      - {name: datastorage, repository: kdoctor-oomtest/datastorage, dockerfile: dockerfiles/datastorage.Dockerfile, context: demo, memoryMiB: 150}\n    cluster: {name: oom}\n    deploy:\n      - {id: all, files: [manifests/demo/gateway.yaml]}\n`,
		);
		try {
			const r = await runCli(['--config', join(oomState, 'kdoctor.yaml'), 'up', '--profile', 'oom', '--images-only', '--rebuild', '--json', ...WORLD_ARGS], {env: {...env, KDOCTOR_STATE_DIR: oomState, KDOCTOR_ENGINE_CGROUP: `/${cg}`}});
			const ev = events(r.stdout);
			const start = ev.find((e) => e.type === 'run-start') as Extract<RunEvent, {type: 'run-start'}>;
			expect(start.budgetMiB).toBe(350);
			expect(start.budgetSource).toContain(cg);
			const retries = ev.filter((e) => e.type === 'step-retry') as Extract<RunEvent, {type: 'step-retry'}>[];
			expect(retries.length).toBeGreaterThanOrEqual(1);
			expect(retries[0]!.reason).toMatch(/killed for lack of memory/);
			expect(retries[0]!.memoryMiB).toBeGreaterThan(200);
			// The kill itself is in the step's output, as podman printed it.
			const killed = ev.filter((e) => e.type === 'step-line' && e.id === retries[0]!.id && /signal: killed/.test(e.line));
			expect(killed.length).toBeGreaterThanOrEqual(1);
			expect(ev.at(-1)).toMatchObject({type: 'run-end', ok: true});
			expect(r.code).toBe(0);
			// While a retried build ran, no other build ran beside it (spans in event order; a span ends at its
			// step-end or at the step-retry that sent it back to wait).
			const spans: {id: string; attempt: number; from: number; to: number}[] = [];
			ev.forEach((e, i) => {
				if (e.type !== 'step-start' || !e.id.startsWith('build:')) return;
				const to = ev.findIndex((x, j) => j > i && (x.type === 'step-end' || x.type === 'step-retry') && x.id === e.id);
				spans.push({id: e.id, attempt: e.attempt, from: i, to});
			});
			for (const r of spans.filter((x) => x.attempt > 1)) {
				expect(r.to).toBeGreaterThan(r.from);
				for (const o of spans.filter((x) => x !== r)) expect(o.to < r.from || o.from > r.to, `${o.id}#${o.attempt} overlaps ${r.id}#${r.attempt}`).toBe(true);
			}
			const history = JSON.parse(readFileSync(join(oomState, 'history.json'), 'utf8')) as {peaks: Record<string, {miB: number}>};
			expect(history.peaks[`oom/${retries[0]!.id}`]!.miB).toBeGreaterThan(200);
			// The next plan uses what was learned, so it no longer puts both builds side by side.
			const plan = await runCli(['--config', join(oomState, 'kdoctor.yaml'), 'up', '--profile', 'oom', '--images-only', '--plan', '--json', ...WORLD_ARGS], {env: {...env, KDOCTOR_STATE_DIR: oomState, KDOCTOR_ENGINE_CGROUP: `/${cg}`}});
			const p = JSON.parse(plan.stdout) as {steps: {id: string; memoryMiB: number; memorySource: string}[]; schedule: {steps: {id: string; start: number; end: number}[]}};
			expect(p.steps.filter((s) => s.id.startsWith('build:')).every((s) => s.memorySource === 'learned' && s.memoryMiB > 300)).toBe(true);
			const [a, b] = p.schedule.steps.filter((s) => s.id.startsWith('build:'));
			expect(a!.end <= b!.start || b!.end <= a!.start).toBe(true);
		} finally {
			spawnSync('sh', ['-c', 'podman images --format "{{.Repository}}:{{.Tag}}" | grep "^localhost/kdoctor-oomtest/" | xargs -r podman rmi -f']);
			spawnSync('sh', ['-c', `find ${dir} -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null; true`]);
			try {
				rmdirSync(dir);
			} catch {}
			rmSync(oomState, {recursive: true, force: true});
		}
	});

	it('Ctrl-C stops every child process, keeps what was built and says how to resume', {timeout: 300_000}, async () => {
		const child = spawn(process.execPath, [CLI, 'up', '--images-only', '--rebuild', '--json', ...WORLD_ARGS], {env: {...process.env, ...env, CI: '', NO_COLOR: '1'}, stdio: ['ignore', 'pipe', 'pipe']});
		let out = '';
		let err = '';
		child.stdout.on('data', (d: Buffer) => (out += d.toString()));
		child.stderr.on('data', (d: Buffer) => (err += d.toString()));
		await new Promise<void>((resolve) => {
			// Interrupt once a build is inside its RUN step, so a real compile is running under podman.
			const check = () => (/"type":"step-line","at":\d+,"id":"build:(gateway|datastorage)","line":"[^"]*STEP \d+\/\d+: RUN/.test(out) ? resolve() : setTimeout(check, 200));
			check();
		});
		child.kill('SIGINT');
		const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
		expect(code).toBe(130);
		expect(err).toContain('kdoctor: stopping: ending every child process');
		const end = events(out).at(-1) as Extract<RunEvent, {type: 'run-end'}>;
		expect(end).toMatchObject({type: 'run-end', ok: false, message: 'stopped: every child process ended; built images are kept (the next run skips them)', resume: 'kdoctor up --profile demo --images-only'});
		expect(events(out).filter((e) => e.type === 'step-end' && e.id.startsWith('build:') && e.state === 'cancelled').length).toBeGreaterThanOrEqual(1);
		const left = spawnSync('pgrep', ['-f', 'podman build -t localhost/kdoctor-demo'], {encoding: 'utf8'});
		expect(left.stdout.trim()).toBe('');
	});
});

needsWorld(['podman', 'kind', WORLD_IMAGES.goToolset]).describe('kdoctor up: pre-flight and the kind provider, for real', () => {
	let server: Server;
	let port: number;
	beforeAll(async () => {
		server = createServer();
		await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
		port = (server.address() as {port: number}).port;
	});
	afterAll(() => server.close());

	it('stops before creating anything when a host port the cluster maps is taken, and names the cause', {timeout: 120_000}, async () => {
		const dir = mkdtempSync(join(tmpdir(), 'kdoctor-port-'));
		writeFileSync(
			join(dir, 'kdoctor.yaml'),
			`profiles:\n  ports:\n    source: ${root}\n    namespace: p\n    images:\n      - {name: gateway, repository: kdoctor-demo/gateway, dockerfile: dockerfiles/gateway.Dockerfile, context: demo}\n    cluster:\n      name: kdoctor-porttest\n      ports: [{containerPort: 30080, hostPort: ${port}}]\n    deploy:\n      - {id: gw, files: [manifests/demo/gateway.yaml]}\n`,
		);
		const r = await runCli(['--config', join(dir, 'kdoctor.yaml'), 'up', '--profile', 'ports', '--json'], {env: {...env, KDOCTOR_STATE_DIR: dir}});
		const ev = events(r.stdout);
		expect(r.code).toBe(1);
		expect(ends(ev).preflight).toMatchObject({state: 'failed'});
		expect(ends(ev).preflight!.note).toBe(`host port ${port} already in use: free it or change the profile's cluster.ports`);
		const d = ev.find((e) => e.type === 'diagnosis') as Extract<RunEvent, {type: 'diagnosis'}>;
		expect(d.findings[0]!.id).toBe('host-port-conflict');
		expect(d.findings[0]!.evidence[0]!.text).toContain(`held by pid ${process.pid}`);
		expect(ev.some((e) => e.type === 'step-start' && e.id !== 'preflight')).toBe(false);
		rmSync(dir, {recursive: true, force: true});
	});

	it('runs the real kind CLI for the cluster (its node image cannot be pulled here): the failure is diagnosed and the evidence kept', {timeout: 600_000}, async () => {
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
	});
});
