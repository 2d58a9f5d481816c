import {
	chmodSync,
	closeSync,
	existsSync,
	fsyncSync,
	mkdirSync,
	openSync,
	readdirSync,
	renameSync,
	rmSync,
	statSync,
	writeSync,
} from 'node:fs';
import {basename, dirname, join} from 'node:path';
import {stringify} from 'yaml';
import {reasonLine} from './exec.js';
import {writeFileAtomic} from './fs-port.js';
import type {ClusterProvider, ClusterSpec, EngineName, ExecPort, ExecResult, LineSink} from '../core/provision/ports.js';

/** Kubernaut requires it: kindest/node v1.36.1 uses containerd config v4, which older CLIs reject. */
export const MIN_KIND_VERSION = 'v0.32.0';
/** Attempts of `kind create cluster` when podman/crun hits a transient runtime error (Kubernaut issue #1769). */
export const CREATE_ATTEMPTS = 3;
export const CREATE_BACKOFF_MS = 5000;
const TRANSIENT = /crun: unknown version specified|OCI runtime error/;

/** Parses `kind vX.Y.Z ...` and fails in one line, as Kubernaut does, when it is older than min. */
export function checkKindVersion(output: string, min: string = MIN_KIND_VERSION): {version: string} {
	const m = /kind v(\d+)\.(\d+)\.(\d+)/.exec(output);
	const got = output.trim().split('\n')[0] ?? '';
	if (!m) throw new Error(`could not parse kind version from output: ${got}`);
	const want = /^v?(\d+)\.(\d+)\.(\d+)$/.exec(min.trim());
	if (!want) throw new Error(`minimum kind version ${min} is not vX.Y.Z`);
	const have = [Number(m[1]), Number(m[2]), Number(m[3])];
	const need = [Number(want[1]), Number(want[2]), Number(want[3])];
	const minText = `v${need.join('.')}`;
	for (let i = 0; i < 3; i++) {
		if (have[i] > need[i]) break;
		if (have[i] < need[i])
			throw new Error(
				`kind version too old: required >= ${minText}, got: ${got}; install a newer one with \`go install sigs.k8s.io/kind@${minText}\``,
			);
	}
	return {version: `v${have.join('.')}`};
}

/** kind's ERROR line plus the engine's Error line from kind's "Command Output:", which says why a pull or podman call failed. */
export function kindReason(result: Pick<ExecResult, 'stdout' | 'stderr' | 'exitCode' | 'signal' | 'timedOut' | 'cancelled'>): string {
	const lines = `${result.stderr}\n${result.stdout}`.split(/\r?\n|\r/).map((l) => l.trim());
	const error = lines.find((l) => l.startsWith('ERROR:'));
	if (!error) return reasonLine(result);
	let reason = error.slice('ERROR:'.length).trim();
	const outputAt = lines.findIndex((l) => l.startsWith('Command Output:'));
	if (outputAt >= 0) {
		const detail = lines.slice(outputAt).find((l) => /^(Command Output: )?Error:/.test(l));
		if (detail) reason += ` (${detail.replace(/^(Command Output: )?Error:\s*/, '')})`;
	}
	if (result.timedOut) reason += ' (timed out)';
	return reason;
}

/** Kind prints "using podman due to KIND_EXPERIMENTAL_PROVIDER" and friends; drop everything before `apiVersion:` (F-46). */
export function stripProviderBanner(text: string): string {
	const lines = text.split('\n');
	const at = lines.findIndex((l) => l.startsWith('apiVersion:'));
	if (at < 0) throw new Error(`kind get kubeconfig printed no kubeconfig: ${text.trim().split('\n')[0] ?? '(nothing)'}`);
	return lines.slice(at).join('\n');
}

/** Writes a file readable by its owner only, atomically (a kubeconfig holds the cluster's admin key). */
export function writePrivateAtomic(path: string, text: string): void {
	mkdirSync(dirname(path), {recursive: true});
	const tmp = join(dirname(path), `.${basename(path)}.kdoctor-${process.pid}-${Date.now()}.tmp`);
	const fd = openSync(tmp, 'w', 0o600);
	try {
		writeSync(fd, text);
		fsyncSync(fd);
	} finally {
		closeSync(fd);
	}
	chmodSync(tmp, 0o600);
	renameSync(tmp, path);
}

export type KindPortMapping = {containerPort: number; hostPort: number; protocol?: 'TCP' | 'UDP'; listenAddress?: string};

export type KindConfigInput = {
	nodeImage?: string;
	ports: KindPortMapping[];
	kubeadmConfigPatches: string[];
	/** Mount ./coverdata (relative to kind's cwd, as Kubernaut does) at /coverdata. */
	coverdata?: boolean;
	/** Mount this host folder at /coverdata instead (an absolute run folder). */
	coverdataHostPath?: string;
};

/** The Kind config for a run: one control-plane node with the profile's ports, patches and the coverage mount. */
export function kindConfigYaml(input: KindConfigInput): string {
	const node: Record<string, unknown> = {role: 'control-plane'};
	if (input.nodeImage) node.image = input.nodeImage;
	if (input.ports.length > 0) {
		node.extraPortMappings = input.ports.map((p) => ({
			containerPort: p.containerPort,
			hostPort: p.hostPort,
			...(p.listenAddress ? {listenAddress: p.listenAddress} : {}),
			protocol: p.protocol ?? 'TCP',
		}));
	}
	const hostPath = input.coverdataHostPath ?? (input.coverdata ? './coverdata' : undefined);
	if (hostPath) node.extraMounts = [{hostPath, containerPath: '/coverdata', readOnly: false}];
	const config: Record<string, unknown> = {kind: 'Cluster', apiVersion: 'kind.x-k8s.io/v1alpha4'};
	if (input.kubeadmConfigPatches.length > 0)
		node.kubeadmConfigPatches = input.kubeadmConfigPatches.map((p) => (p.endsWith('\n') ? p : `${p}\n`));
	config.nodes = [node];
	return stringify(config, {lineWidth: 0});
}

/** Writes the Kind config for a run; returns its path. */
export function writeKindConfig(path: string, input: KindConfigInput): string {
	mkdirSync(dirname(path), {recursive: true});
	writeFileAtomic(path, kindConfigYaml(input));
	return path;
}

export type KindOptions = {
	/** The kind binary (default `kind` on PATH). */
	kindPath?: string;
	/** Checked once before the first create; Kubernaut requires v0.32.0. */
	minVersion?: string;
	/** Backoff between create attempts; injectable so tests do not wait. */
	sleep?: (ms: number) => Promise<void>;
	/** Upper bound on one `kind create cluster` (pulling the node image included); default --wait + 10 minutes. */
	createTimeoutMs?: number;
};

export type KindProvider = ClusterProvider & {
	/** `kind version` through the provider; checked against minVersion. */
	version(): Promise<string>;
};

function listFiles(dir: string): string[] {
	const out: string[] = [];
	const walk = (d: string) => {
		for (const e of readdirSync(d, {withFileTypes: true})) {
			const p = join(d, e.name);
			if (e.isDirectory()) walk(p);
			else out.push(p);
		}
	};
	if (existsSync(dir)) walk(dir);
	return out.sort();
}

/** The Kind cluster provider, run as Kubernaut runs it but with the engine named on every call (F-03). */
export function createKindProvider(exec: ExecPort, engine: EngineName, opts: KindOptions = {}): KindProvider {
	const kind = opts.kindPath ?? 'kind';
	const env = {KIND_EXPERIMENTAL_PROVIDER: engine};
	const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
	const min = opts.minVersion ?? MIN_KIND_VERSION;
	let checked: Promise<string> | undefined;

	const run = (args: string[], extra: {cwd?: string; onLine?: LineSink; signal?: AbortSignal; timeoutMs?: number} = {}) =>
		exec.run({argv: [kind, ...args], env, ...extra});

	const version = async (): Promise<string> => {
		const r = await run(['version']);
		if (r.exitCode !== 0) throw new Error(`kind version failed: ${kindReason(r)}`);
		return checkKindVersion(r.stdout || r.stderr, min).version;
	};

	const ensureVersion = (): Promise<string> => {
		checked ??= version();
		checked.catch(() => (checked = undefined));
		return checked;
	};

	return {
		name: 'kind',
		version,

		async exists(spec: ClusterSpec): Promise<boolean> {
			const r = await run(['get', 'clusters']);
			if (r.exitCode !== 0) throw new Error(`kind get clusters failed: ${kindReason(r)}`);
			// F-04: an exact line match; a substring would take gateway-e2e-old for gateway-e2e.
			return r.stdout.split(/\r?\n/).some((l) => l.trim() === spec.name);
		},

		async create(spec: ClusterSpec, onLine?: LineSink, signal?: AbortSignal): Promise<void> {
			await ensureVersion();
			if (spec.configPath && !existsSync(spec.configPath)) throw new Error(`kind config file not found: ${spec.configPath}`);
			mkdirSync(dirname(spec.kubeconfigPath), {recursive: true});
			// F-06: a lock left by a killed kind blocks the kubeconfig write.
			rmSync(`${spec.kubeconfigPath}.lock`, {force: true});
			const args = ['create', 'cluster', '--name', spec.name];
			if (spec.configPath) args.push('--config', spec.configPath);
			args.push('--kubeconfig', spec.kubeconfigPath, '--wait', `${spec.waitSeconds}s`);
			const timeoutMs = opts.createTimeoutMs ?? spec.waitSeconds * 1000 + 10 * 60_000;
			for (let attempt = 1; ; attempt++) {
				const r = await run(args, {cwd: spec.cwd, onLine, signal, timeoutMs});
				if (r.cancelled || r.timedOut) {
					// kind removes its nodes when it fails, not when it is killed: a half-made node would block the next create (F-04).
					await run(['delete', 'cluster', '--name', spec.name], {timeoutMs: 120_000}).catch(() => undefined);
					if (r.cancelled) throw new Error('kind create cluster was cancelled');
					const last = r.stderr
						.split(/\r?\n|\r/)
						.map((l) => l.trim())
						.filter(Boolean)
						.pop();
					throw new Error(`kind create cluster timed out after ${Math.round(timeoutMs / 1000)}s${last ? `: last said ${last}` : ''}`);
				}
				if (r.exitCode === 0) return;
				const transient = TRANSIENT.test(`${r.stdout}\n${r.stderr}`);
				if (!transient || attempt >= CREATE_ATTEMPTS) {
					const tries = transient ? ` after ${attempt} attempts` : '';
					throw new Error(`kind create cluster failed${tries}: ${kindReason(r)}`);
				}
				const wait = CREATE_BACKOFF_MS * attempt;
				onLine?.(
					`kind create cluster hit a transient container-runtime error (attempt ${attempt}/${CREATE_ATTEMPTS}), retrying in ${wait / 1000}s`,
					'stderr',
				);
				await sleep(wait);
				if (signal?.aborted) throw new Error('kind create cluster was cancelled');
			}
		},

		async delete(spec: ClusterSpec, signal?: AbortSignal): Promise<void> {
			const r = await run(['delete', 'cluster', '--name', spec.name], {signal});
			if (r.exitCode !== 0) throw new Error(`kind delete cluster failed: ${kindReason(r)}`);
		},

		async kubeconfig(spec: ClusterSpec): Promise<string> {
			const r = await run(['get', 'kubeconfig', '--name', spec.name]);
			if (r.exitCode !== 0) throw new Error(`kind get kubeconfig failed: ${kindReason(r)}`);
			writePrivateAtomic(spec.kubeconfigPath, stripProviderBanner(r.stdout));
			return spec.kubeconfigPath;
		},

		async loadArchive(spec: ClusterSpec, tarPath: string, onLine?: LineSink, signal?: AbortSignal): Promise<void> {
			if (!existsSync(tarPath) || !statSync(tarPath).isFile()) throw new Error(`image archive not found: ${tarPath}`);
			const r = await run(['load', 'image-archive', tarPath, '--name', spec.name], {onLine, signal});
			if (r.cancelled) throw new Error('kind load image-archive was cancelled');
			if (r.exitCode !== 0) throw new Error(`kind load image-archive failed: ${kindReason(r)}`);
		},

		async nodeImages(spec: ClusterSpec): Promise<string[]> {
			const r = await exec.run({argv: [engine, 'exec', `${spec.name}-control-plane`, 'crictl', 'images', '-o', 'json']});
			if (r.exitCode !== 0) throw new Error(`${engine} exec ${spec.name}-control-plane crictl images failed: ${reasonLine(r)}`);
			let parsed: {images?: {repoTags?: string[] | null}[]};
			try {
				parsed = JSON.parse(r.stdout) as typeof parsed;
			} catch {
				throw new Error(`crictl images did not print JSON: ${r.stdout.trim().split('\n')[0] ?? ''}`);
			}
			return [...new Set((parsed.images ?? []).flatMap((i) => i.repoTags ?? []))];
		},

		async exportLogs(spec: ClusterSpec, dir: string): Promise<string[]> {
			mkdirSync(dir, {recursive: true});
			const r = await run(['export', 'logs', dir, '--name', spec.name]);
			if (r.exitCode !== 0) throw new Error(`kind export logs failed: ${kindReason(r)}`);
			return listFiles(dir);
		},
	};
}
