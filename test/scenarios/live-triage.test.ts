/**
 * `kdoctor triage` against the real local cluster: faults found live with their evidence, a watch that survives an
 * API server restart (a second kube-apiserver on the same etcd, stopped and started again) with no finding lost,
 * and a user RBAC does not let read everything, for whom the triage says what it could not look at.
 */
import {execFile, spawn, type ChildProcess} from 'node:child_process';
import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {promisify} from 'node:util';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {createKube} from '../../src/adapters/kube.js';
import {startTriage} from '../../src/commands/triage.js';
import type {TriageSnapshot} from '../../src/core/cluster/engine.js';
import type {KubePort} from '../../src/core/provision/ports.js';
import {acquireCluster, type ClusterLease} from '../cluster/cluster.js';
import {CLI, runCli} from '../helpers/cli.js';
import {LIVE_KINDS} from '../../src/core/cluster/engine.js';
import {realKb} from '../helpers/kb.js';
import {kubeconfigVariant, testDeployment} from '../helpers/k8s.js';
import {freePort} from '../helpers/net.js';
import {hasTmux, tmuxDriver} from '../helpers/tmux.js';
import {strictWorld} from '../helpers/world.js';

const run = promisify(execFile);
const ns = `kdoctor-triage-${process.pid}`;
let lease: ClusterLease | undefined;
let unavailable = '';
let kube: KubePort;
let tmp: string;

const deployment = (name: string, image: string, args?: string[]) => testDeployment(name, {image, ...(args ? {args} : {})});

beforeAll(async () => {
	const got = await acquireCluster();
	if ('unavailable' in got) {
		unavailable = got.unavailable;
		if (strictWorld()) throw new Error(`the live triage tests cannot run in CI: ${unavailable}`);
		return;
	}
	lease = got;
	tmp = mkdtempSync(join(tmpdir(), 'kdoctor-triage-'));
	kube = await createKube({kubeconfig: got.info.kubeconfig});
	const image = got.info.testImage;
	await kube.apply(
		[
			{apiVersion: 'v1', kind: 'Namespace', metadata: {name: ns}},
			deployment('good', image),
			deployment('crash', image, ['exit', '1', 'KUBERNAUT_CONTROLLER_NAMESPACE environment variable is required']),
		],
		ns,
	);
}, 70 * 60_000);

afterAll(async () => {
	if (lease) {
		await run(`${lease.info.binDir}/kubectl`, [
			'--kubeconfig',
			lease.info.kubeconfig,
			'delete',
			'namespace',
			ns,
			'--wait=false',
			'--ignore-not-found',
		]).catch(() => {});
		rmSync(tmp, {recursive: true, force: true});
	}
	await lease?.release();
});

/** Waits for a snapshot that satisfies `ok`, from the stream the engine reports. */
function waitFor(snaps: TriageSnapshot[], ok: (s: TriageSnapshot) => boolean, what: string, timeoutMs = 90_000): Promise<TriageSnapshot> {
	const deadline = Date.now() + timeoutMs;
	return new Promise((resolve, reject) => {
		const check = () => {
			const s = snaps.findLast(ok);
			if (s) return resolve(s);
			if (Date.now() > deadline) return reject(new Error(`timed out waiting for ${what}; last: ${JSON.stringify(summary(snaps.at(-1)))}`));
			setTimeout(check, 100);
		};
		check();
	});
}
const summary = (s?: TriageSnapshot) =>
	s && {
		complete: s.complete,
		failing: s.failing.map((w) => `${w.name}:${w.findings[0]?.id}`),
		resources: s.resources.map((r) => `${r.resource}:${r.state}`),
		couldNotLook: s.couldNotLook,
	};
const findingOf = (s: TriageSnapshot, name: string) => s.failing.find((w) => w.name === name)?.findings[0]?.id;

/** A second kube-apiserver on the same etcd, on its own port: stopping it is an API server restart for its clients only. */
function apiserver(port: number): ChildProcess {
	const pid = readFileSync(join(lease!.dir, 'run', 'kube-apiserver.pid'), 'utf8').split(' ')[0]!;
	const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
	const bin = args.shift()!;
	const i = args.indexOf('--secure-port');
	args[i + 1] = String(port);
	args[args.indexOf('--bind-address') + 1] = '127.0.0.1';
	return spawn(bin, args, {stdio: 'ignore'});
}

/** Stops the second API server and waits until it is gone (a process left behind would outlive the test). */
async function stopServer(server: ChildProcess): Promise<void> {
	if (server.exitCode !== null || server.signalCode !== null) return;
	const gone = new Promise((r) => server.once('exit', r));
	server.kill('SIGTERM');
	const t = setTimeout(() => server.kill('SIGKILL'), 20_000);
	await gone;
	clearTimeout(t);
}

async function ready(kubeconfig: string, timeoutMs = 90_000) {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		try {
			await (await createKube({kubeconfig, requestTimeoutMs: 2000})).pods('default');
			return;
		} catch (error) {
			if (Date.now() > deadline) throw error;
			await new Promise((r) => setTimeout(r, 300));
		}
	}
}

const variant = (file: string, change: (cfg: Record<string, any>) => void) => kubeconfigVariant(lease!.info.kubeconfig, tmp, file, change);

const skip = () => {
	if (unavailable) console.warn(`[cluster] skipped: ${unavailable}`);
	return Boolean(unavailable);
};

describe('kdoctor triage on the real local cluster', () => {
	it(
		'--json: the crash loop with its log line and the image the node lacks, evidence marked as from the cluster',
		{timeout: 180_000},
		async () => {
			if (skip()) return;
			await kube.apply([deployment('noimage', 'localhost/kdoctor-triage/never-loaded:1')], ns);
			let out: any;
			for (let i = 0; i < 40; i++) {
				const r = await runCli(['triage', '-n', ns, '--kubeconfig', lease!.info.kubeconfig, '--json']);
				out = JSON.parse(r.stdout);
				const ids = out.failing.map((w: any) => `${w.workload.name}:${w.findings[0]?.id}`);
				if (ids.includes('crash:crashloop-config-error') && ids.includes('noimage:image-not-loaded')) {
					expect(r.code).toBe(1);
					break;
				}
				await new Promise((r) => setTimeout(r, 1000));
			}
			expect(out).toMatchObject({source: 'cluster', namespace: ns, complete: true, couldNotLook: []});
			expect(out.healthy).toBeGreaterThanOrEqual(1);
			const crash = out.failing.find((w: any) => w.workload.name === 'crash');
			expect(crash.workload).toEqual({kind: 'Deployment', name: 'crash', namespace: ns});
			expect(crash.findings[0].id).toBe('crashloop-config-error');
			expect(crash.findings[0].evidence.map((e: any) => e.text).join('\n')).toContain(
				'KUBERNAUT_CONTROLLER_NAMESPACE environment variable is required',
			);
			expect(crash.findings[0].evidence.every((e: any) => e.source === 'cluster')).toBe(true);
			const noimage = out.failing.find((w: any) => w.workload.name === 'noimage');
			expect(noimage.findings[0].id).toBe('image-not-loaded');
			expect(noimage.final).toMatch(/ErrImageNeverPull/);
			await run(`${lease!.info.binDir}/kubectl`, ['--kubeconfig', lease!.info.kubeconfig, '-n', ns, 'delete', 'deployment', 'noimage']);
		},
	);

	it(
		'keeps watching through an API server restart: a fault made while it was down is found after, none is lost',
		{timeout: 300_000},
		async () => {
			if (skip()) return;
			const port = await freePort();
			const kubeconfig = variant('second.kubeconfig', (cfg) => (cfg.clusters[0].cluster.server = `https://127.0.0.1:${port}`));
			let server = apiserver(port);
			const snaps: TriageSnapshot[] = [];
			const ac = new AbortController();
			try {
				await ready(kubeconfig);
				await startTriage(realKb(), {kubeconfig, namespace: ns}, (s) => snaps.push(s), ac.signal);
				await waitFor(snaps, (s) => s.complete && findingOf(s, 'crash') === 'crashloop-config-error', 'the crash loop');

				server.kill('SIGTERM');
				await new Promise((r) => server.once('exit', r));
				await waitFor(
					snaps,
					(s) => s.resources.some((r) => r.state === 'retrying'),
					'the watches to notice the API server is gone',
					60_000,
				);
				// While kdoctor's API server is down, the cluster goes on: a new fault appears (through the main API server).
				await kube.apply([deployment('later', 'localhost/kdoctor-triage/never-loaded:2')], ns);

				server = apiserver(port);
				await ready(kubeconfig);
				const after = await waitFor(
					snaps,
					(s) =>
						s.resources.length === LIVE_KINDS.length &&
						s.resources.every((r) => r.state === 'watching') &&
						findingOf(s, 'later') === 'image-not-loaded' &&
						findingOf(s, 'crash') === 'crashloop-config-error',
					'both findings after the restart',
					120_000,
				);
				expect(after.resources.find((r) => r.resource === 'pods')!.relists).toBeGreaterThanOrEqual(2);
				expect(after.couldNotLook).toEqual([]);
			} finally {
				ac.abort();
				await stopServer(server);
				await run(`${lease!.info.binDir}/kubectl`, [
					'--kubeconfig',
					lease!.info.kubeconfig,
					'-n',
					ns,
					'delete',
					'deployment',
					'later',
					'--ignore-not-found',
				]).catch(() => {});
			}
		},
	);

	it(
		'for a user RBAC lets read pods but not events or nodes, it says what it could not look at and still finds what it can',
		{timeout: 180_000},
		async () => {
			if (skip()) return;
			const kubectl = (...a: string[]) => run(`${lease!.info.binDir}/kubectl`, ['--kubeconfig', lease!.info.kubeconfig, '-n', ns, ...a]);
			await kubectl('create', 'serviceaccount', 'viewer');
			await kubectl('create', 'role', 'viewer', '--verb=get,list,watch', '--resource=pods,pods/log,deployments,replicasets');
			await kubectl('create', 'rolebinding', 'viewer', '--role=viewer', `--serviceaccount=${ns}:viewer`);
			const token = (await kubectl('create', 'token', 'viewer')).stdout.trim();
			const kubeconfig = variant('viewer.kubeconfig', (cfg) => (cfg.users[0].user = {token}));
			for (
				let i = 0;
				i < 120 && !(await kube.pods(ns, 'app=crash')).some((p) => p.containers.some((c) => c.waitingReason === 'CrashLoopBackOff'));
				i++
			)
				await new Promise((r) => setTimeout(r, 500));
			const r = await runCli(['triage', '-n', ns, '--kubeconfig', kubeconfig, '--plain', '--timeout', '20']);
			expect(r.code).toBe(2);
			expect(r.stdout).toMatch(/could not look: events: .*forbidden/);
			expect(r.stdout).toMatch(/could not look: nodes: .*forbidden/);
			expect(r.stdout).toMatch(
				/✗ deployment\/crash {2}The container exits at start-up because its configuration is missing or invalid {2}\[crashloop-config-error/,
			);
			expect(r.stderr).toBe('');
		},
	);

	it.skipIf(!hasTmux())(
		'the triage screen in a real terminal: a mismatch found live, its fix previewed, applied with y, the workload healthy again',
		{timeout: 240_000},
		async () => {
			if (skip()) return;
			const stripped = lease!.info.testImage.replace(/^localhost\//, '');
			await kube.apply([deployment('mismatch', stripped)], ns);
			const socket = `kdoctor-triage-${process.pid}`;
			const {tmux, screen, waitFor, kill} = tmuxDriver(socket, 't', 60_000);
			// A copy of the kubeconfig outside the cluster's folder: the cluster test counts processes naming that folder.
			const kubeconfig = variant('tmux.kubeconfig', () => undefined);
			try {
				tmux(
					'new-session',
					'-d',
					'-s',
					't',
					'-x',
					'140',
					'-y',
					'50',
					`env -u CI KDOCTOR_STATE_DIR=${tmp}/state TERM=xterm-256color node ${CLI} triage -n ${ns} --kubeconfig ${kubeconfig}; echo "EXIT=$?"; sleep 60`,
				);
				await waitFor(/deployment\/mismatch .*image-name-mismatch/);
				tmux('send-keys', '-t', 't', '/', 'm', 'i', 's', 'Enter');
				await waitFor(/filter: mis/);
				tmux('send-keys', '-t', 't', 'Enter');
				await waitFor(/\[p\] Patch the deployment to the image name the node holds/);
				tmux('send-keys', '-t', 't', 'p');
				await waitFor(new RegExp(`\\+ image: ${lease!.info.testImage.replace(/[./]/g, '\\$&')}`));
				tmux('send-keys', '-t', 't', 'y');
				await waitFor(/✓ verified: deployment mismatch: 1\/1 ready/, 120_000);
				tmux('send-keys', '-t', 't', 'Enter', 'Escape', 'Escape');
				// The list follows the cluster: once the old pod is gone, the workload leaves it.
				const end = Date.now() + 60_000;
				while (/deployment\/mismatch/.test(screen()) && Date.now() < end) await new Promise((r) => setTimeout(r, 200));
				expect(screen()).not.toMatch(/deployment\/mismatch/);
				tmux('send-keys', '-t', 't', 'q');
				const last = await waitFor(/EXIT=\d/);
				expect(last).toMatch(/EXIT=0/);
				expect(last).not.toMatch(/\bERROR\b/);
				const d = await kube.deployment(ns, 'mismatch');
				expect(d!.containers[0]!.image).toBe(lease!.info.testImage);
			} finally {
				kill();
			}
		},
	);
});
