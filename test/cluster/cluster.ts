/**
 * Test access to the local cluster of test/cluster: started on first use (or reused when already up),
 * shared by test files in parallel workers through lease files, and stopped by the last one to finish
 * when the tests were the ones that started it.
 */
import {spawn} from 'node:child_process';
import {randomUUID} from 'node:crypto';
import {existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';

/** What up.sh writes to cluster.json: how to reach the cluster and how images get into its node. */
export type ClusterInfo = {
	kubeconfig: string;
	containerdSocket: string;
	containerdNamespace: string;
	version: string;
	nodeName: string;
	nodeIP: string;
	kubelet: 'kubelet' | 'kwok';
	testImage: string;
	binDir: string;
	portForwards: {hostPort: number; nodePort: number}[];
};

export type ClusterLease = {info: ClusterInfo; dir: string; release(): Promise<void>};

const scripts = fileURLToPath(new URL('.', import.meta.url));
export const clusterDir = process.env.KDOCTOR_CLUSTER_DIR ?? '/tmp/kdoctor-cluster';
const leases = `${clusterDir}.leases`;
const startedByTests = join(leases, 'started-by-tests');

export type ScriptResult = {code: number | null; stdout: string; stderr: string; ms: number};

/** Runs one of the cluster scripts; never throws, the caller reads the exit code. */
export function runScript(name: 'up.sh' | 'down.sh' | 'build.sh', args: string[] = [], timeoutMs = 60 * 60_000): Promise<ScriptResult> {
	const start = Date.now();
	return new Promise((resolve) => {
		const child = spawn('bash', [join(scripts, name), ...args], {stdio: ['ignore', 'pipe', 'pipe']});
		let stdout = '';
		let stderr = '';
		child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
		child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
		const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
		child.on('close', (code) => {
			clearTimeout(timer);
			resolve({code, stdout, stderr, ms: Date.now() - start});
		});
		child.on('error', (error) => {
			clearTimeout(timer);
			resolve({code: -1, stdout, stderr: stderr + String(error), ms: Date.now() - start});
		});
	});
}

/** The last `cluster: …` line a failed script printed: the reason, in one line. */
export function lastReason(r: ScriptResult): string {
	const lines = r.stderr.split('\n').filter((l) => l.startsWith('cluster: ') && !l.startsWith('cluster: last lines of'));
	return (lines.at(-1) ?? r.stderr.trim().split('\n').at(-1) ?? `exit ${r.code}`).replace(/^cluster: /, '');
}

export function readInfo(): ClusterInfo | undefined {
	const file = join(clusterDir, 'cluster.json');
	return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as ClusterInfo) : undefined;
}

/** Pids the cluster recorded for its processes, by name. */
export function recordedPids(): Record<string, number> {
	const run = join(clusterDir, 'run');
	if (!existsSync(run)) return {};
	const pids: Record<string, number> = {};
	// Each file holds "PID STARTTIME".
	for (const f of readdirSync(run)) if (f.endsWith('.pid')) pids[f.slice(0, -4)] = Number(readFileSync(join(run, f), 'utf8').split(' ')[0]);
	return pids;
}

export function alive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch {
		return false;
	}
}

function apiServerRunning(): boolean {
	const pid = recordedPids()['kube-apiserver'];
	return pid !== undefined && alive(pid);
}

function liveLeases(except?: string): string[] {
	if (!existsSync(leases)) return [];
	return readdirSync(leases).filter((f) => f !== except && /^\d+-/.test(f) && alive(Number(f.split('-')[0])));
}

/** Why the cluster cannot be had here without trying, or undefined when it can. */
async function precondition(): Promise<string | undefined> {
	if (process.platform !== 'linux') return `a local cluster needs Linux (this is ${process.platform})`;
	if (process.getuid?.() !== 0) return 'the local cluster needs root (containerd, kubelet, iptables)';
	// Outside CI a first build takes tens of minutes: only run when it is built or asked for.
	if (!process.env.CI && !process.env.KDOCTOR_REQUIRE_WORLD && !process.env.KDOCTOR_CLUSTER_TESTS && !apiServerRunning()) {
		const check = await runScript('build.sh', ['--check'], 60_000);
		if (check.code !== 0) {
			return 'Kubernetes is not built yet (run `npm run cluster:up` once, or set KDOCTOR_CLUSTER_TESTS=1)';
		}
	}
	return undefined;
}

/** Starts or reuses the cluster and holds a lease on it until release(); or the one-line reason it cannot. */
export async function acquireCluster(): Promise<ClusterLease | {unavailable: string}> {
	const why = await precondition();
	if (why) return {unavailable: why};
	mkdirSync(leases, {recursive: true});
	const lease = `${process.pid}-${randomUUID()}`;
	writeFileSync(join(leases, lease), '');
	const wasRunning = apiServerRunning();
	const up = await runScript('up.sh');
	const info = readInfo();
	if (up.code !== 0 || !info) {
		rmSync(join(leases, lease), {force: true});
		// A half-started cluster must not outlive the tests that started it.
		if (!wasRunning && liveLeases().length === 0) await runScript('down.sh');
		return {unavailable: `cluster:up failed: ${lastReason(up)} (logs in ${clusterDir}/logs)`};
	}
	if (!wasRunning) writeFileSync(startedByTests, '');
	let released = false;
	return {
		info,
		dir: clusterDir,
		async release() {
			if (released) return;
			released = true;
			rmSync(join(leases, lease), {force: true});
			if (liveLeases().length === 0 && existsSync(startedByTests)) {
				rmSync(startedByTests, {force: true});
				await runScript('down.sh');
			}
		},
	};
}

/** Waits until no other live process holds a lease, so a test may stop the cluster under nobody. */
export async function waitForOtherLeases(timeoutMs: number): Promise<boolean> {
	const deadline = Date.now() + timeoutMs;
	while (liveLeases().length > 0) {
		if (Date.now() > deadline) return false;
		await new Promise((r) => setTimeout(r, 1000));
	}
	return true;
}

/** Whether the tests (not a person) started the running cluster; consumed by whoever stops it. */
export function takeStartedByTests(): boolean {
	const had = existsSync(startedByTests);
	rmSync(startedByTests, {force: true});
	return had;
}
