import {strictWorld} from '../helpers/world.js';
import {execFile} from 'node:child_process';
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {createServer, type Server} from 'node:net';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {promisify} from 'node:util';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {parse, stringify} from 'yaml';
import {createKube} from '../../src/adapters/kube.js';
import type {KubePort, PodFacts} from '../../src/core/provision/ports.js';
import {acquireCluster, type ClusterLease} from '../cluster/cluster.js';
import {kubeconfigVariant as variantOf, kubeRejection, testDeployment} from '../helpers/k8s.js';

const run = promisify(execFile);
const ns = `kdoctor-kube-${process.pid}`;
const crdName = 'widgets.kdoctor.test';

let lease: ClusterLease | undefined;
let skipReason: string | undefined;
let kube: KubePort;
let image: string;
let tmp: string;

async function eventually<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 150_000): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	let last: unknown;
	for (;;) {
		try {
			const v = await fn();
			if (v !== undefined && v !== false) return v;
		} catch (error) {
			last = error;
		}
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
		await new Promise((r) => setTimeout(r, 500));
	}
}

const deployment = testDeployment;

async function podOf(app: string): Promise<PodFacts | undefined> {
	const pods = await kube.pods(ns, `app=${app}`);
	return pods.find((p) => p.phase !== 'Succeeded' && p.phase !== 'Failed') ?? pods[0];
}

/** A kubeconfig like the admin one but with another server, user or context name. */
function kubeconfigVariant(file: string, change: (cfg: Record<string, any>) => void): string {
	return variantOf(lease!.info.kubeconfig, tmp, file, change);
}

const rejection = kubeRejection;

describe('KubePort on @kubernetes/client-node against the local cluster', () => {
	beforeAll(async () => {
		const got = await acquireCluster();
		if ('unavailable' in got) {
			if (strictWorld()) throw new Error(`the kube adapter tests cannot run in CI: ${got.unavailable}`);
			skipReason = got.unavailable;
			console.warn(`kube adapter tests skipped: ${skipReason}`);
			return;
		}
		lease = got;
		image = got.info.testImage;
		tmp = mkdtempSync(join(tmpdir(), 'kdoctor-kube-'));
		kube = await createKube({kubeconfig: got.info.kubeconfig});
		console.info(`kube adapter tests run on Kubernetes ${got.info.version} with a real ${got.info.kubelet}`);
	}, 70 * 60_000);

	afterAll(async () => {
		if (lease) {
			const kubectl = `${lease.info.binDir}/kubectl`;
			await run(kubectl, ['--kubeconfig', lease.info.kubeconfig, 'delete', 'namespace', ns, '--wait=false', '--ignore-not-found']).catch(
				() => {},
			);
			await run(kubectl, ['--kubeconfig', lease.info.kubeconfig, 'delete', 'crd', crdName, '--wait=false', '--ignore-not-found']).catch(
				() => {},
			);
			rmSync(tmp, {recursive: true, force: true});
		}
		await lease?.release();
	}, 10 * 60_000);

	it('applies a namespace, ConfigMap, Deployment and NodePort Service, and sees the pod Running and Ready', async (ctx) => {
		if (!lease) return ctx.skip(skipReason);
		const applied = await kube.apply(
			[
				{apiVersion: 'v1', kind: 'Namespace', metadata: {name: ns}},
				{apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: 'web-config'}, data: {GREETING: 'hello'}},
				deployment('web', {image, ports: [{containerPort: 8080}], readinessProbe: {httpGet: {path: '/', port: 8080}, periodSeconds: 1}}),
				{
					apiVersion: 'v1',
					kind: 'Service',
					metadata: {name: 'web'},
					spec: {type: 'NodePort', selector: {app: 'web'}, ports: [{port: 80, targetPort: 8080}]},
				},
			],
			ns,
		);
		expect(applied).toEqual([
			{kind: 'Namespace', name: ns},
			{kind: 'ConfigMap', name: 'web-config', namespace: ns},
			{kind: 'Deployment', name: 'web', namespace: ns},
			{kind: 'Service', name: 'web', namespace: ns},
		]);
		const pod = await eventually('web to be Ready', async () => {
			const p = await podOf('web');
			return p?.ready ? p : undefined;
		});
		expect(pod).toMatchObject({
			namespace: ns,
			phase: 'Running',
			ready: true,
			owner: 'web',
			labels: {app: 'web'},
			imagePullPolicy: {app: 'Never'},
		});
		expect(pod.containers).toEqual([{name: 'app', image, ready: true, restartCount: 0}]);
		expect(Date.parse(pod.createdAt)).not.toBeNaN();
		expect(await kube.logs(ns, pod.name, 'app', {tailLines: 5})).toContain('testapp listening on :8080');
		// Never restarted: there is no previous container, and that is an empty log, not an error.
		expect(await kube.logs(ns, pod.name, 'app', {previous: true})).toBe('');
		// Applying the same documents again is a no-op, as server-side apply should be.
		await kube.apply([{apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: 'web-config'}, data: {GREETING: 'hello'}}], ns);
	}, 300_000);

	it('reports ErrImageNeverPull for an image that is not in the node, with the pull failure in events', async (ctx) => {
		if (!lease) return ctx.skip(skipReason);
		await kube.apply([deployment('never', {image: 'localhost/does-not-exist:1'})], ns);
		const pod = await eventually('ErrImageNeverPull', async () => {
			const p = await podOf('never');
			return p?.containers[0]?.waitingReason === 'ErrImageNeverPull' ? p : undefined;
		});
		expect(pod.owner).toBe('never');
		expect(pod.containers[0]!.waitingMessage).toContain('localhost/does-not-exist:1');
		const event = await eventually('the pull failure event', async () =>
			(await kube.events(ns)).find((e) => e.object === pod.name && e.reason === 'ErrImageNeverPull'),
		);
		expect(event).toMatchObject({namespace: ns, kind: 'Pod', type: 'Warning'});
		expect(event.message).toContain('localhost/does-not-exist:1');
		expect(event.count).toBeGreaterThanOrEqual(1);
		expect(Date.parse(event.lastSeen)).not.toBeNaN();
	}, 300_000);

	it('reports CrashLoopBackOff with the last exit code, and the previous container log', async (ctx) => {
		if (!lease) return ctx.skip(skipReason);
		const line = 'config error: DATABASE_URL is not set';
		await kube.apply([deployment('crash', {image, args: ['exit', '1', line]})], ns);
		const pod = await eventually(
			'CrashLoopBackOff',
			async () => {
				const p = await podOf('crash');
				const c = p?.containers[0];
				return c?.waitingReason === 'CrashLoopBackOff' && c.lastExitCode === 1 ? p : undefined;
			},
			240_000,
		);
		expect(pod.containers[0]).toMatchObject({lastTerminatedReason: 'Error', lastExitCode: 1, ready: false});
		expect(pod.containers[0]!.restartCount).toBeGreaterThanOrEqual(1);
		expect(await kube.logs(ns, pod.name, 'app', {previous: true})).toContain(line);
	}, 300_000);

	it('tells a pending pod that cannot be scheduled by the scheduler message', async (ctx) => {
		if (!lease) return ctx.skip(skipReason);
		await kube.apply([deployment('nowhere', {image}, {nodeSelector: {'kdoctor.test/none': 'true'}})], ns);
		const pod = await eventually('PodScheduled=False', async () => {
			const p = await podOf('nowhere');
			return p?.unschedulableMessage ? p : undefined;
		});
		expect(pod.phase).toBe('Pending');
		expect(pod.unschedulableMessage).toMatch(/0\/1 nodes are available/);
	}, 180_000);

	it('follows a Job to complete or failed, and says when it is missing', async (ctx) => {
		if (!lease) return ctx.skip(skipReason);
		const job = (name: string, code: string) => ({
			apiVersion: 'batch/v1',
			kind: 'Job',
			metadata: {name},
			spec: {
				backoffLimit: 0,
				template: {
					spec: {restartPolicy: 'Never', containers: [{name: 'run', image, imagePullPolicy: 'Never', args: ['exit', code, `job ${name}`]}]},
				},
			},
		});
		await kube.apply([job('migrate', '0'), job('broken', '3')], ns);
		expect(
			await eventually('the Job to complete', async () => ((await kube.jobStatus(ns, 'migrate')) === 'complete' ? 'complete' : undefined)),
		).toBe('complete');
		expect(
			await eventually('the Job to fail', async () => ((await kube.jobStatus(ns, 'broken')) === 'failed' ? 'failed' : undefined)),
		).toBe('failed');
		expect(await kube.jobStatus(ns, 'no-such-job')).toBe('missing');
		const pods = await kube.pods(ns, 'job-name=broken');
		expect(pods[0]).toMatchObject({owner: 'broken', phase: 'Failed'});
		expect(pods[0]!.containers[0]).toMatchObject({terminatedReason: 'Error', exitCode: 3});
	}, 300_000);

	it('applies a CRD before its custom resources in the same batch', async (ctx) => {
		if (!lease) return ctx.skip(skipReason);
		const applied = await kube.apply(
			[
				{apiVersion: 'kdoctor.test/v1', kind: 'Widget', metadata: {name: 'w1'}, spec: {size: 3}},
				{
					apiVersion: 'apiextensions.k8s.io/v1',
					kind: 'CustomResourceDefinition',
					metadata: {name: crdName},
					spec: {
						group: 'kdoctor.test',
						scope: 'Namespaced',
						names: {plural: 'widgets', singular: 'widget', kind: 'Widget'},
						versions: [
							{
								name: 'v1',
								served: true,
								storage: true,
								subresources: {status: {}},
								schema: {
									openAPIV3Schema: {
										type: 'object',
										properties: {
											spec: {type: 'object', 'x-kubernetes-preserve-unknown-fields': true},
											status: {type: 'object', 'x-kubernetes-preserve-unknown-fields': true},
										},
									},
								},
							},
						],
					},
				},
			],
			ns,
		);
		expect(applied).toEqual([
			{kind: 'CustomResourceDefinition', name: crdName},
			{kind: 'Widget', name: 'w1', namespace: ns},
		]);
	}, 180_000);

	it('sets a custom resource’s status through its subresource, and reads ConfigMap and Secret data', async (ctx) => {
		if (!lease) return ctx.skip(skipReason);
		await kube.patchStatus(
			{apiVersion: 'kdoctor.test/v1', kind: 'Widget', namespace: ns, name: 'w1'},
			{registered: true, catalogStatus: 'Active'},
		);
		const kubectl = `${lease.info.binDir}/kubectl`;
		const got = await run(kubectl, ['--kubeconfig', lease.info.kubeconfig, '-n', ns, 'get', 'widget', 'w1', '-o', 'jsonpath={.status}']);
		expect(JSON.parse(got.stdout)).toEqual({registered: true, catalogStatus: 'Active'});
		// The CRD is the one written: the typed model of the client library would have dropped this key (and default, enum).
		const schema = await run(kubectl, [
			'--kubeconfig',
			lease.info.kubeconfig,
			'get',
			'crd',
			crdName,
			'-o',
			'jsonpath={.spec.versions[0].schema}',
		]);
		expect(schema.stdout).toContain('"x-kubernetes-preserve-unknown-fields":true');
		await kube.apply(
			[
				{apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: 'ca'}, data: {'ca.crt': 'PEM'}},
				{
					apiVersion: 'v1',
					kind: 'Secret',
					metadata: {name: 'pair'},
					type: 'kubernetes.io/tls',
					data: {'tls.crt': 'Yw==', 'tls.key': 'aw=='},
				},
			],
			ns,
		);
		expect(await kube.readData('ConfigMap', ns, 'ca')).toEqual({'ca.crt': 'PEM'});
		expect(await kube.readData('Secret', ns, 'pair')).toEqual({'tls.crt': 'c', 'tls.key': 'k'});
		expect(await kube.readData('Secret', ns, 'nope')).toBeUndefined();
		await expect(kube.patchStatus({apiVersion: 'kdoctor.test/v1', kind: 'Gadget', namespace: ns, name: 'x'}, {})).rejects.toThrow(
			/no kind Gadget in kdoctor.test\/v1/,
		);
	}, 120_000);

	it('scales a Deployment', async (ctx) => {
		if (!lease) return ctx.skip(skipReason);
		await kube.scale(ns, 'web', 2);
		await eventually('two web pods', async () => ((await kube.pods(ns, 'app=web')).filter((p) => p.ready).length === 2 ? true : undefined));
		await kube.scale(ns, 'web', 1);
	}, 180_000);

	it('watches the namespace, reads and patches a Deployment, marks the replaced pods stale, and lists the node images', async (ctx) => {
		if (!lease) return ctx.skip(skipReason);
		let changes = 0;
		const stop = new AbortController();
		kube.watch!(ns, () => changes++, stop.signal);
		const before = await kube.deployment(ns, 'web');
		expect(before).toMatchObject({name: 'web', namespace: ns, selector: 'app=web', replicas: 1});
		const oldPod = (await kube.pods(ns, 'app=web')).find((p) => p.ready)!.name;
		expect(before!.containers[0]).toMatchObject({name: 'app', image, readinessProbe: {path: '/', port: 8080}});
		expect(await kube.deployment(ns, 'no-such-deployment')).toBeUndefined();
		await kube.patchDeployment(ns, 'web', {
			spec: {template: {spec: {containers: [{name: 'app', env: [{name: 'PATCHED', value: 'yes'}]}]}}},
		});
		const after = await eventually('the rollout of the patched template', async () => {
			const d = await kube.deployment(ns, 'web');
			return d && d.observedGeneration >= d.generation && d.updatedReplicas === 1 && d.readyReplicas === 1 ? d : undefined;
		});
		expect(after.generation).toBeGreaterThan(before!.generation);
		expect(after.containers[0]!.env).toContainEqual({name: 'PATCHED', value: 'yes'});
		// The watch saw the new pod come and the old one go.
		expect(changes).toBeGreaterThan(0);
		// Ready counts can still include the old pod: the new template's pod is the one not stale and not going away.
		const fresh = await eventually('the new pod Ready', async () => {
			const ps = (await kube.pods(ns, 'app=web')).filter((p) => !p.stale && !p.terminating);
			return ps.length === 1 && ps[0]!.ready ? ps[0] : undefined;
		});
		expect(fresh.name).not.toBe(oldPod);
		const all = await kube.pods(ns, 'app=web');
		expect(all.filter((p) => p.name !== fresh.name).every((p) => p.stale || p.terminating)).toBe(true);
		stop.abort();
		expect(await kube.nodeImages()).toContain(image);
		expect((await kube.nodeImages()).some((n) => n.includes('@sha256:'))).toBe(false);
	}, 240_000);

	it('dumps the namespace as YAML with the deployment, and never a secret value', async (ctx) => {
		if (!lease) return ctx.skip(skipReason);
		const secretValue = 'pa55w0rd-never-dumped';
		await kube.apply([{apiVersion: 'v1', kind: 'Secret', metadata: {name: 'db'}, stringData: {password: secretValue}}], ns);
		const dump = await kube.dump(ns);
		const docs = dump.split(/^---$/m).map((d) => parse(d) as {kind?: string; items?: {metadata?: {name?: string}; name?: string}[]} | null);
		const names = (i: number) => (docs[i]?.items ?? []).map((x) => x.metadata?.name ?? x.name);
		expect(dump).toContain('# deployments in');
		expect(names(1)).toContain('web');
		expect(names(0).some((n) => n?.startsWith('web-'))).toBe(true);
		expect(names(6)).toContain('web-config');
		expect(names(7)).toContain('db');
		expect(dump).not.toContain(secretValue);
		expect(dump).not.toContain(Buffer.from(secretValue).toString('base64'));
		expect(dump).not.toContain('managedFields');
	}, 120_000);

	it('names the object and the server message when an apply is refused (a NodePort already allocated)', async (ctx) => {
		if (!lease) return ctx.skip(skipReason);
		const taken = (
			await run(`${lease.info.binDir}/kubectl`, [
				'--kubeconfig',
				lease.info.kubeconfig,
				'-n',
				ns,
				'get',
				'svc',
				'web',
				'-o',
				'jsonpath={.spec.ports[0].nodePort}',
			])
		).stdout;
		const error = await rejection(
			kube.apply(
				[
					{
						apiVersion: 'v1',
						kind: 'Service',
						metadata: {name: 'gateway-service'},
						spec: {type: 'NodePort', selector: {app: 'web'}, ports: [{port: 80, targetPort: 8080, nodePort: Number(taken)}]},
					},
				],
				ns,
			),
		);
		expect(error.message).toBe(
			`Service ${ns}/gateway-service: spec.ports[0].nodePort: Invalid value: ${taken}: provided port is already allocated`,
		);
	});

	it('says which read was refused for bad credentials (401) and for a user without the right (403)', async (ctx) => {
		if (!lease) return ctx.skip(skipReason);
		const anonymous = kubeconfigVariant('token', (cfg) => (cfg.users[0].user = {token: 'not-a-valid-token'}));
		const e401 = await rejection((await createKube({kubeconfig: anonymous})).events(ns));
		expect(e401.kind).toBe('unauthorized');
		expect(e401.message).toMatch(
			/rejected the kubeconfig's credentials \(401 Unauthorized\): could not list events in namespace kdoctor-kube-/,
		);
		// kube-proxy's identity may read Services but not pods.
		const e403 = await rejection((await createKube({kubeconfig: join(lease.dir, 'pki', 'kube-proxy.kubeconfig')})).pods(ns));
		expect(e403.kind).toBe('forbidden');
		expect(e403.message).toBe(
			`not allowed to list pods in namespace ${ns}: pods is forbidden: User "system:kube-proxy" cannot list resource "pods" in API group "" in the namespace "${ns}"`,
		);
	});
});

/** A kubeconfig of its own (no cluster needed): one context per server, token users, TLS checks off. */
function kubeconfigFile(name: string, contexts: {name: string; server: string}[], current?: string): string {
	const cfg = {
		apiVersion: 'v1',
		kind: 'Config',
		clusters: contexts.map((c) => ({name: c.name, cluster: {server: c.server, 'insecure-skip-tls-verify': true}})),
		users: contexts.map((c) => ({name: c.name, user: {token: 't'}})),
		contexts: contexts.map((c) => ({name: c.name, context: {cluster: c.name, user: c.name}})),
		'current-context': current ?? '',
	};
	const path = join(offline, name);
	writeFileSync(path, stringify(cfg), {mode: 0o600});
	return path;
}

let offline: string;

describe('KubePort errors and kubeconfig handling (loopback only, no cluster needed)', () => {
	beforeAll(() => {
		offline = mkdtempSync(join(tmpdir(), 'kdoctor-kube-offline-'));
	});
	afterAll(() => rmSync(offline, {recursive: true, force: true}));

	it('says in one line that the API server cannot be reached', async () => {
		const path = kubeconfigFile('unreachable', [{name: 'a', server: 'https://127.0.0.1:1'}], 'a');
		const kube = await createKube({kubeconfig: path});
		const error = await rejection(kube.pods('demo'));
		expect(error.kind).toBe('unreachable');
		expect(error.message).toBe(
			'cannot reach the Kubernetes API server at https://127.0.0.1:1: connection refused (is the cluster running?)',
		);
		expect((await rejection(kube.apply([{apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: 'c'}}], 'demo'))).message).toBe(
			error.message,
		);
		expect((await rejection(kube.dump('demo'))).message).toBe(error.message);
	});

	it('gives up on an API server that does not answer, after the request timeout', async () => {
		// A real socket that accepts and then says nothing.
		const silent: Server = createServer(() => {});
		await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
		const port = (silent.address() as {port: number}).port;
		try {
			const path = kubeconfigFile('silent', [{name: 'a', server: `https://127.0.0.1:${port}`}], 'a');
			const error = await rejection((await createKube({kubeconfig: path, requestTimeoutMs: 500})).jobStatus('demo', 'x'));
			expect(error.kind).toBe('timeout');
			expect(error.message).toBe(
				`the Kubernetes API server at https://127.0.0.1:${port} did not answer within 0.5s (trying to read job demo/x)`,
			);
		} finally {
			silent.close();
		}
	});

	it('reads KUBECONFIG as kubectl does: several files, missing ones skipped, first current-context wins, --context overrides', async () => {
		const first = kubeconfigFile('first', [{name: 'one', server: 'https://127.0.0.1:1'}], 'one');
		const second = kubeconfigFile(
			'second',
			[
				{name: 'one', server: 'https://127.0.0.1:9'},
				{name: 'two', server: 'https://127.0.0.1:2'},
			],
			'two',
		);
		const saved = process.env.KUBECONFIG;
		process.env.KUBECONFIG = [join(offline, 'missing'), first, second].join(':');
		try {
			// The server named in the error tells which context and which cluster entry won.
			expect((await rejection((await createKube()).pods('demo'))).message).toContain('https://127.0.0.1:1:');
			expect((await rejection((await createKube({context: 'two'})).pods('demo'))).message).toContain('https://127.0.0.1:2:');
			const unknown = await rejection(createKube({context: 'nope'}));
			expect(unknown.kind).toBe('config');
			expect(unknown.message).toBe(`context "nope" is not in KUBECONFIG=${process.env.KUBECONFIG} (it has: one, two)`);
		} finally {
			if (saved === undefined) delete process.env.KUBECONFIG;
			else process.env.KUBECONFIG = saved;
		}
	});

	it('says what is wrong with a kubeconfig in one line', async () => {
		expect((await rejection(createKube({kubeconfig: join(offline, 'absent')}))).message).toBe(
			`kubeconfig ${join(offline, 'absent')} does not exist`,
		);
		const noCurrent = kubeconfigFile('no-current', [{name: 'a', server: 'https://127.0.0.1:1'}]);
		expect((await rejection(createKube({kubeconfig: noCurrent}))).message).toBe(`${noCurrent} has no current-context; pass --context`);
		const garbage = join(offline, 'garbage');
		writeFileSync(garbage, ': not yaml : [');
		const bad = await rejection(createKube({kubeconfig: garbage}));
		expect(bad.kind).toBe('config');
		expect(bad.message).toMatch(new RegExp(`^kubeconfig ${garbage} could not be read: `));
	});
});
