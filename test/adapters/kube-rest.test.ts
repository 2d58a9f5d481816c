/**
 * The one-look reader (node:https over HTTP/2, no client-node) against the real local cluster: it reads the
 * kubeconfigs local clusters write, leaves the rest to client-node, fails in one line, and a one-look snapshot is the
 * same as the watching engine's on the same namespace.
 */
import {execFile} from 'node:child_process';
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {promisify} from 'node:util';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {createLivePort} from '../../src/adapters/kube-live.js';
import {restConfig, restList, restLogs} from '../../src/adapters/kube-rest.js';
import {clusterSnapshot} from '../../src/commands/triage.js';
import {acquireCluster, type ClusterLease} from '../cluster/cluster.js';
import {kubeconfigVariant, kubeRejection} from '../helpers/k8s.js';
import {realKb} from '../helpers/kb.js';
import {strictWorld} from '../helpers/world.js';

const run = promisify(execFile);
const ns = `kdoctor-rest-${process.pid}`;
let lease: ClusterLease | undefined;
let skipReason: string | undefined;
let tmp: string;

const variant = (file: string, change: (cfg: Record<string, any>) => void) => kubeconfigVariant(lease!.info.kubeconfig, tmp, file, change);

const rejection = kubeRejection;

describe('the one-look reader against the local cluster', () => {
	beforeAll(async () => {
		const got = await acquireCluster();
		if ('unavailable' in got) {
			if (strictWorld()) throw new Error(`the one-look reader tests cannot run in CI: ${got.unavailable}`);
			skipReason = got.unavailable;
			return;
		}
		lease = got;
		tmp = mkdtempSync(join(tmpdir(), 'kdoctor-rest-'));
		const kubectl = `${got.info.binDir}/kubectl`;
		const k = ['--kubeconfig', got.info.kubeconfig];
		await run(kubectl, [...k, 'create', 'namespace', ns]);
		// A crash loop with a log line, and a Service that selects nothing: both engines must name the same.
		await run(kubectl, [
			...k,
			'-n',
			ns,
			'create',
			'deployment',
			'api',
			`--image=${got.info.testImage}`,
			'--',
			'/testapp',
			'exit',
			'1',
			'FATAL: required env DATABASE_URL not set',
		]);
		await run(kubectl, [...k, '-n', ns, 'create', 'service', 'clusterip', 'web', '--tcp=80:8080']);
	}, 70 * 60_000);

	afterAll(async () => {
		if (lease) {
			await run(`${lease.info.binDir}/kubectl`, ['--kubeconfig', lease.info.kubeconfig, 'delete', 'namespace', ns, '--wait=false']).catch(
				() => {},
			);
			rmSync(tmp, {recursive: true, force: true});
		}
		await lease?.release();
	});

	it('reads a client-certificate kubeconfig itself, and leaves exec plugins, auth providers and proxies to client-node', (ctx) => {
		if (!lease) return ctx.skip(skipReason);
		const rc = restConfig({kubeconfig: lease.info.kubeconfig});
		expect(rc?.server).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
		expect(rc?.namespace).toBe('default');
		const exec = variant('exec.yaml', (c) => (c.users[0].user = {exec: {apiVersion: 'client.authentication.k8s.io/v1', command: 'aws'}}));
		expect(restConfig({kubeconfig: exec})).toBeUndefined();
		const proxy = variant('proxy.yaml', (c) => (c.clusters[0].cluster['proxy-url'] = 'http://127.0.0.1:3128'));
		expect(restConfig({kubeconfig: proxy})).toBeUndefined();
		const withNs = variant('ns.yaml', (c) => (c.contexts[0].context.namespace = 'kubernaut-system'));
		expect(restConfig({kubeconfig: withNs})?.namespace).toBe('kubernaut-system');
		expect(() => restConfig({kubeconfig: lease!.info.kubeconfig, context: 'nope'})).toThrow(/^context "nope" is not in .* \(it has: /);
	});

	it('lists and reads logs as the API has them, page by page', async (ctx) => {
		if (!lease) return ctx.skip(skipReason);
		const rc = restConfig({kubeconfig: lease.info.kubeconfig})!;
		const nodes = (await restList(rc, '/api/v1/nodes', 'list nodes')) as {metadata: {name: string}}[];
		expect(nodes.map((n) => n.metadata.name)).toContain(lease.info.nodeName);
		let pod = '';
		for (let i = 0; i < 120 && !pod; i++) {
			const pods = (await restList(rc, `/api/v1/namespaces/${ns}/pods`, 'list pods')) as {
				metadata: {name: string};
				status?: {containerStatuses?: {restartCount: number}[]};
			}[];
			if ((pods[0]?.status?.containerStatuses?.[0]?.restartCount ?? 0) > 0) pod = pods[0]!.metadata.name;
			else await new Promise((r) => setTimeout(r, 1000));
		}
		expect(pod).not.toBe('');
		// Between restarts the kubelet may briefly have no file for one of the two instances: ask again.
		let log = '';
		for (let i = 0; i < 30 && !/FATAL/.test(log); i++) {
			log =
				(await restLogs(rc, ns, pod, 'testapp', {previous: true, timestamps: true})) +
				(await restLogs(rc, ns, pod, 'testapp', {timestamps: true}));
			if (!/FATAL/.test(log)) await new Promise((r) => setTimeout(r, 1000));
		}
		expect(log).toMatch(/^\d{4}-\d\d-\d\dT\S+ FATAL: required env DATABASE_URL not set$/m);
	});

	it('fails in one line: refused, untrusted, unauthorized, forbidden', async (ctx) => {
		if (!lease) return ctx.skip(skipReason);
		const refused = restConfig({kubeconfig: variant('refused.yaml', (c) => (c.clusters[0].cluster.server = 'https://127.0.0.1:1'))})!;
		const r = await rejection(restList(refused, '/api/v1/nodes', 'list nodes'));
		expect(r.kind).toBe('unreachable');
		expect(r.message).toBe('cannot reach the Kubernetes API server at https://127.0.0.1:1: connection refused (is the cluster running?)');
		const untrusted = restConfig({kubeconfig: variant('ca.yaml', (c) => delete c.clusters[0].cluster['certificate-authority-data'])})!;
		expect((await rejection(restList(untrusted, '/api/v1/nodes', 'list nodes'))).kind).toBe('tls');
		const anon = restConfig({
			kubeconfig: variant('token.yaml', (c) => (c.users[0].user = {token: 'not-a-token'})),
		})!;
		const u = await rejection(restList(anon, '/api/v1/nodes', 'list nodes'));
		expect(u.kind).toBe('unauthorized');
		expect(u.status).toBe(401);
	});

	it('a one-look snapshot names what the watching engine names, on the same namespace', async (ctx) => {
		if (!lease) return ctx.skip(skipReason);
		const kb = realKb();
		const opts = {kubeconfig: lease.info.kubeconfig, namespace: ns};
		const ids = (s: Awaited<ReturnType<typeof clusterSnapshot>>) =>
			s.failing.map((w) => `${w.kind}/${w.name}: ${w.findings[0]?.id}`).sort();
		const once = await clusterSnapshot(kb, opts, {settle: false});
		const watching = await clusterSnapshot(kb, opts, {settle: false}, await createLivePort(opts));
		expect(once.complete && watching.complete).toBe(true);
		expect(ids(once)).toEqual(ids(watching));
		expect(ids(once)).toEqual(['Deployment/api: crashloop-config-error', 'Service/web: service-selector-mismatch']);
		expect(once.resources.every((r) => r.state === 'listed')).toBe(true);
	});
});
