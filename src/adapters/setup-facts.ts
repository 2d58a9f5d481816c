import {closeSync, existsSync, openSync, readdirSync, readFileSync, readSync} from 'node:fs';
import {delimiter, join} from 'node:path';
import {createExec, reasonLine} from './exec.js';
import {normaliseArch, parseJson, readDockerInfo, readPodmanInfo, readPodmanMachines} from './engine-read.js';
import {createHost} from './host.js';
import {ToolMissingError, type ExecPort, type HostPort} from '../core/provision/ports.js';
import type {DockerInfo, KindNodeContainer, PodmanInfo, PodmanMachine, SetupFactsPort, ToolFacts} from '../core/setup/types.js';

export type SetupFactsOptions = {
	/** darwin, linux: whose rules apply (a recording of a Mac says darwin on any machine). */
	platform?: string;
	exec?: ExecPort;
	host?: HostPort;
	env?: Record<string, string | undefined>;
	procRoot?: string;
	isRoot?: boolean;
};

/** The version command of each tool, as kind itself asks docker and podman (`-v`). */
const VERSION_ARGV: Record<string, string[]> = {
	podman: ['podman', '--version'],
	docker: ['docker', '-v'],
	kind: ['kind', 'version'],
	go: ['go', 'version'],
	kubectl: ['kubectl', 'version', '--client'],
};

const KIND_LABEL = 'io.x-k8s.kind.cluster';
/** A Dockerfile larger than this is not one: read no further. */
const MAX_TEXT = 1024 * 1024;

/** Where a program is on PATH, found the way a shell finds it. */
function onPath(name: string, env: Record<string, string | undefined>): string | undefined {
	for (const dir of (env.PATH ?? '').split(delimiter)) {
		if (!dir) continue;
		const p = join(dir, name);
		if (existsSync(p)) return p;
	}
	return undefined;
}

function osRelease(): Record<string, string> {
	const out: Record<string, string> = {};
	for (const f of ['/etc/os-release', '/usr/lib/os-release']) {
		try {
			for (const line of readFileSync(f, 'utf8').split('\n')) {
				const m = /^(\w+)=(.*)$/.exec(line.trim());
				if (m) out[m[1]!] = m[2]!.replace(/^["']|["']$/g, '');
			}
			return out;
		} catch {
			/* next */
		}
	}
	return out;
}

/** Facts about this machine for `kdoctor setup`, every one through a program or a file a person could check by hand. */
export function createSetupFacts(opts: SetupFactsOptions = {}): SetupFactsPort {
	const platform = opts.platform ?? process.platform;
	const exec = opts.exec ?? createExec();
	const env = opts.env ?? process.env;
	const procRoot = opts.procRoot ?? '/proc';
	const host = opts.host ?? createHost({platform, exec, procRoot});
	const memo = new Map<string, Promise<unknown>>();
	const once = <T>(key: string, fn: () => Promise<T>): Promise<T> => {
		if (!memo.has(key)) memo.set(key, fn());
		return memo.get(key) as Promise<T>;
	};
	const run = (argv: string[], extraEnv?: Record<string, string>) =>
		exec.run({argv, timeoutMs: 20_000, ...(extraEnv ? {env: extraEnv} : {})});

	const tool = (name: keyof typeof VERSION_ARGV) =>
		once(`tool:${name}`, async (): Promise<ToolFacts> => {
			let r;
			try {
				r = await run(VERSION_ARGV[name]!);
			} catch (error) {
				if (error instanceof ToolMissingError) return {};
				throw error;
			}
			const path = platform === process.platform ? (onPath(name, env) ?? name) : name;
			const line = (r.stdout || r.stderr)
				.split('\n')
				.map((l) => l.trim())
				.find(Boolean);
			if (r.exitCode !== 0) return {path, ...(line ? {versionLine: line} : {}), error: reasonLine(r)};
			const version = line?.match(/v?(\d+\.\d+(?:\.\d+)?)/)?.[1];
			return {path, ...(line ? {versionLine: line} : {}), ...(version ? {version} : {})};
		});

	return {
		platform,
		arch: () =>
			once('arch', async () => {
				if (platform === 'darwin') {
					// Under Rosetta a translated shell says x86_64; the hardware question is hw.optional.arm64.
					const hw = await run(['sysctl', '-n', 'hw.optional.arm64']).catch(() => undefined);
					if (hw?.exitCode === 0 && hw.stdout.trim() === '1') return 'arm64';
				}
				const r = await run(['uname', '-m']);
				if (r.exitCode !== 0) throw new Error(`uname -m failed: ${reasonLine(r)}`);
				return normaliseArch(r.stdout);
			}),
		osName: () =>
			once('os', async () => {
				if (platform === 'darwin') {
					const r = await run(['sw_vers', '-productVersion']);
					return `macOS ${r.stdout.trim() || '?'}`;
				}
				const rel = osRelease();
				return rel.PRETTY_NAME ?? `${platform}`;
			}),
		osFamily: () =>
			once('family', async () => {
				if (platform === 'darwin') return ['macos'];
				const rel = osRelease();
				return [rel.ID ?? '', ...(rel.ID_LIKE ?? '').split(/\s+/)].filter(Boolean);
			}),
		tool,
		podmanInfo: () =>
			once('podman-info', () =>
				readPodmanInfo(
					run,
					(r) =>
						new Error(
							`podman is installed but not answering: ${reasonLine(r)}${platform === 'darwin' ? '; start it with `podman machine start`' : ''}`,
						),
				),
			),
		podmanMachines: () => once('machines', () => readPodmanMachines(run, (r) => new Error(reasonLine(r)))),
		dockerInfo: () =>
			once('docker-info', () =>
				readDockerInfo(run, (r) => new Error(`docker is installed but its daemon is not answering: ${reasonLine(r)}`)),
			),
		emulators: () =>
			once('emulators', async () => {
				if (platform === 'darwin') {
					// `arch -x86_64` runs a program translated: it works exactly when Rosetta 2 is installed.
					const r = await run(['arch', '-x86_64', '/usr/bin/true']).catch(() => undefined);
					return r?.exitCode === 0 ? ['Rosetta 2'] : [];
				}
				try {
					return readdirSync(join(procRoot, 'sys/fs/binfmt_misc'))
						.filter((n) => !['register', 'status'].includes(n))
						.filter((n) => {
							try {
								return readFileSync(join(procRoot, 'sys/fs/binfmt_misc', n), 'utf8').startsWith('enabled');
							} catch {
								return false;
							}
						})
						.map((n) => `binfmt ${n}`);
				} catch {
					return [];
				}
			}),
		async sysctl(name) {
			if (platform !== 'linux') return undefined;
			try {
				const n = Number(readFileSync(join(procRoot, 'sys', ...name.split('.')), 'utf8').trim());
				return Number.isFinite(n) ? n : undefined;
			} catch {
				return undefined;
			}
		},
		freeDiskGiB: (path) => host.freeDiskGiB(path),
		portHolder: (port) => host.portHolder(port),
		kindClusters: (engine) =>
			once(`kind-clusters:${engine}`, async () => {
				let r;
				try {
					r = await run(['kind', 'get', 'clusters'], {KIND_EXPERIMENTAL_PROVIDER: engine});
				} catch (error) {
					if (error instanceof ToolMissingError) throw new Error('kind is not installed');
					throw error;
				}
				if (r.exitCode !== 0) throw new Error(reasonLine(r));
				return r.stdout
					.split('\n')
					.map((l) => l.trim())
					.filter(Boolean);
			}),
		kindNodeContainers: (engine) =>
			once(`kind-nodes:${engine}`, async (): Promise<KindNodeContainer[]> => {
				if (engine === 'podman') {
					const r = await run(['podman', 'ps', '-a', '--filter', `label=${KIND_LABEL}`, '--format', 'json']);
					if (r.exitCode !== 0) throw new Error(reasonLine(r));
					const list = parseJson<{Names?: string[]; Labels?: Record<string, string>; State?: string}[] | null>(
						r.stdout || '[]',
						'podman ps',
					);
					return (list ?? []).map((c) => ({name: c.Names?.[0] ?? '?', cluster: c.Labels?.[KIND_LABEL] ?? '?', state: c.State ?? '?'}));
				}
				const r = await run(['docker', 'ps', '-a', '--filter', `label=${KIND_LABEL}`, '--format', '{{json .}}']);
				if (r.exitCode !== 0) throw new Error(reasonLine(r));
				return r.stdout
					.split('\n')
					.filter((l) => l.trim())
					.map((l) => parseJson<{Names?: string; Labels?: string; State?: string}>(l, 'docker ps'))
					.map((c) => ({
						name: c.Names ?? '?',
						cluster: /(?:^|,)io\.x-k8s\.kind\.cluster=([^,]*)/.exec(c.Labels ?? '')?.[1] ?? '?',
						state: c.State ?? '?',
					}));
			}),
		async imageArch(engine, ref) {
			const r = await run([engine, 'image', 'inspect', '--format', '{{.Architecture}}', ref]);
			return r.exitCode === 0 ? normaliseArch(r.stdout) || undefined : undefined;
		},
		readText(path) {
			const fd = openSync(path, 'r');
			try {
				const buf = Buffer.alloc(MAX_TEXT);
				const n = readSync(fd, buf, 0, MAX_TEXT, 0);
				if (buf.subarray(0, n).includes(0)) throw new Error('not a text file');
				return buf.subarray(0, n).toString('utf8');
			} finally {
				closeSync(fd);
			}
		},
		env: (name) => env[name],
		isRoot: () => opts.isRoot ?? (typeof process.getuid === 'function' && process.getuid() === 0),
		fresh: () => createSetupFacts(opts),
	};
}
