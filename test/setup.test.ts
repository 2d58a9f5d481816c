import {spawnSync} from 'node:child_process';
import {cpSync, mkdtempSync, readFileSync, rmSync, statfsSync, writeFileSync, mkdirSync} from 'node:fs';
import {createServer, type Server} from 'node:net';
import {tmpdir} from 'node:os';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {createSetupFacts} from '../src/adapters/setup-facts.js';
import {loadCompiledKb} from '../src/commands/context.js';
import {applySetupFix, setupCommand, setupInput} from '../src/commands/setup.js';
import {undoCommand} from '../src/commands/fix.js';
import {memoryReserveMiB} from '../src/core/engine-facts.js';
import {budgetOf} from '../src/core/setup/need.js';
import type {CheckResult} from '../src/core/setup/types.js';
import {runCli} from './helpers/cli.js';
import {recordedExec} from './helpers/recorded-exec.js';
import {kindBinary, needsWorld, WORLD_IMAGES} from './helpers/world.js';

const CHECKOUT = fileURLToPath(new URL('./fixtures/kubernaut-checkout', import.meta.url));

type SetupJson = {platform: string; ready: boolean; exitCode: number; checks: CheckResult[]};
const byId = (j: SetupJson, id: string) => {
	const r = j.checks.find((c) => c.id === id);
	if (!r) throw new Error(`no result ${id} in ${j.checks.map((c) => c.id).join(', ')}`);
	return r;
};

/** Holds a TCP port for real, as another program would; resolves undefined when something else already holds it. */
function hold(port: number): Promise<Server | undefined> {
	return new Promise((resolve) => {
		const s = createServer();
		s.once('error', () => resolve(undefined));
		s.listen(port, '0.0.0.0', () => resolve(s));
	});
}

const state = mkdtempSync(join(tmpdir(), 'kdoctor-setup-'));
const savedState = process.env.KDOCTOR_STATE_DIR;
beforeAll(() => {
	process.env.KDOCTOR_STATE_DIR = state;
});
afterAll(() => {
	if (savedState === undefined) delete process.env.KDOCTOR_STATE_DIR;
	else process.env.KDOCTOR_STATE_DIR = savedState;
	rmSync(state, {recursive: true, force: true});
});

describe('kdoctor setup on recorded facts of an Apple Silicon Mac (2 GiB podman machine); the checks, lsof and the Dockerfiles are real', () => {
	let checkout: string;
	let server: Server | undefined;
	let port = 0;
	let json: SetupJson;
	let code: number;

	beforeAll(async () => {
		checkout = mkdtempSync(join(tmpdir(), 'kdoctor-checkout-'));
		cpSync(CHECKOUT, checkout, {recursive: true});
		// A run before this one learned (and after an out-of-memory kill raised) the Gateway build's peak.
		writeFileSync(
			join(state, 'history.json'),
			JSON.stringify({
				version: 1,
				peaks: {'kubernaut-gateway/build:gateway': {miB: 3600, at: '2026-11-20T10:00:00Z', oomKilled: true}},
				durations: {},
			}),
		);
		for (const p of [28080, 28091, 28185, 28183, 28193]) {
			server = await hold(p);
			if (server) {
				port = p;
				break;
			}
		}
		const kb = await loadCompiledKb({});
		const facts = createSetupFacts({
			platform: 'darwin',
			exec: recordedExec(),
			env: {HOME: '/Users/dev', PATH: process.env.PATH},
			isRoot: false,
		});
		let text = '';
		code = await setupCommand(kb, {profile: 'kubernaut-gateway', source: checkout, json: true}, {write: (s) => (text += s)}, facts);
		json = JSON.parse(text) as SetupJson;
	});
	afterAll(() => {
		server?.close();
		rmSync(checkout, {recursive: true, force: true});
		rmSync(join(state, 'history.json'), {force: true});
	});

	it('says it is a Mac on Apple Silicon with Rosetta, and that the machine is not ready (exit 1)', () => {
		expect(json.platform).toBe('darwin');
		expect(code).toBe(1);
		expect(json.ready).toBe(false);
		expect(byId(json, 'host.os').summary).toBe('macOS 14.7.1, arm64 (Apple Silicon)');
		expect(byId(json, 'host.emulation')).toMatchObject({status: 'ok', finding: 'go-runtime-emulation-crash'});
		expect(byId(json, 'host.emulation').summary).toContain('Rosetta 2');
		expect(byId(json, 'engine.running')).toMatchObject({
			status: 'ok',
			summary: 'podman 5.3.2 answers in machine podman-machine-default, rootful, cgroup v2 (systemd)',
		});
		expect(byId(json, 'engine.inotify').status).toBe('ok');
		expect(byId(json, 'tools.kind')).toMatchObject({status: 'ok', summary: 'kind 0.32.0 (≥ 0.32.0)'});
		expect(byId(json, 'tools.engine').status).toBe('ok');
		expect(byId(json, 'tools.kubectl').summary).toMatch(/^not installed \(optional/);
	});

	it("catches the 2 GiB machine against the profile's builds and their learned peak, and offers the exact resize", () => {
		const m = byId(json, 'engine.memory');
		expect(m.status).toBe('failed');
		expect(m.finding).toBe('build-oom-killed');
		expect(m.summary).toContain('podman machine podman-machine-default has 2048 MiB and 5 CPUs');
		expect(m.summary).toContain('build gateway needs 3600 MiB');
		expect(m.details).toContain('build gateway: 3600 MiB (measured by an earlier run, raised after an out-of-memory kill)');
		expect(m.details).toContain("build datastorage: 3072 MiB (the profile's estimate)");
		const want = Number(m.fix!.commands![1]![4]);
		expect(m.fix!.commands).toEqual([
			['podman', 'machine', 'stop', 'podman-machine-default'],
			['podman', 'machine', 'set', '--memory', String(want), 'podman-machine-default'],
			['podman', 'machine', 'start', 'podman-machine-default'],
		]);
		// The smallest whole GiB that runs every build at once beside the node, as the plan would schedule them.
		const parallel = Number(/every build at once beside the node (\d+) MiB/.exec(m.details.join('\n'))![1]);
		expect(budgetOf(want, memoryReserveMiB)).toBeGreaterThanOrEqual(parallel);
		expect(budgetOf(want - 1024, memoryReserveMiB)).toBeLessThan(parallel);
		expect(m.fix!.undo![1]).toEqual(['podman', 'machine', 'set', '--memory', '2048', 'podman-machine-default']);
		expect(m.fix!.destructive).toBe(true);
	});

	it('catches GOARCH pinned to amd64 and the docker.io Go builder; DataStorage (GOARCH follows TARGETARCH) passes', () => {
		const arch = byId(json, 'images.gateway.arch');
		expect(arch).toMatchObject({status: 'failed', finding: 'go-runtime-emulation-crash'});
		expect(arch.summary).toContain('docker/gateway.Dockerfile:6: ENV …GOARCH=amd64 builds amd64 on this arm64 engine');
		expect(arch.fix).toMatchObject({key: 'a', edit: {finding: 'go-runtime-emulation-crash', key: 'a', lines: [6]}});
		const base = byId(json, 'images.gateway.base');
		expect(base).toMatchObject({status: 'warning', finding: 'base-image-policy'});
		expect(base.summary).toContain('base image golang:1.24-alpine comes from docker.io');
		expect(base.fix).toMatchObject({key: 'f', edit: {captures: {image: 'golang:1.24-alpine'}, lines: [3]}});
		expect(byId(json, 'images.datastorage').status).toBe('ok');
		expect(byId(json, 'images.postgres')).toMatchObject({status: 'warning', finding: 'base-image-policy'});
		expect(byId(json, 'images.redis').status).toBe('ok');
	});

	it('catches a port of the profile that is really held, naming the process lsof finds', () => {
		expect(port).toBeGreaterThan(0);
		const r = byId(json, `ports.${port}`);
		expect(r).toMatchObject({status: 'failed', finding: 'host-port-conflict'});
		expect(r.summary).toContain(`(pid ${process.pid})`);
		expect(r.fix).toMatchObject({key: 't', commands: [['kill', '-TERM', String(process.pid)]], destructive: true});
	});

	it('applies the two Dockerfile fixes through the KB, journaled; the images check passes after; kdoctor undo restores the file', async () => {
		const kb = await loadCompiledKb({});
		const facts = createSetupFacts({
			platform: 'darwin',
			exec: recordedExec(),
			env: {HOME: '/Users/dev', PATH: process.env.PATH},
			isRoot: false,
		});
		const input = setupInput(kb, {profile: 'kubernaut-gateway', source: checkout}, facts);
		const file = join(checkout, 'docker/gateway.Dockerfile');
		const before = readFileSync(file, 'utf8');
		const g = await applySetupFix(kb, input, byId(json, 'images.gateway.arch'));
		expect(g.ok, g.message).toBe(true);
		expect(readFileSync(file, 'utf8')).toContain('ENV CGO_ENABLED=0 GOOS=linux GOARCH=${TARGETARCH}');
		expect(g.recheck.some((r) => r.id === 'images.gateway.arch')).toBe(false);
		const f = await applySetupFix(kb, input, byId(json, 'images.gateway.base'));
		expect(readFileSync(file, 'utf8')).toContain('FROM registry.access.redhat.com/ubi9/go-toolset:latest AS builder');
		expect(f.recheck.find((r) => r.id === 'images.gateway')?.status).toBe('ok');
		for (let i = 0; i < 2; i++) {
			let said = '';
			expect(await undoCommand({write: (s) => (said += s)})).toBe(0);
			expect(said).toContain(`restored ${file}`);
		}
		expect(readFileSync(file, 'utf8')).toBe(before);
	});
});

describe('kdoctor setup on this machine, for real', () => {
	const kind = kindBinary();
	const env = () => ({
		KDOCTOR_STATE_DIR: state,
		PATH: `${kind ? `${dirname(kind)}:` : ''}${process.env.PATH}:/usr/local/go/bin`,
		KIND_EXPERIMENTAL_PROVIDER: '',
	});
	const world = needsWorld(['podman', 'kind']);

	world.describe('the report', () => {
		it('tells the truth about the host, the tools, the engine, a held port and the leftovers', {timeout: 120_000}, async () => {
			const server = await hold(23081);
			try {
				const r = await runCli(['setup', '--json'], {env: env()});
				expect(r.stderr).toBe('');
				const j = JSON.parse(r.stdout) as SetupJson;
				const uname = spawnSync('uname', ['-m'], {encoding: 'utf8'}).stdout.trim().replace('x86_64', 'amd64').replace('aarch64', 'arm64');
				expect(byId(j, 'host.os').summary).toMatch(new RegExp(`, ${uname}$`));
				const podmanVersion = /(\d+\.\d+\.\d+)/.exec(spawnSync('podman', ['--version'], {encoding: 'utf8'}).stdout)![1]!;
				const dockerSaysDocker = /^Docker version/.test(spawnSync('docker', ['-v'], {encoding: 'utf8'}).stdout ?? '');
				const engineCheck = byId(j, 'tools.engine');
				expect(engineCheck.summary).toContain(`podman ${podmanVersion}`);
				expect(engineCheck.status).toBe(dockerSaysDocker ? 'warning' : 'ok');
				const kindVersion = /v(\d+\.\d+\.\d+)/.exec(spawnSync(kind!, ['version'], {encoding: 'utf8'}).stdout)![1]!;
				expect(byId(j, 'tools.kind').summary).toContain(`kind ${kindVersion}`);
				const info = JSON.parse(spawnSync('podman', ['info', '--format', 'json'], {encoding: 'utf8'}).stdout) as {
					host: {memTotal: number};
					store: {graphRoot: string};
				};
				expect(byId(j, 'engine.memory').summary).toContain(`this host has ${Math.floor(info.host.memTotal / 1024 / 1024)} MiB`);
				const watches = readFileSync('/proc/sys/fs/inotify/max_user_watches', 'utf8').trim();
				const instances = readFileSync('/proc/sys/fs/inotify/max_user_instances', 'utf8').trim();
				expect(byId(j, 'engine.inotify').summary).toContain(`max_user_watches ${watches}, max_user_instances ${instances}`);
				const s = statfsSync(info.store.graphRoot);
				const free = (s.bavail * s.bsize) / 1024 ** 3;
				expect(Math.abs(Number(/([\d.]+) GiB free/.exec(byId(j, 'host.disk').summary)![1]) - free)).toBeLessThan(1);
				if (server)
					expect(byId(j, 'ports.23081')).toMatchObject({status: 'failed', summary: expect.stringContaining(`pid ${process.pid}`)});
				const clusters = spawnSync(kind!, ['get', 'clusters'], {
					encoding: 'utf8',
					env: {...process.env, KIND_EXPERIMENTAL_PROVIDER: 'podman'},
				}).stdout.trim();
				if (!clusters) expect(j.checks.filter((c) => c.group === 'leftovers').map((c) => c.summary)).toEqual(['none']);
				expect(r.code).toBe(j.exitCode);
				expect(j.exitCode).toBe(j.checks.some((c) => c.status === 'failed') ? 1 : j.checks.some((c) => c.status === 'unknown') ? 2 : 0);

				// Telling kind which engine to use is what the warning asks for; then kind and kdoctor agree.
				const agreed = await runCli(['setup', '--json'], {env: {...env(), KIND_EXPERIMENTAL_PROVIDER: 'podman'}});
				expect(byId(JSON.parse(agreed.stdout) as SetupJson, 'tools.engine').status).toBe('ok');

				const plain = await runCli(['setup'], {env: env()});
				expect(plain.stdout).toContain('kdoctor setup: is this machine ready for profile demo (podman)?');
				expect(plain.stdout).toMatch(/\n(Ready|Not ready|Not sure): \d+ failed, \d+ warnings?, \d+ could not be checked\./);
			} finally {
				server?.close();
			}
		});

		it('a tool that is not installed is a failed check with how to install it on this OS', {timeout: 60_000}, async () => {
			// PATH without any kind: the check fails and says how to get the version the profile needs.
			const noKind = `${process.env.PATH}:/usr/local/go/bin`
				.split(':')
				.filter((d) => d && spawnSync('test', ['-x', join(d, 'kind')]).status !== 0)
				.join(':');
			const r = await runCli(['setup', '--json'], {env: {...env(), PATH: noKind}});
			const j = JSON.parse(r.stdout) as SetupJson;
			const k = byId(j, 'tools.kind');
			expect(k.status).toBe('failed');
			expect(k.summary).toBe('kind is not installed (the profile needs 0.32.0 or newer)');
			expect(k.hint).toContain('go install sigs.k8s.io/kind@v0.32.0');
			// What needs kind is "could not check", never "none".
			expect(byId(j, 'leftovers.clusters')).toMatchObject({status: 'unknown', summary: 'kind get clusters failed: kind is not installed'});
			expect(r.code).toBe(1);
		});
	});

	const rootOnly = process.getuid?.() === 0 ? it : it.skip;
	world.describe('fixes that change the host, run after confirmation and undone', () => {
		rootOnly(
			'raises the inotify limits kind asks for (sysctl), verified by the re-check; kdoctor undo puts the old values back',
			{timeout: 60_000},
			async () => {
				const files = ['/proc/sys/fs/inotify/max_user_watches', '/proc/sys/fs/inotify/max_user_instances'];
				const original = files.map((f) => readFileSync(f, 'utf8').trim());
				try {
					// The Debian defaults, as a fresh machine has them.
					writeFileSync(files[0]!, '65536');
					writeFileSync(files[1]!, '128');
					const preview = await runCli(['setup', '--fix', 'n'], {env: env()});
					expect(preview.stdout).toContain('$ sysctl -w fs.inotify.max_user_watches=524288 fs.inotify.max_user_instances=512');
					expect(preview.stdout).toContain('preview only: add --yes to apply');
					expect(readFileSync(files[1]!, 'utf8').trim()).toBe('128');
					const applied = await runCli(['setup', '--fix', 'n', '--yes'], {env: env()});
					expect(applied.stderr).toBe('');
					expect(applied.code).toBe(0);
					expect(applied.stdout).toContain('done: ran it; kdoctor undo takes it back');
					expect(applied.stdout).toContain(
						're-checked inotify limits (kind known issue): ok: max_user_watches 524288, max_user_instances 512',
					);
					expect(files.map((f) => readFileSync(f, 'utf8').trim())).toEqual(['524288', '512']);
					const undo = await runCli(['undo'], {env: env()});
					expect(undo.code, undo.stderr).toBe(0);
					expect(undo.stdout).toContain('ran sysctl -w fs.inotify.max_user_watches=65536 fs.inotify.max_user_instances=128');
					expect(files.map((f) => readFileSync(f, 'utf8').trim())).toEqual(['65536', '128']);
				} finally {
					files.forEach((f, i) => writeFileSync(f, original[i]!));
				}
			},
		);
	});

	needsWorld(['podman', 'kind', WORLD_IMAGES.ubiMinimal]).describe('a cluster left stuck by an aborted run', () => {
		it(
			'is a failed check whose fix deletes it with the real kind CLI once confirmed, and the re-check finds nothing left',
			{timeout: 180_000},
			async () => {
				const name = `kd-setup-${process.pid}`;
				const dir = mkdtempSync(join(tmpdir(), 'kdoctor-setup-profile-'));
				mkdirSync(join(dir, 'm'));
				writeFileSync(join(dir, 'm', 'x.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n');
				writeFileSync(
					join(dir, 'kdoctor.yaml'),
					`profiles:\n  stuck:\n    namespace: stuck\n    images:\n      - {name: base, pull: 'registry.access.redhat.com/ubi9/ubi-minimal:latest'}\n    cluster: {name: ${name}}\n    deploy:\n      - {id: x, files: [m/x.yaml]}\n`,
				);
				// What an aborted `kind create` leaves: the node container, created but never started, with kind's labels.
				const made = spawnSync(
					'podman',
					[
						'create',
						'--name',
						`${name}-control-plane`,
						'--label',
						`io.x-k8s.kind.cluster=${name}`,
						'--label',
						'io.x-k8s.kind.role=control-plane',
						WORLD_IMAGES.ubiMinimal,
						'sleep',
						'3600',
					],
					{encoding: 'utf8'},
				);
				expect(made.status, made.stderr).toBe(0);
				try {
					const args = ['--config', join(dir, 'kdoctor.yaml'), 'setup', '--profile', 'stuck'];
					const j = JSON.parse((await runCli([...args, '--json'], {env: env()})).stdout) as SetupJson;
					const c = byId(j, 'leftovers.cluster');
					expect(c).toMatchObject({status: 'failed', finding: 'kind-cluster-exists', fix: {key: 'x', destructive: true}});
					expect(c.summary).toContain(`its node ${name}-control-plane is created`);
					const applied = await runCli([...args, '--fix', 'x', '--yes'], {env: env()});
					expect(applied.code, applied.stdout + applied.stderr).toBe(0);
					expect(applied.stdout).toContain(`$ env KIND_EXPERIMENTAL_PROVIDER=podman kind delete cluster --name ${name}  → exit 0`);
					expect(spawnSync('podman', ['container', 'exists', `${name}-control-plane`]).status).toBe(1);
					expect(applied.stdout).not.toContain(`re-checked Cluster ${name}`);
				} finally {
					spawnSync('podman', ['rm', '-f', `${name}-control-plane`]);
					rmSync(dir, {recursive: true, force: true});
				}
			},
		);
	});
});

describe('what the home screen knows', () => {
	it('a first day, a failed run read from its run.json, and a damaged run.json counted as none', async () => {
		const {homeState, lastRun} = await import('../src/commands/home.js');
		const dir = mkdtempSync(join(tmpdir(), 'kdoctor-home-'));
		const saved = process.env.KDOCTOR_STATE_DIR;
		process.env.KDOCTOR_STATE_DIR = dir;
		try {
			const first = await homeState();
			expect(first.firstRun).toBe(true);
			expect(first.profiles.map((p) => p.name)).toEqual(expect.arrayContaining(['demo', 'kubernaut-gateway']));
			mkdirSync(join(dir, 'runs', 'r1'), {recursive: true});
			writeFileSync(join(dir, 'runs', 'latest'), 'r1\n');
			writeFileSync(
				join(dir, 'runs', 'r1', 'run.json'),
				JSON.stringify({
					runId: 'r1',
					profile: 'demo',
					ok: false,
					steps: [],
					startedAt: '2026-12-04T10:00:00.000Z',
					durationMs: 1000,
					failedStep: 'deploy:gateway',
					findings: [{id: 'image-name-mismatch', title: 'The manifest names an image the node does not hold', confidence: 0.9}],
					namespace: 'kdoctor-demo',
					kubeconfig: join(dir, 'no-such-kubeconfig'),
				}),
			);
			const s = await homeState();
			expect(s.firstRun).toBe(false);
			expect(s.last).toMatchObject({profile: 'demo', ok: false, failedStep: 'deploy:gateway', finding: {id: 'image-name-mismatch'}});
			expect(s.cluster).toMatchObject({healthy: false});
			writeFileSync(join(dir, 'runs', 'r1', 'run.json'), '{"runId": "r1", "ok": fa');
			expect(lastRun(dir)).toBeUndefined();
		} finally {
			if (saved === undefined) delete process.env.KDOCTOR_STATE_DIR;
			else process.env.KDOCTOR_STATE_DIR = saved;
			rmSync(dir, {recursive: true, force: true});
		}
	});
});
