import {strictWorld} from './helpers/world.js';
import {execFile} from 'node:child_process';
import {existsSync, readdirSync, readFileSync} from 'node:fs';
import {promisify} from 'node:util';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {
	acquireCluster,
	alive,
	clusterDir,
	recordedPids,
	runScript,
	takeStartedByTests,
	waitForOtherLeases,
	type ClusterInfo,
	type ClusterLease,
} from './cluster/cluster.js';

const run = promisify(execFile);
const ns = 'kdoctor-cluster-test';

let lease: ClusterLease | undefined;
let skipReason: string | undefined;

/** kubectl built with the cluster (the machine's own may be another version or missing). */
async function kubectl(info: ClusterInfo, args: string[], input?: string): Promise<string> {
	const child = run(`${info.binDir}/kubectl`, ['--kubeconfig', info.kubeconfig, ...args], {maxBuffer: 16 << 20});
	if (input !== undefined) {
		child.child.stdin!.end(input);
	}
	return (await child).stdout;
}

async function eventually<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	let last: unknown;
	for (;;) {
		try {
			const v = await fn();
			if (v !== undefined) return v;
		} catch (error) {
			last = error;
		}
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
		await new Promise((r) => setTimeout(r, 500));
	}
}

/** Every process whose command line names the cluster folder (the shims name its socket there). */
function processesOfCluster(): number[] {
	const pids: number[] = [];
	for (const p of readdirSync('/proc')) {
		if (!/^\d+$/.test(p)) continue;
		try {
			if (readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(clusterDir)) pids.push(Number(p));
		} catch {}
	}
	return pids;
}

describe('the local cluster (test/cluster)', () => {
	beforeAll(async () => {
		const got = await acquireCluster();
		if ('unavailable' in got) {
			if (strictWorld()) throw new Error(`the cluster tests cannot run in CI: ${got.unavailable}`);
			skipReason = got.unavailable;
			console.warn(`cluster tests skipped: ${skipReason}`);
			return;
		}
		lease = got;
		console.info(`cluster tests run on Kubernetes ${got.info.version}, node ${got.info.nodeName} with a real ${got.info.kubelet}`);
	}, 70 * 60_000);

	afterAll(async () => {
		await lease?.release();
	}, 10 * 60_000);

	it('has one Ready node running the real kubelet at the pinned version', async (ctx) => {
		if (!lease) return ctx.skip(skipReason);
		const node = JSON.parse(await kubectl(lease.info, ['get', 'node', lease.info.nodeName, '-o', 'json']));
		const ready = node.status.conditions.find((c: {type: string}) => c.type === 'Ready');
		expect(ready.status).toBe('True');
		expect(node.status.nodeInfo.kubeletVersion).toBe(lease.info.version);
		expect(node.status.nodeInfo.containerRuntimeVersion).toMatch(/^containerd:\/\//);
		expect(lease.info.kubelet).toBe('kubelet');
	});

	it('runs a pod from the locally imported image and answers on its NodePort at 127.0.0.1', async (ctx) => {
		if (!lease) return ctx.skip(skipReason);
		const {info} = lease;
		await kubectl(info, ['apply', '-f', '-'], manifests(info.testImage));
		await kubectl(info, ['-n', ns, 'rollout', 'status', 'deploy/web', '--timeout=180s']);
		const nodePort = Number(await kubectl(info, ['-n', ns, 'get', 'svc', 'web', '-o', 'jsonpath={.spec.ports[0].nodePort}']));
		expect(nodePort).toBeGreaterThanOrEqual(30000);
		const body = await eventually('the NodePort to answer', async () => {
			const res = await fetch(`http://127.0.0.1:${nodePort}/`);
			return res.ok ? await res.text() : undefined;
		});
		expect(body).toMatch(/^ok web-/);
	}, 300_000);

	it('resolves a Service by name from inside a pod (CoreDNS) and reaches it through its ClusterIP', async (ctx) => {
		if (!lease) return ctx.skip(skipReason);
		const {info} = lease;
		await kubectl(info, ['-n', ns, 'delete', 'job', 'dns-check', '--ignore-not-found']);
		await kubectl(info, ['apply', '-f', '-'], dnsJob(info.testImage));
		await kubectl(info, ['-n', ns, 'wait', '--for=condition=complete', 'job/dns-check', '--timeout=180s']);
		expect(await kubectl(info, ['-n', ns, 'logs', 'job/dns-check'])).toMatch(/^ok web-/);
	}, 300_000);

	it(
		'down stops every process it started, unmounts what it mounted and removes the bridge',
		async (ctx) => {
			if (!lease) return ctx.skip(skipReason);
			// Other test files may still use the cluster: stop it only once they are done with it.
			const ours = takeStartedByTests();
			await lease.release();
			expect(await waitForOtherLeases(60 * 60_000)).toBe(true);
			const pids = recordedPids();
			expect(Object.keys(pids)).toEqual(expect.arrayContaining(['etcd', 'kube-apiserver', 'kubelet', 'containerd', 'kube-proxy']));

			const down = await runScript('down.sh');
			expect(down.code, down.stderr).toBe(0);
			for (const [name, pid] of Object.entries(pids)) expect(alive(pid), `${name} (pid ${pid}) still runs`).toBe(false);
			expect(processesOfCluster()).toEqual([]);
			const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
				.split('\n')
				.filter((l) => l.split(' ')[4]?.startsWith(`${clusterDir}/`));
			expect(mounts).toEqual([]);
			expect(existsSync('/sys/class/net/kdoctor0')).toBe(false);

			// A cluster someone started by hand goes back up, as it was found.
			if (!ours) {
				const up = await runScript('up.sh');
				expect(up.code, up.stderr).toBe(0);
			}
		},
		70 * 60_000,
	);
});

function manifests(image: string): string {
	return `
apiVersion: v1
kind: Namespace
metadata: {name: ${ns}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ${ns}}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: web
        image: ${image}
        imagePullPolicy: Never
        ports: [{containerPort: 8080}]
        readinessProbe: {httpGet: {path: /, port: 8080}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: ${ns}}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
`;
}

function dnsJob(image: string): string {
	return `
apiVersion: batch/v1
kind: Job
metadata: {name: dns-check, namespace: ${ns}}
spec:
  backoffLimit: 3
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: get
        image: ${image}
        imagePullPolicy: Never
        args: [get, "http://web.${ns}.svc.cluster.local/"]
`;
}
