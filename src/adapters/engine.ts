import {existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, writeFileSync} from 'node:fs';
import {randomBytes} from 'node:crypto';
import {dirname, join} from 'node:path';
import {memoryReserveMiB, pickMachine, type PodmanInfo} from '../core/engine-facts.js';
import {normaliseArch, parseJson, readDockerInfo, readPodmanInfo, readPodmanMachines} from './engine-read.js';
import {reasonLine} from './exec.js';
import type {BuildRequest, BuildResult, EngineInfo, EngineName, EnginePort, ExecPort, ExecResult} from '../core/provision/ports.js';

/** Env var naming a cgroup that stands in for a podman machine of a given size (tests and CI). */
export const ENGINE_CGROUP_ENV = 'KDOCTOR_ENGINE_CGROUP';
/** Parent of the per-build cgroups when no budget cgroup is configured. */
export const DEFAULT_BUILD_CGROUP = '/kdoctor';
/** Lines of build output kept for the diagnosis. */
export const TAIL_LINES = 200;
/** F-47: `podman image exists` gave false negatives right after a load; one retry this long after. */
export const IMAGE_EXISTS_RETRY_MS = 500;

const MiB = 1024 * 1024;
/** cgroup v1 reports "no limit" as a page-rounded 2^63-1; anything this large is unlimited. */
const UNLIMITED = 2 ** 60;

export type EngineHostFacts = {
	platform: string;
	/** Root can create cgroups (peak accounting, budget cgroups). */
	isRoot: boolean;
	/** Where the cgroup filesystem is mounted. */
	cgroupRoot: string;
};

export type EngineOptions = {
	/** A cgroup (e.g. /kdoctor-budget) whose memory limit is the budget every build shares. */
	cgroupParent?: string;
	hostFacts?: Partial<EngineHostFacts>;
	/** Force peak accounting on or off; by default it is on when podman runs as root with cgroupfs. */
	measurePeak?: boolean;
	sleep?: (ms: number) => Promise<void>;
};

/** Engine options from the environment: KDOCTOR_ENGINE_CGROUP names the budget cgroup. */
export function engineOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): EngineOptions {
	const cg = env[ENGINE_CGROUP_ENV]?.trim();
	return cg ? {cgroupParent: cg} : {};
}

function defaultFacts(): EngineHostFacts {
	return {platform: process.platform, isRoot: typeof process.getuid === 'function' && process.getuid() === 0, cgroupRoot: '/sys/fs/cgroup'};
}

/** The argv of a build: layers are reused (kdoctor's content hash decides whether to build at all) unless --rebuild asks for --no-cache. */
export function buildArgv(
	engine: EngineName,
	req: Pick<BuildRequest, 'image' | 'dockerfile' | 'context' | 'buildArgs' | 'platform' | 'volumes' | 'noCache'>,
	cgroupParent?: string,
): string[] {
	const argv = [engine, 'build', '-t', req.image, '-f', req.dockerfile];
	if (req.noCache) argv.push('--no-cache');
	for (const key of Object.keys(req.buildArgs).sort()) argv.push('--build-arg', `${key}=${req.buildArgs[key]}`);
	if (req.platform) argv.push('--platform', req.platform);
	for (const v of req.volumes ?? []) argv.push('-v', v);
	if (cgroupParent) argv.push(`--cgroup-parent=${cgroupParent}`);
	argv.push(req.context);
	return argv;
}

type CgroupLayout = {version: 1 | 2; root: string; memRoot: string};

function cgroupLayout(root: string): CgroupLayout {
	if (existsSync(join(root, 'cgroup.controllers'))) return {version: 2, root, memRoot: root};
	return {version: 1, root, memRoot: join(root, 'memory')};
}

/** A cgroup's memory limit in bytes, or undefined when it has none. */
export function readCgroupLimit(layout: CgroupLayout, rel: string): number | undefined {
	const dir = join(layout.memRoot, rel);
	const file = layout.version === 2 ? join(dir, 'memory.max') : join(dir, 'memory.limit_in_bytes');
	const text = readFileSync(file, 'utf8').trim();
	if (text === 'max') return undefined;
	const n = Number(text);
	return Number.isFinite(n) && n < UNLIMITED ? n : undefined;
}

function readPeakBytes(layout: CgroupLayout, rel: string): number | undefined {
	const file = join(layout.memRoot, rel, layout.version === 2 ? 'memory.peak' : 'memory.max_usage_in_bytes');
	try {
		const n = Number(readFileSync(file, 'utf8').trim());
		return Number.isFinite(n) ? n : undefined;
	} catch {
		return undefined;
	}
}

/** Makes the per-build cgroup; on v2 the memory controller must be enabled down the path first. */
function createCgroup(layout: CgroupLayout, rel: string): void {
	if (layout.version === 2) {
		let dir = layout.root;
		for (const part of rel.split('/').filter(Boolean)) {
			try {
				writeFileSync(join(dir, 'cgroup.subtree_control'), '+memory');
			} catch {
				/* already on, or not delegated: the mkdir below still works, just without accounting */
			}
			dir = join(dir, part);
			if (!existsSync(dir)) mkdirSync(dir);
		}
		return;
	}
	mkdirSync(join(layout.memRoot, rel), {recursive: true});
}

/**
 * Removes a per-build cgroup from every hierarchy podman created it in (v1 has one per controller), waiting for killed
 * processes to leave.
 */
async function removeCgroup(layout: CgroupLayout, rel: string, waitMs = 3000): Promise<void> {
	const roots = layout.version === 2 ? [layout.root] : listV1Hierarchies(layout.root);
	const dirs = roots.flatMap((root) => [join(root, rel, 'run'), join(root, rel)]);
	const deadline = Date.now() + waitMs;
	for (;;) {
		let busy = false;
		for (const dir of dirs) {
			if (!existsSync(dir)) continue;
			try {
				rmdirSync(dir);
			} catch (error) {
				if ((error as NodeJS.ErrnoException).code === 'EBUSY') busy = true;
			}
		}
		if (!busy || Date.now() >= deadline) return;
		// A process SIGKILLed a moment ago is still leaving the cgroup; an empty one holds no memory if left.
		await new Promise((r) => setTimeout(r, 100));
	}
}

function listV1Hierarchies(root: string): string[] {
	try {
		return readdirSync(root, {withFileTypes: true})
			.filter((e) => e.isDirectory())
			.map((e) => join(root, e.name));
	} catch {
		return [];
	}
}

function sanitizeKey(key: string): string {
	return key.replace(/[^A-Za-z0-9_.-]+/g, '-').slice(0, 60) || 'build';
}

function notAnswering(engine: EngineName, platform: string, result: ExecResult): Error {
	const line =
		(result.stderr || result.stdout)
			.split(/\r?\n/)
			.map((l) => l.trim())
			.find(Boolean) ?? `exit status ${result.exitCode}`;
	const vm = platform === 'darwin' || platform === 'win32';
	const hint =
		engine === 'podman'
			? vm
				? 'start it with `podman machine start`'
				: 'run `podman info` to see why'
			: vm
				? 'start Docker Desktop'
				: 'start it with `sudo systemctl start docker`';
	return new Error(`${engine} is installed but not answering: ${line}; ${hint}`);
}

/** Drops lines from the front so at most `max` remain. */
class LineTail {
	readonly lines: string[] = [];
	constructor(private readonly max: number) {}
	push(line: string): void {
		this.lines.push(line);
		if (this.lines.length > this.max) this.lines.splice(0, this.lines.length - this.max);
	}
}

export type Engine = EnginePort & {
	/** The per-build cgroup parent and whether peaks are measured, decided from podman info. */
	peakSupport(): Promise<{measures: boolean; reason: string}>;
};

/** The container engine adapter: podman (the default on Kubernaut's Macs) or docker. */
export function createEngine(exec: ExecPort, name: EngineName, opts: EngineOptions = {}): Engine {
	const facts: EngineHostFacts = {...defaultFacts(), ...opts.hostFacts};
	const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
	const layout = (): CgroupLayout => cgroupLayout(facts.cgroupRoot);
	let podmanInfoCache: Promise<PodmanInfo> | undefined;

	const podmanInfo = (): Promise<PodmanInfo> => {
		podmanInfoCache ??= (async () => {
			return readPodmanInfo(
				(argv) => exec.run({argv}),
				(r) => notAnswering('podman', facts.platform, r),
			);
		})();
		podmanInfoCache.catch(() => (podmanInfoCache = undefined));
		return podmanInfoCache;
	};

	const peakSupport = async (): Promise<{measures: boolean; reason: string}> => {
		if (name !== 'podman') return {measures: false, reason: 'docker builds run in the daemon, out of kdoctor’s cgroups'};
		if (opts.measurePeak !== undefined) return {measures: opts.measurePeak, reason: 'set by option'};
		if (facts.platform !== 'linux') return {measures: false, reason: 'builds run inside the podman machine VM'};
		if (!facts.isRoot) return {measures: false, reason: 'needs root to create cgroups'};
		const info = await podmanInfo();
		if (info.host?.security?.rootless) return {measures: false, reason: 'rootless podman cannot place builds in a cgroup'};
		if (info.host?.cgroupManager !== 'cgroupfs')
			return {measures: false, reason: `cgroup manager is ${info.host?.cgroupManager ?? 'unknown'}, not cgroupfs`};
		if (!existsSync(layout().memRoot)) return {measures: false, reason: `no memory cgroup at ${layout().memRoot}`};
		return {measures: true, reason: 'per-build cgroup under cgroupfs'};
	};

	/** The budget from the configured cgroup, or undefined when none is configured. */
	const cgroupBudget = (): {mib: number; source: string} | undefined => {
		if (!opts.cgroupParent || facts.platform !== 'linux') return undefined;
		const l = layout();
		const dir = join(l.memRoot, opts.cgroupParent);
		if (!existsSync(dir))
			throw new Error(`budget cgroup ${opts.cgroupParent} does not exist (looked for ${dir}); create it or unset ${ENGINE_CGROUP_ENV}`);
		const limit = readCgroupLimit(l, opts.cgroupParent);
		if (limit === undefined) return undefined;
		return {
			mib: Math.floor(limit / MiB),
			source: `memory limit of cgroup ${opts.cgroupParent} (${l.version === 2 ? 'memory.max' : 'memory.limit_in_bytes'})`,
		};
	};

	const info = async (): Promise<EngineInfo> => {
		if (name === 'docker') {
			const json = await readDockerInfo(
				(argv) => exec.run({argv}),
				(r) => notAnswering('docker', facts.platform, r),
			);
			const memTotalMiB = Math.floor((json.MemTotal ?? 0) / MiB);
			const reserve = memoryReserveMiB(memTotalMiB);
			return {
				engine: 'docker',
				version: json.ServerVersion ?? '',
				arch: normaliseArch(json.Architecture ?? ''),
				os: json.OSType ?? '',
				cpus: json.NCPU ?? 0,
				memTotalMiB,
				budgetMiB: Math.max(memTotalMiB - reserve, 0),
				budgetSource: `docker info MemTotal ${memTotalMiB} MiB minus ${reserve} MiB for the engine's OS`,
				rootless: false,
				measuresPeak: false,
			};
		}
		const json = await podmanInfo();
		const memTotalMiB = Math.floor((json.host?.memTotal ?? 0) / MiB);
		let machine: EngineInfo['machine'];
		if (facts.platform === 'darwin' || facts.platform === 'win32') {
			const m = pickMachine(
				await readPodmanMachines(
					(argv) => exec.run({argv}),
					(r) => new Error(`podman machine inspect failed: ${reasonLine(r)}; create one with \`podman machine init\``),
				),
			);
			if (!m) throw new Error('podman machine inspect listed no machine; create one with `podman machine init`');
			machine = {
				name: m.Name ?? 'podman-machine-default',
				cpus: m.Resources?.CPUs ?? 0,
				memoryMiB: m.Resources?.Memory ?? 0,
				diskGiB: m.Resources?.DiskSize ?? 0,
				rootful: m.Rootful ?? false,
				state: m.State ?? 'unknown',
			};
		}
		const budgetCg = cgroupBudget();
		let budgetMiB: number;
		let budgetSource: string;
		if (budgetCg) {
			budgetMiB = budgetCg.mib;
			budgetSource = budgetCg.source;
		} else {
			const base = machine ? machine.memoryMiB : memTotalMiB;
			const reserve = memoryReserveMiB(base);
			budgetMiB = Math.max(base - reserve, 0);
			budgetSource = machine
				? `podman machine ${machine.name} memory ${base} MiB minus ${reserve} MiB for the VM's own OS`
				: `host memory ${base} MiB minus ${reserve} MiB for the OS`;
			if (opts.cgroupParent) budgetSource += ` (cgroup ${opts.cgroupParent} has no memory limit)`;
		}
		const support = await peakSupport().catch(() => ({measures: false, reason: ''}));
		return {
			engine: 'podman',
			version: json.version?.Version ?? '',
			arch: normaliseArch(json.host?.arch ?? ''),
			os: json.host?.os ?? '',
			cpus: json.host?.cpus ?? 0,
			memTotalMiB,
			budgetMiB,
			budgetSource,
			rootless: machine ? !machine.rootful : (json.host?.security?.rootless ?? false),
			...(machine ? {machine} : {}),
			measuresPeak: support.measures,
		};
	};

	const build = async (req: BuildRequest): Promise<BuildResult> => {
		const support = await peakSupport();
		let perBuild: string | undefined;
		const own =
			`${(opts.cgroupParent ?? DEFAULT_BUILD_CGROUP).replace(/\/+$/, '').replace(/^(?!\/)/, '/')}` +
			`/${sanitizeKey(req.key)}-${randomBytes(3).toString('hex')}`;
		// Never the budget cgroup itself: podman removes the cgroup it ran a build's containers in.
		let parentArg: string | undefined = name === 'podman' && opts.cgroupParent && facts.platform === 'linux' ? own : undefined;
		if (support.measures) {
			perBuild = own;
			createCgroup(layout(), perBuild);
			// podman creates and removes `run` for the RUN containers; the directory above persists for the peak.
			parentArg = `${perBuild}/run`;
		}
		const tail = new LineTail(TAIL_LINES);
		try {
			const r = await exec.run({
				argv: buildArgv(name, req, parentArg),
				onLine: (line, stream) => {
					tail.push(line);
					req.onLine?.(line, stream);
				},
				signal: req.signal,
				timeoutMs: req.timeoutMs,
			});
			const peak = perBuild ? readPeakBytes(layout(), perBuild) : undefined;
			// A killed `podman build` leaves its buildah working container behind (podman does not clean up on SIGTERM or SIGINT).
			if (perBuild && (r.cancelled || r.timedOut)) await removeWorkingContainers(`${perBuild}/run`);
			return {
				ok: r.exitCode === 0 && !r.cancelled && !r.timedOut,
				exitCode: r.exitCode,
				cancelled: r.cancelled,
				timedOut: r.timedOut,
				durationMs: r.durationMs,
				...(peak !== undefined ? {peakMiB: Math.round((peak / MiB) * 10) / 10} : {}),
				tail: tail.lines.length > 0 ? tail.lines : (r.stdout + r.stderr).split(/\r?\n/).filter(Boolean).slice(-TAIL_LINES),
			};
		} finally {
			if (perBuild) await removeCgroup(layout(), perBuild);
		}
	};

	/** Removes the working containers of one build, found by the cgroup parent buildah recorded for them. */
	const removeWorkingContainers = async (cgroupParent: string): Promise<void> => {
		const info = await podmanInfo().catch(() => undefined);
		const root = info?.store?.graphRoot;
		if (!root) return;
		const driver = info?.store?.graphDriverName ?? 'overlay';
		const r = await exec.run({argv: ['podman', 'ps', '-a', '--external', '--no-trunc', '--format', '{{.ID}}']});
		if (r.exitCode !== 0) return;
		const ids = r.stdout
			.split('\n')
			.map((l) => l.trim())
			.filter(Boolean)
			.filter((id) => {
				try {
					const meta = JSON.parse(readFileSync(join(root, `${driver}-containers`, id, 'userdata', 'buildah.json'), 'utf8')) as {
						CommonBuildOpts?: {CgroupParent?: string};
					};
					return meta.CommonBuildOpts?.CgroupParent === cgroupParent;
				} catch {
					return false;
				}
			});
		if (ids.length > 0) await exec.run({argv: ['podman', 'rm', '-f', ...ids]});
	};

	const imageExists = async (ref: string): Promise<boolean> => {
		const argv = name === 'podman' ? ['podman', 'image', 'exists', ref] : ['docker', 'image', 'inspect', '--format', '{{.Id}}', ref];
		for (let attempt = 1; attempt <= 2; attempt++) {
			const r = await exec.run({argv});
			if (r.exitCode === 0) return true;
			const missing = name === 'podman' ? r.exitCode === 1 : /no such (image|object)/i.test(r.stderr);
			if (!missing) throw new Error(`${name} could not check image ${ref}: ${reasonLine(r)}`);
			if (attempt === 1) await sleep(IMAGE_EXISTS_RETRY_MS);
		}
		return false;
	};

	const save = async (ref: string, tarPath: string, signal?: AbortSignal): Promise<void> => {
		const part = `${tarPath}.part`;
		// F-16: a tar left by a killed run makes `podman save -o` fail with "doesn't support modifying existing images".
		rmSync(tarPath, {force: true});
		rmSync(part, {force: true});
		mkdirSync(dirname(tarPath), {recursive: true});
		const r = await exec.run({argv: [name, 'save', '-o', part, ref], signal});
		if (r.exitCode !== 0 || r.cancelled || r.timedOut) {
			rmSync(part, {force: true});
			throw new Error(r.cancelled ? `${name} save of ${ref} was cancelled` : `${name} save of ${ref} failed: ${reasonLine(r)}`);
		}
		renameSync(part, tarPath);
	};

	const images = async (): Promise<string[]> => {
		if (name === 'podman') {
			const r = await exec.run({argv: ['podman', 'images', '--format', 'json']});
			if (r.exitCode !== 0) throw new Error(`podman images failed: ${reasonLine(r)}`);
			const list = parseJson<{Names?: string[] | null}[] | null>(r.stdout || '[]', 'podman images');
			return [...new Set((list ?? []).flatMap((i) => i.Names ?? []))];
		}
		const r = await exec.run({argv: ['docker', 'images', '--format', '{{json .}}']});
		if (r.exitCode !== 0) throw new Error(`docker images failed: ${reasonLine(r)}`);
		const out: string[] = [];
		for (const line of r.stdout.split('\n')) {
			if (!line.trim()) continue;
			const i = parseJson<{Repository?: string; Tag?: string}>(line, 'docker images');
			if (!i.Repository || i.Repository === '<none>') continue;
			out.push(i.Tag && i.Tag !== '<none>' ? `${i.Repository}:${i.Tag}` : i.Repository);
		}
		return [...new Set(out)];
	};

	const containerState = async (container: string): Promise<string | undefined> => {
		const r = await exec.run({argv: [name, 'container', 'inspect', '--format', '{{.State.Status}}', container]});
		if (r.exitCode === 0) return r.stdout.trim() || undefined;
		if (/no such (container|object)/i.test(r.stderr)) return undefined;
		throw new Error(`${name} could not inspect container ${container}: ${reasonLine(r)}`);
	};

	return {name, info, build, imageExists, save, images, containerState, peakSupport};
}
