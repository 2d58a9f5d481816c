import {spawnSync} from 'node:child_process';
import {existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {buildArgv, createEngine, engineOptionsFromEnv} from '../../src/adapters/engine.js';
import {DOCKER_INFO_ARGV, PODMAN_INFO_ARGV, PODMAN_MACHINE_INSPECT_ARGV} from '../../src/adapters/engine-read.js';
import {memoryReserveMiB} from '../../src/core/engine-facts.js';
import {createExec} from '../../src/adapters/exec.js';
import {importBusyboxImage, needsWorld, rand, recordExec, removeImages, sh} from '../helpers/world.js';

const GiB = 1024 ** 3;

const PODMAN_INFO_LINUX = JSON.stringify({
	host: {
		arch: 'amd64',
		os: 'linux',
		cpus: 2,
		memTotal: 24 * GiB,
		cgroupManager: 'cgroupfs',
		cgroupVersion: 'v1',
		security: {rootless: false},
	},
	version: {Version: '4.3.1'},
});

/** Recorded on an M2 Mac with the default machine at 8 GiB: `podman info` answers from inside the VM. */
const PODMAN_INFO_MAC = JSON.stringify({
	host: {
		arch: 'arm64',
		os: 'linux',
		cpus: 8,
		memTotal: 8_301_817_856,
		cgroupManager: 'systemd',
		cgroupVersion: 'v2',
		security: {rootless: true},
	},
	version: {Version: '5.2.2'},
});
const MACHINE_INSPECT_MAC = JSON.stringify([
	{
		Name: 'podman-machine-default',
		Resources: {CPUs: 8, DiskSize: 100, Memory: 8192, USBs: []},
		Rootful: false,
		State: 'running',
		UserModeNetworking: true,
	},
]);

function fakeCgroupRoot(version: 1 | 2, budget?: {rel: string; bytes: number | 'max'}): string {
	const root = mkdtempSync(join(tmpdir(), 'kd-cgroot-'));
	const mem = version === 2 ? root : join(root, 'memory');
	mkdirSync(mem, {recursive: true});
	if (version === 2) writeFileSync(join(root, 'cgroup.controllers'), 'cpu memory pids\n');
	if (budget) {
		mkdirSync(join(mem, budget.rel), {recursive: true});
		const file = version === 2 ? 'memory.max' : 'memory.limit_in_bytes';
		writeFileSync(join(mem, budget.rel, file), budget.bytes === 'max' ? 'max\n' : `${budget.bytes}\n`);
	}
	return root;
}

describe('engine adapter (recorded)', () => {
	it('podman info on Linux: host facts, budget = memory minus the OS reserve', async () => {
		const {exec, calls} = recordExec(() => ({stdout: PODMAN_INFO_LINUX}));
		const engine = createEngine(exec, 'podman', {hostFacts: {platform: 'linux', isRoot: false}});
		const info = await engine.info();
		expect(calls.map((c) => c.argv)).toEqual([PODMAN_INFO_ARGV]);
		expect(info).toEqual({
			engine: 'podman',
			version: '4.3.1',
			arch: 'amd64',
			os: 'linux',
			cpus: 2,
			memTotalMiB: 24576,
			budgetMiB: 24576 - 3686,
			budgetSource: 'host memory 24576 MiB minus 3686 MiB for the OS',
			rootless: false,
			measuresPeak: false,
		});
	});

	it('podman on a Mac: the machine VM is the budget (its memory minus the VM OS reserve)', async () => {
		const {exec, calls} = recordExec((req) => ({stdout: req.argv.includes('machine') ? MACHINE_INSPECT_MAC : PODMAN_INFO_MAC}));
		const info = await createEngine(exec, 'podman', {hostFacts: {platform: 'darwin', isRoot: false}}).info();
		expect(calls.map((c) => c.argv)).toEqual([PODMAN_INFO_ARGV, PODMAN_MACHINE_INSPECT_ARGV]);
		expect(info.machine).toEqual({
			name: 'podman-machine-default',
			cpus: 8,
			memoryMiB: 8192,
			diskGiB: 100,
			rootful: false,
			state: 'running',
		});
		expect(info.arch).toBe('arm64');
		expect(info.budgetMiB).toBe(8192 - 1229);
		expect(info.budgetSource).toBe("podman machine podman-machine-default memory 8192 MiB minus 1229 MiB for the VM's own OS");
		expect(info.rootless).toBe(true);
		expect(info.measuresPeak).toBe(false);
	});

	it('the reserve is 15% but never under 512 MiB', () => {
		expect(memoryReserveMiB(2048)).toBe(512);
		expect(memoryReserveMiB(8192)).toBe(1229);
	});

	it('an engine that does not answer is one line with a way out', async () => {
		const {exec} = recordExec(() => ({
			exitCode: 125,
			stderr:
				'Cannot connect to Podman. Please verify your connection to the Linux system using `podman system connection list`\nError: unable to connect to Podman socket: dial tcp 127.0.0.1:50005: connect: connection refused\n',
		}));
		const err = await createEngine(exec, 'podman', {hostFacts: {platform: 'darwin'}})
			.info()
			.catch((e: Error) => e);
		expect((err as Error).message).toBe(
			'podman is installed but not answering: Cannot connect to Podman. Please verify your connection to the Linux system using `podman system connection list`; start it with `podman machine start`',
		);
		const docker = recordExec(() => ({
			exitCode: 1,
			stdout: '{"ServerVersion":"","MemTotal":0}',
			stderr: 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n',
		}));
		const derr = await createEngine(docker.exec, 'docker', {hostFacts: {platform: 'linux'}})
			.info()
			.catch((e: Error) => e);
		expect((derr as Error).message).toBe(
			'docker is installed but not answering: Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?; start it with `sudo systemctl start docker`',
		);
		expect(docker.calls[0].argv).toEqual(DOCKER_INFO_ARGV);
	});

	it('docker info: MemTotal, NCPU, Architecture, OSType, ServerVersion', async () => {
		const {exec} = recordExec(() => ({
			stdout: JSON.stringify({MemTotal: 8 * GiB, NCPU: 4, Architecture: 'aarch64', OSType: 'linux', ServerVersion: '28.2.2'}),
		}));
		const info = await createEngine(exec, 'docker', {hostFacts: {platform: 'darwin'}}).info();
		expect(info).toMatchObject({
			engine: 'docker',
			version: '28.2.2',
			arch: 'arm64',
			os: 'linux',
			cpus: 4,
			memTotalMiB: 8192,
			budgetMiB: 8192 - 1229,
			measuresPeak: false,
		});
	});

	it('a budget cgroup sets the budget (v1 memory.limit_in_bytes, v2 memory.max)', async () => {
		for (const version of [1, 2] as const) {
			const root = fakeCgroupRoot(version, {rel: 'kdoctor-budget', bytes: 150 * 1024 * 1024});
			try {
				const {exec} = recordExec(() => ({stdout: PODMAN_INFO_LINUX}));
				const info = await createEngine(exec, 'podman', {
					cgroupParent: '/kdoctor-budget',
					hostFacts: {platform: 'linux', isRoot: false, cgroupRoot: root},
				}).info();
				expect(info.budgetMiB).toBe(150);
				expect(info.budgetSource).toBe(
					`memory limit of cgroup /kdoctor-budget (${version === 2 ? 'memory.max' : 'memory.limit_in_bytes'})`,
				);
			} finally {
				rmSync(root, {recursive: true, force: true});
			}
		}
		const unlimited = fakeCgroupRoot(2, {rel: 'open', bytes: 'max'});
		const {exec} = recordExec(() => ({stdout: PODMAN_INFO_LINUX}));
		const info = await createEngine(exec, 'podman', {
			cgroupParent: '/open',
			hostFacts: {platform: 'linux', isRoot: false, cgroupRoot: unlimited},
		}).info();
		expect(info.budgetSource).toContain('(cgroup /open has no memory limit)');
		const missing = await createEngine(exec, 'podman', {
			cgroupParent: '/nope',
			hostFacts: {platform: 'linux', isRoot: false, cgroupRoot: unlimited},
		})
			.info()
			.catch((e: Error) => e);
		expect((missing as Error).message).toMatch(
			/^budget cgroup \/nope does not exist \(looked for .*\/nope\); create it or unset KDOCTOR_ENGINE_CGROUP$/,
		);
		rmSync(unlimited, {recursive: true, force: true});
		expect(engineOptionsFromEnv({KDOCTOR_ENGINE_CGROUP: '/kdoctor-budget'})).toEqual({cgroupParent: '/kdoctor-budget'});
		expect(engineOptionsFromEnv({})).toEqual({});
	});

	it('build argv: -t, -f, sorted build args, platform, volumes, context; --no-cache only for a forced rebuild', async () => {
		const {exec, calls} = recordExec(() => ({stdout: 'STEP 1/2: FROM x\nCOMMIT\n'}));
		const engine = createEngine(exec, 'podman', {measurePeak: false});
		const r = await engine.build({
			image: 'localhost/gateway:abc',
			dockerfile: '/src/docker/gateway.Dockerfile',
			context: '/src',
			buildArgs: {GOFLAGS: '-cover', GOARCH: 'arm64'},
			platform: 'linux/arm64',
			volumes: ['/root/go/pkg/mod:/go/pkg/mod:ro'],
			key: 'build:gateway',
		});
		expect(calls[0].argv).toEqual([
			'podman',
			'build',
			'-t',
			'localhost/gateway:abc',
			'-f',
			'/src/docker/gateway.Dockerfile',
			'--build-arg',
			'GOARCH=arm64',
			'--build-arg',
			'GOFLAGS=-cover',
			'--platform',
			'linux/arm64',
			'-v',
			'/root/go/pkg/mod:/go/pkg/mod:ro',
			'/src',
		]);
		expect(calls[0].argv).not.toContain('--no-cache');
		expect(r).toMatchObject({ok: true, exitCode: 0, tail: ['STEP 1/2: FROM x', 'COMMIT']});
		expect(r.peakMiB).toBeUndefined();
		expect(buildArgv('docker', {image: 'i', dockerfile: 'D', context: '.', buildArgs: {}})).toEqual([
			'docker',
			'build',
			'-t',
			'i',
			'-f',
			'D',
			'.',
		]);
		expect(buildArgv('podman', {image: 'i', dockerfile: 'D', context: '.', buildArgs: {}, noCache: true})).toEqual([
			'podman',
			'build',
			'-t',
			'i',
			'-f',
			'D',
			'--no-cache',
			'.',
		]);
		// Without peak accounting a budget cgroup still applies, through a child podman may remove, never the budget itself.
		const budget = recordExec();
		await createEngine(budget.exec, 'podman', {measurePeak: false, cgroupParent: '/kdoctor-budget', hostFacts: {platform: 'linux'}}).build({
			image: 'i',
			dockerfile: 'D',
			context: '.',
			buildArgs: {},
			key: 'build:gateway',
		});
		expect(budget.calls[0].argv.find((a) => a.startsWith('--cgroup-parent='))).toMatch(
			/^--cgroup-parent=\/kdoctor-budget\/build-gateway-[0-9a-f]{6}$/,
		);
	});

	it('build with peak accounting: a per-build cgroup under the parent, --cgroup-parent=<it>/run, peak read after', async () => {
		const root = fakeCgroupRoot(1);
		try {
			const {exec, calls} = recordExec((req) => {
				if (req.argv[1] === 'info') return {stdout: PODMAN_INFO_LINUX};
				const arg = req.argv.find((a) => a.startsWith('--cgroup-parent='))!;
				const perBuild = arg.slice('--cgroup-parent='.length).replace(/\/run$/, '');
				// The kernel's accounting, as a build that peaked at 300 MiB leaves it.
				writeFileSync(join(root, 'memory', perBuild, 'memory.max_usage_in_bytes'), `${300 * 1024 * 1024}\n`);
				return {exitCode: 1, stderr: 'container exited on killed\nError: building at STEP "RUN x": while running runtime: exit status 1\n'};
			});
			const engine = createEngine(exec, 'podman', {hostFacts: {platform: 'linux', isRoot: true, cgroupRoot: root}});
			const r = await engine.build({image: 'localhost/a:1', dockerfile: 'D', context: '.', buildArgs: {}, key: 'build:a'});
			expect(calls[0].argv).toEqual(PODMAN_INFO_ARGV);
			expect(calls[1].argv.find((a) => a.startsWith('--cgroup-parent='))).toMatch(/^--cgroup-parent=\/kdoctor\/build-a-[0-9a-f]{6}\/run$/);
			expect(r).toMatchObject({ok: false, exitCode: 1, peakMiB: 300});
			expect(r.tail).toEqual(['container exited on killed', 'Error: building at STEP "RUN x": while running runtime: exit status 1']);
		} finally {
			rmSync(root, {recursive: true, force: true});
		}
	});

	it('imageExists retries one miss (F-47); a broken engine is an error, not a miss', async () => {
		const sleeps: number[] = [];
		const sleep = async (ms: number) => void sleeps.push(ms);
		const flaky = recordExec((_r, i) => ({exitCode: i === 0 ? 1 : 0}));
		expect(await createEngine(flaky.exec, 'podman', {sleep}).imageExists('localhost/a:1')).toBe(true);
		expect(flaky.calls.map((c) => c.argv)).toEqual([
			['podman', 'image', 'exists', 'localhost/a:1'],
			['podman', 'image', 'exists', 'localhost/a:1'],
		]);
		expect(sleeps).toEqual([500]);
		const absent = recordExec(() => ({exitCode: 1}));
		expect(await createEngine(absent.exec, 'podman', {sleep}).imageExists('localhost/b:1')).toBe(false);
		expect(absent.calls).toHaveLength(2);
		const broken = recordExec(() => ({exitCode: 125, stderr: 'Error: database is locked\n'}));
		await expect(createEngine(broken.exec, 'podman', {sleep}).imageExists('localhost/c:1')).rejects.toThrow(
			'podman could not check image localhost/c:1: database is locked',
		);
	});

	it('save removes a stale tar (F-16), writes .part and renames it', async () => {
		const dir = mkdtempSync(join(tmpdir(), 'kd-save-'));
		const tar = join(dir, 'sub', 'gateway.tar');
		mkdirSync(join(dir, 'sub'));
		writeFileSync(tar, 'stale from a killed run');
		writeFileSync(`${tar}.part`, 'half');
		try {
			const {exec, calls} = recordExec((req) => {
				expect(existsSync(tar)).toBe(false);
				expect(existsSync(`${tar}.part`)).toBe(false);
				writeFileSync(req.argv[3], 'archive');
				return {};
			});
			await createEngine(exec, 'podman').save('localhost/gateway:abc', tar);
			expect(calls[0].argv).toEqual(['podman', 'save', '-o', `${tar}.part`, 'localhost/gateway:abc']);
			expect(readdirSync(join(dir, 'sub'))).toEqual(['gateway.tar']);
			const failing = recordExec(() => ({exitCode: 125, stderr: 'Error: localhost/x:1: image not known\n'}));
			await expect(createEngine(failing.exec, 'podman').save('localhost/x:1', tar)).rejects.toThrow(
				'podman save of localhost/x:1 failed: localhost/x:1: image not known',
			);
			expect(readdirSync(join(dir, 'sub'))).toEqual([]);
		} finally {
			rmSync(dir, {recursive: true, force: true});
		}
	});

	it('images() lists names with their localhost/ prefix; containerState reads one state or undefined', async () => {
		const {exec} = recordExec((req) => {
			if (req.argv[1] === 'images')
				return {
					stdout: JSON.stringify([
						{Names: ['localhost/gateway:abc', 'localhost/gateway:latest']},
						{Names: null},
						{Names: ['docker.io/library/postgres:16-alpine']},
					]),
				};
			if (req.argv.includes('gateway-e2e-control-plane')) return {stdout: 'running\n'};
			return {exitCode: 125, stderr: 'Error: inspecting object: no such container nope\n'};
		});
		const engine = createEngine(exec, 'podman');
		expect(await engine.images()).toEqual(['localhost/gateway:abc', 'localhost/gateway:latest', 'docker.io/library/postgres:16-alpine']);
		expect(await engine.containerState('gateway-e2e-control-plane')).toBe('running');
		expect(await engine.containerState('nope')).toBeUndefined();
	});
});

/** Both v1 hierarchies podman creates a cgroup in, or the v2 one. */
function removeCgroupEverywhere(rel: string): void {
	const root = '/sys/fs/cgroup';
	const dirs = existsSync(join(root, 'cgroup.controllers')) ? [root] : readdirSync(root).map((c) => join(root, c));
	for (const d of dirs) {
		const p = join(d, rel);
		if (!existsSync(p)) continue;
		for (const sub of readdirSync(p, {withFileTypes: true}).filter((e) => e.isDirectory())) {
			try {
				rmdirSync(join(p, sub.name));
			} catch {
				/* busy */
			}
		}
		try {
			rmdirSync(p);
		} catch {
			/* busy */
		}
	}
}

function pgrep(pattern: string): string[] {
	const r = spawnSync('pgrep', ['-af', pattern], {encoding: 'utf8'});
	return r.stdout.split('\n').filter((l) => l.trim() && !l.includes('pgrep'));
}

needsWorld(['podman', 'busybox', 'root', 'cgroupfs']).describe('engine adapter (real podman)', () => {
	const id = rand();
	const base = `localhost/kd-test/busybox:${id}`;
	const made: string[] = [base];
	const dir = mkdtempSync(join(tmpdir(), 'kd-engine-'));
	const budgetCg = `/kd-test-budget-${id}`;
	const exec = createExec();
	const engine = createEngine(exec, 'podman');

	function dockerfile(name: string, body: string): string {
		const path = join(dir, name);
		writeFileSync(path, `FROM ${base}\n${body}\n`);
		return path;
	}

	beforeAll(() => {
		importBusyboxImage(base);
	}, 120_000);

	afterAll(() => {
		removeImages(made);
		removeCgroupEverywhere(budgetCg);
		rmSync(dir, {recursive: true, force: true});
	}, 120_000);

	it('info() on this machine', async () => {
		const info = await engine.info();
		expect(info.engine).toBe('podman');
		expect(info.version).toMatch(/^\d+\.\d+/);
		expect(info.os).toBe('linux');
		expect(['amd64', 'arm64']).toContain(info.arch);
		expect(info.cpus).toBeGreaterThan(0);
		expect(info.memTotalMiB).toBeGreaterThan(512);
		expect(info.budgetMiB).toBe(info.memTotalMiB - memoryReserveMiB(info.memTotalMiB));
		expect(info.measuresPeak).toBe(true);
	}, 60_000);

	it('builds with a RUN, measures its peak, and the image is there', async () => {
		const image = `localhost/kd-test/built:${id}`;
		made.push(image);
		const lines: string[] = [];
		const r = await engine.build({
			image,
			dockerfile: dockerfile('Dockerfile.peak', 'RUN dd if=/dev/zero of=/dev/null bs=200M count=1 && echo ran-it'),
			context: dir,
			buildArgs: {},
			key: 'build:peak',
			onLine: (l) => lines.push(l),
		});
		expect(r.ok, r.tail.join('\n')).toBe(true);
		expect(lines).toContain('ran-it');
		expect(r.peakMiB).toBeGreaterThan(190);
		expect(await engine.imageExists(image)).toBe(true);
		expect(await engine.images()).toContain(image);
		expect(await engine.imageExists(`localhost/kd-test/absent:${id}`)).toBe(false);
		// The per-build cgroup is gone from every hierarchy; the shared parent may stay.
		const left = readdirSync('/sys/fs/cgroup/memory/kdoctor').filter((n) => n.startsWith('build-peak-'));
		expect(left).toEqual([]);
	}, 120_000);

	it('a build over the budget cgroup is OOM-killed for real, and the budget reads 150 MiB', async () => {
		const mem = join('/sys/fs/cgroup/memory', budgetCg);
		mkdirSync(mem);
		writeFileSync(join(mem, 'memory.limit_in_bytes'), String(150 * 1024 * 1024));
		if (existsSync(join(mem, 'memory.memsw.limit_in_bytes')))
			writeFileSync(join(mem, 'memory.memsw.limit_in_bytes'), String(150 * 1024 * 1024));
		const budgeted = createEngine(exec, 'podman', {cgroupParent: budgetCg});
		const info = await budgeted.info();
		expect(info.budgetMiB).toBe(150);
		expect(info.budgetSource).toBe(`memory limit of cgroup ${budgetCg} (memory.limit_in_bytes)`);
		const image = `localhost/kd-test/oom:${id}`;
		made.push(image);
		const r = await budgeted.build({
			image,
			dockerfile: dockerfile('Dockerfile.oom', 'RUN dd if=/dev/zero of=/dev/null bs=300M count=1'),
			context: dir,
			buildArgs: {},
			key: 'build:oom',
		});
		console.log(`[engine] OOM build output tail:\n${r.tail.join('\n')}`);
		expect(r.ok).toBe(false);
		expect(r.exitCode).not.toBe(0);
		expect(r.tail.join('\n')).toMatch(/killed/);
		expect(r.peakMiB).toBeGreaterThan(140);
		expect(r.peakMiB).toBeLessThanOrEqual(150);
	}, 120_000);

	it('save writes a docker archive with manifest.json, replacing a stale tar', async () => {
		const tar = join(dir, 'out', 'base.tar');
		mkdirSync(join(dir, 'out'));
		writeFileSync(tar, 'stale');
		await engine.save(base, tar);
		expect(sh(['tar', '-tf', tar]).split('\n')).toContain('manifest.json');
		expect(readdirSync(join(dir, 'out'))).toEqual(['base.tar']);
	}, 120_000);

	it('containerState of a container that does not exist is undefined', async () => {
		expect(await engine.containerState(`kd-test-none-${id}`)).toBeUndefined();
	});

	it('abort during a build kills it within seconds and leaves no podman, buildah or sleep behind', async () => {
		const secs = 3000 + Math.floor(Math.random() * 900);
		const image = `localhost/kd-test/abort:${id}`;
		made.push(image);
		const ac = new AbortController();
		let sawRun = false;
		const started = Date.now();
		const done = engine.build({
			image,
			dockerfile: dockerfile('Dockerfile.abort', `RUN echo sleeping && sleep ${secs}`),
			context: dir,
			buildArgs: {},
			key: 'build:abort',
			signal: ac.signal,
			onLine: (l) => {
				if (l === 'sleeping') {
					sawRun = true;
					setTimeout(() => ac.abort(), 300);
				}
			},
		});
		const r = await done;
		const tookMs = Date.now() - started;
		expect(sawRun).toBe(true);
		expect(r.cancelled).toBe(true);
		expect(r.ok).toBe(false);
		expect(tookMs).toBeLessThan(15_000);
		await new Promise((res) => setTimeout(res, 500));
		expect(pgrep(`sleep ${secs}`)).toEqual([]);
		expect(pgrep(`podman build -t ${image}`)).toEqual([]);
		// Other sessions may be building at the same time: only a buildah runtime of this build, or an orphaned one, counts.
		const strays = pgrep('buildah-oci-runtime').filter((l) => {
			const ppid = readFileSync(`/proc/${l.split(' ')[0]}/stat`, 'utf8')
				.split(') ')[1]
				?.split(' ')[1];
			if (!ppid || ppid === '1') return true;
			return readFileSync(`/proc/${ppid}/cmdline`, 'utf8').includes(image);
		});
		expect(strays).toEqual([]);
		expect(readdirSync('/sys/fs/cgroup/memory/kdoctor').filter((n) => n.startsWith('build-abort-'))).toEqual([]);
		expect(
			sh(['podman', 'ps', '-a', '--external', '--format', '{{.ID}} {{.Image}}'])
				.split('\n')
				.filter((l) => l.includes(`kd-test/busybox:${id}`)),
		).toEqual([]);
	}, 120_000);
});
