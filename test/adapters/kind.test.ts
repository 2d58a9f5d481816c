import {spawnSync} from 'node:child_process';
import {existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, describe, expect, it} from 'vitest';
import {parse} from 'yaml';
import {createExec} from '../../src/adapters/exec.js';
import {
	checkKindVersion,
	createKindProvider,
	kindConfigYaml,
	kindReason,
	stripProviderBanner,
	writeKindConfig,
} from '../../src/adapters/kind.js';
import type {ClusterSpec} from '../../src/core/provision/ports.js';
import {kindBinary, needsWorld, rand, recordExec} from '../helpers/world.js';

const BANNER = 'using podman due to KIND_EXPERIMENTAL_PROVIDER\nenabling experimental podman provider\n';
const KUBECONFIG = 'apiVersion: v1\nclusters:\n- cluster:\n    server: https://127.0.0.1:39971\n  name: kind-gateway-e2e\nkind: Config\n';
const PODMAN = {KIND_EXPERIMENTAL_PROVIDER: 'podman'};

function spec(dir: string, extra: Partial<ClusterSpec> = {}): ClusterSpec {
	return {
		name: 'gateway-e2e',
		configPath: join(dir, 'kind-config.yaml'),
		kubeconfigPath: join(dir, 'kube', 'config'),
		cwd: dir,
		waitSeconds: 300,
		...extra,
	};
}

describe('checkKindVersion', () => {
	it('accepts the minimum and newer, rejects older in Kubernaut’s words, and says when it cannot parse', () => {
		expect(checkKindVersion('kind v0.32.0 go1.26.8 linux/amd64', 'v0.32.0')).toEqual({version: 'v0.32.0'});
		expect(checkKindVersion('kind v0.33.1 go1.26.8 linux/amd64', '0.32.0')).toEqual({version: 'v0.33.1'});
		expect(checkKindVersion('kind v1.0.0 go1.27 darwin/arm64')).toEqual({version: 'v1.0.0'});
		expect(() => checkKindVersion('kind v0.20.0 go1.20.4 darwin/arm64', 'v0.32.0')).toThrow(
			'kind version too old: required >= v0.32.0, got: kind v0.20.0 go1.20.4 darwin/arm64; install a newer one with `go install sigs.k8s.io/kind@v0.32.0`',
		);
		expect(() => checkKindVersion('kind v0.31.9 go1.25', '0.32.0')).toThrow(/^kind version too old: required >= v0.32.0/);
		expect(() => checkKindVersion('kind version unknown', 'v0.32.0')).toThrow(
			'could not parse kind version from output: kind version unknown',
		);
	});
});

describe('kind helpers', () => {
	it('strips the provider banner before apiVersion (F-46)', () => {
		expect(stripProviderBanner(`${BANNER}${KUBECONFIG}`)).toBe(KUBECONFIG);
		expect(() => stripProviderBanner(BANNER)).toThrow(
			'kind get kubeconfig printed no kubeconfig: using podman due to KIND_EXPERIMENTAL_PROVIDER',
		);
	});

	it('kindReason: kind’s ERROR line plus the engine’s Error from its Command Output, in one line', () => {
		const stderr = `${BANNER}Creating cluster "x" ...\nERROR: failed to create cluster: failed to pull image "kindest/node:v1.36.1": command "podman pull kindest/node:v1.36.1" failed with error: exit status 125\n\nCommand Output: Trying to pull docker.io/kindest/node:v1.36.1...\nError: initializing source docker://kindest/node:v1.36.1: pinging container registry registry-1.docker.io: no such host\n`;
		expect(kindReason({stdout: '', stderr, exitCode: 1, timedOut: false, cancelled: false})).toBe(
			'failed to create cluster: failed to pull image "kindest/node:v1.36.1": command "podman pull kindest/node:v1.36.1" failed with error: exit status 125 (initializing source docker://kindest/node:v1.36.1: pinging container registry registry-1.docker.io: no such host)',
		);
	});

	it('writes the Kind config: node image, ports, patches, ./coverdata mount', () => {
		const text = kindConfigYaml({
			nodeImage: 'kindest/node:v1.36.1@sha256:3489c7674813ba5d8b1a9977baea8a6e553784dab7b84759d1014dbd78f7ebd5',
			ports: [
				{containerPort: 30080, hostPort: 8080},
				{containerPort: 30081, hostPort: 18091, protocol: 'TCP', listenAddress: '127.0.0.1'},
			],
			kubeadmConfigPatches: ['kind: ClusterConfiguration\napiServer:\n  extraArgs:\n    max-requests-inflight: "800"\n'],
			coverdata: true,
		});
		expect(parse(text)).toEqual({
			kind: 'Cluster',
			apiVersion: 'kind.x-k8s.io/v1alpha4',
			nodes: [
				{
					role: 'control-plane',
					image: 'kindest/node:v1.36.1@sha256:3489c7674813ba5d8b1a9977baea8a6e553784dab7b84759d1014dbd78f7ebd5',
					extraPortMappings: [
						{containerPort: 30080, hostPort: 8080, protocol: 'TCP'},
						{containerPort: 30081, hostPort: 18091, listenAddress: '127.0.0.1', protocol: 'TCP'},
					],
					extraMounts: [{hostPath: './coverdata', containerPath: '/coverdata', readOnly: false}],
					kubeadmConfigPatches: ['kind: ClusterConfiguration\napiServer:\n  extraArgs:\n    max-requests-inflight: "800"\n'],
				},
			],
		});
		expect(text).toContain('kubeadmConfigPatches:\n      - |\n        kind: ClusterConfiguration');
		const bare = parse(kindConfigYaml({ports: [], kubeadmConfigPatches: []}));
		expect(bare).toEqual({kind: 'Cluster', apiVersion: 'kind.x-k8s.io/v1alpha4', nodes: [{role: 'control-plane'}]});
		expect(
			parse(kindConfigYaml({ports: [], kubeadmConfigPatches: [], coverdataHostPath: '/runs/r1/coverdata'})).nodes[0].extraMounts[0]
				.hostPath,
		).toBe('/runs/r1/coverdata');
		const dir = mkdtempSync(join(tmpdir(), 'kd-kindcfg-'));
		const path = writeKindConfig(join(dir, 'a', 'kind.yaml'), {ports: [], kubeadmConfigPatches: []});
		expect(readFileSync(path, 'utf8')).toBe(kindConfigYaml({ports: [], kubeadmConfigPatches: []}));
		rmSync(dir, {recursive: true, force: true});
	});
});

describe('kind provider (recorded)', () => {
	const dir = mkdtempSync(join(tmpdir(), 'kd-kind-'));
	writeFileSync(join(dir, 'kind-config.yaml'), kindConfigYaml({ports: [], kubeadmConfigPatches: []}));
	afterAll(() => rmSync(dir, {recursive: true, force: true}));

	it('every call names the provider, including kind version; get clusters matches exact lines (F-04)', async () => {
		const {exec, calls} = recordExec((req) => ({
			stdout: req.argv[1] === 'version' ? 'kind v0.32.0 go1.26.8 linux/amd64\n' : 'gateway-e2e-old\nother\n',
			stderr: BANNER,
		}));
		const kind = createKindProvider(exec, 'podman');
		expect(await kind.version()).toBe('v0.32.0');
		expect(await kind.exists(spec(dir))).toBe(false);
		expect(await kind.exists(spec(dir, {name: 'gateway-e2e-old'}))).toBe(true);
		expect(calls).toEqual([
			{argv: ['kind', 'version'], env: PODMAN},
			{argv: ['kind', 'get', 'clusters'], env: PODMAN},
			{argv: ['kind', 'get', 'clusters'], env: PODMAN},
		]);
		const docker = recordExec(() => ({stdout: ''}));
		await createKindProvider(docker.exec, 'docker', {kindPath: '/opt/kind'}).exists(spec(dir));
		expect(docker.calls).toEqual([{argv: ['/opt/kind', 'get', 'clusters'], env: {KIND_EXPERIMENTAL_PROVIDER: 'docker'}}]);
	});

	it('create: version check once, then create with config, kubeconfig, --wait and cwd; removes a stale .lock (F-06)', async () => {
		const s = spec(dir);
		mkdirSync(join(dir, 'kube'), {recursive: true});
		writeFileSync(`${s.kubeconfigPath}.lock`, '');
		const {exec, calls} = recordExec((req) =>
			req.argv[1] === 'version'
				? {stdout: 'kind v0.32.0 go1.26.8 linux/amd64\n'}
				: {stderr: `${BANNER}Creating cluster "gateway-e2e" ...\n`},
		);
		const kind = createKindProvider(exec, 'podman', {createTimeoutMs: 60_000});
		await kind.create(s);
		await kind.create(s);
		expect(existsSync(`${s.kubeconfigPath}.lock`)).toBe(false);
		const create = {
			argv: [
				'kind',
				'create',
				'cluster',
				'--name',
				'gateway-e2e',
				'--config',
				join(dir, 'kind-config.yaml'),
				'--kubeconfig',
				join(dir, 'kube', 'config'),
				'--wait',
				'300s',
			],
			env: PODMAN,
			cwd: dir,
			timeoutMs: 60_000,
		};
		expect(calls).toEqual([{argv: ['kind', 'version'], env: PODMAN}, create, create]);
	});

	it('create refuses an old kind and a missing config before running kind create', async () => {
		const old = recordExec(() => ({stdout: 'kind v0.20.0 go1.20.4 darwin/arm64\n'}));
		await expect(createKindProvider(old.exec, 'podman').create(spec(dir))).rejects.toThrow(
			/^kind version too old: required >= v0.32.0, got: kind v0.20.0/,
		);
		expect(old.calls).toHaveLength(1);
		const ok = recordExec(() => ({stdout: 'kind v0.32.0\n'}));
		await expect(createKindProvider(ok.exec, 'podman').create(spec(dir, {configPath: join(dir, 'missing.yaml')}))).rejects.toThrow(
			`kind config file not found: ${join(dir, 'missing.yaml')}`,
		);
	});

	it('retries create only on a transient runtime error, backing off 5 s × attempt', async () => {
		const sleeps: number[] = [];
		const sleep = async (ms: number) => void sleeps.push(ms);
		const transient = recordExec((req) =>
			req.argv[1] === 'version'
				? {stdout: 'kind v0.32.0\n'}
				: {
						exitCode: 1,
						stderr:
							'ERROR: failed to create cluster: command "podman run ..." failed with error: exit status 126\nCommand Output: Error: OCI runtime error: crun: unknown version specified\n',
					},
		);
		const lines: string[] = [];
		const err = await createKindProvider(transient.exec, 'podman', {sleep})
			.create(spec(dir), (l) => lines.push(l))
			.catch((e: Error) => e);
		expect(transient.calls.filter((c) => c.argv[1] === 'create')).toHaveLength(3);
		expect(sleeps).toEqual([5000, 10000]);
		expect(lines).toContain('kind create cluster hit a transient container-runtime error (attempt 1/3), retrying in 5s');
		expect((err as Error).message).toBe(
			'kind create cluster failed after 3 attempts: failed to create cluster: command "podman run ..." failed with error: exit status 126 (OCI runtime error: crun: unknown version specified)',
		);

		const flaky = recordExec((req, i) =>
			req.argv[1] === 'version' ? {stdout: 'kind v0.32.0\n'} : i === 1 ? {exitCode: 1, stderr: 'OCI runtime error\n'} : {},
		);
		await createKindProvider(flaky.exec, 'podman', {sleep}).create(spec(dir));
		expect(flaky.calls).toHaveLength(3);

		const exists = recordExec((req) =>
			req.argv[1] === 'version'
				? {stdout: 'kind v0.32.0\n'}
				: {
						exitCode: 1,
						stderr: `${BANNER}ERROR: failed to create cluster: node(s) already exist for a cluster with the name "gateway-e2e"\n`,
					},
		);
		await expect(createKindProvider(exists.exec, 'podman', {sleep}).create(spec(dir))).rejects.toThrow(
			'kind create cluster failed: failed to create cluster: node(s) already exist for a cluster with the name "gateway-e2e"',
		);
		expect(exists.calls).toHaveLength(2);
	});

	it('a cancelled or timed-out create deletes the half-made cluster', async () => {
		const cancelled = recordExec((req) =>
			req.argv[1] === 'version'
				? {stdout: 'kind v0.32.0\n'}
				: req.argv[1] === 'create'
					? {exitCode: null, signal: 'SIGTERM', cancelled: true}
					: {},
		);
		await expect(createKindProvider(cancelled.exec, 'podman').create(spec(dir))).rejects.toThrow('kind create cluster was cancelled');
		expect(cancelled.calls.at(-1)).toEqual({argv: ['kind', 'delete', 'cluster', '--name', 'gateway-e2e'], env: PODMAN, timeoutMs: 120_000});
		const slow = recordExec((req) =>
			req.argv[1] === 'version'
				? {stdout: 'kind v0.32.0\n'}
				: req.argv[1] === 'create'
					? {exitCode: null, signal: 'SIGTERM', timedOut: true, stderr: ' • Ensuring node image (kindest/node:v1.36.1) 🖼  ...\n'}
					: {},
		);
		await expect(createKindProvider(slow.exec, 'podman', {createTimeoutMs: 90_000}).create(spec(dir))).rejects.toThrow(
			'kind create cluster timed out after 90s: last said • Ensuring node image (kindest/node:v1.36.1) 🖼  ...',
		);
		expect(slow.calls.at(-1)?.argv).toEqual(['kind', 'delete', 'cluster', '--name', 'gateway-e2e']);
	});

	it('kubeconfig: banner stripped, written 0600 atomically (F-46)', async () => {
		const s = spec(dir, {kubeconfigPath: join(dir, 'kc', 'gateway-e2e')});
		const {exec, calls} = recordExec(() => ({stdout: `${BANNER}${KUBECONFIG}`}));
		expect(await createKindProvider(exec, 'podman').kubeconfig(s)).toBe(s.kubeconfigPath);
		expect(calls).toEqual([{argv: ['kind', 'get', 'kubeconfig', '--name', 'gateway-e2e'], env: PODMAN}]);
		expect(readFileSync(s.kubeconfigPath, 'utf8')).toBe(KUBECONFIG);
		expect(statSync(s.kubeconfigPath).mode & 0o777).toBe(0o600);
		const missing = recordExec(() => ({
			exitCode: 1,
			stderr: `${BANNER}ERROR: could not locate any control plane nodes for cluster named 'gateway-e2e'. Use the --name option to select a different cluster\n`,
		}));
		await expect(createKindProvider(missing.exec, 'podman').kubeconfig(s)).rejects.toThrow(
			"kind get kubeconfig failed: could not locate any control plane nodes for cluster named 'gateway-e2e'. Use the --name option to select a different cluster",
		);
	});

	it('load, node images, export logs and delete run exactly these commands', async () => {
		const tar = join(dir, 'gateway.tar');
		writeFileSync(tar, 'archive');
		const logs = join(dir, 'logs');
		const {exec, calls} = recordExec((req) => {
			if (req.argv[1] === 'exec')
				return {
					stdout: JSON.stringify({
						images: [{repoTags: ['localhost/gateway:gateway-1a2b3c4d']}, {repoTags: ['registry.k8s.io/pause:3.10']}, {repoTags: null}],
					}),
				};
			if (req.argv[1] === 'export') {
				mkdirSync(join(logs, 'gateway-e2e-control-plane'), {recursive: true});
				writeFileSync(join(logs, 'gateway-e2e-control-plane', 'kubelet.log'), 'x');
			}
			return {};
		});
		const kind = createKindProvider(exec, 'podman');
		const s = spec(dir);
		await kind.loadArchive(s, tar);
		expect(await kind.nodeImages(s)).toEqual(['localhost/gateway:gateway-1a2b3c4d', 'registry.k8s.io/pause:3.10']);
		expect(await kind.exportLogs(s, logs)).toEqual([join(logs, 'gateway-e2e-control-plane', 'kubelet.log')]);
		await kind.delete(s);
		expect(calls).toEqual([
			{argv: ['kind', 'load', 'image-archive', tar, '--name', 'gateway-e2e'], env: PODMAN},
			{argv: ['podman', 'exec', 'gateway-e2e-control-plane', 'crictl', 'images', '-o', 'json']},
			{argv: ['kind', 'export', 'logs', logs, '--name', 'gateway-e2e'], env: PODMAN},
			{argv: ['kind', 'delete', 'cluster', '--name', 'gateway-e2e'], env: PODMAN},
		]);
		await expect(kind.loadArchive(s, join(dir, 'none.tar'))).rejects.toThrow(`image archive not found: ${join(dir, 'none.tar')}`);
		const f12 = recordExec(() => ({
			exitCode: 1,
			stderr:
				'ERROR: failed to load image: command "podman exec --privileged -i gateway-e2e-control-plane ctr --namespace=k8s.io images import --all-platforms --digests --snapshotter=overlayfs -" failed with error: exit status 137\n',
		}));
		await expect(createKindProvider(f12.exec, 'podman').loadArchive(s, tar)).rejects.toThrow(
			'kind load image-archive failed: failed to load image: command "podman exec --privileged -i gateway-e2e-control-plane ctr --namespace=k8s.io images import --all-platforms --digests --snapshotter=overlayfs -" failed with error: exit status 137',
		);
	});
});

needsWorld(['kind', 'podman']).describe('kind provider (the real kind CLI)', () => {
	const kindPath = kindBinary()!;
	const exec = createExec();
	const kind = createKindProvider(exec, 'podman', {kindPath, createTimeoutMs: 90_000});
	const name = `kd-test-${rand()}`;
	const dir = mkdtempSync(join(tmpdir(), 'kd-realkind-'));
	afterAll(() => {
		// kind removes its nodes on a failed create; this only catches a leftover from an interrupted run.
		spawnSync('podman', ['rm', '-f', `${name}-control-plane`], {stdio: 'ignore'});
		rmSync(dir, {recursive: true, force: true});
	});

	it('kind version through the adapter is at least v0.32.0', async () => {
		expect(await kind.version()).toMatch(/^v0\.(3[2-9]|[4-9]\d)\.\d+$|^v[1-9]/);
	});

	it('kind get clusters with the podman provider: a cluster that does not exist is false', async () => {
		expect(await kind.exists({name, kubeconfigPath: join(dir, 'kc'), cwd: dir, waitSeconds: 5})).toBe(false);
	});

	it('kind create cluster fails here (no node image can be pulled): one line with kind’s own reason', async () => {
		const s: ClusterSpec = {
			name,
			configPath: writeKindConfig(join(dir, 'kind-config.yaml'), {ports: [], kubeadmConfigPatches: [], coverdata: true}),
			kubeconfigPath: join(dir, 'kube', 'config'),
			cwd: dir,
			waitSeconds: 5,
		};
		mkdirSync(join(dir, 'coverdata'));
		const lines: string[] = [];
		const started = Date.now();
		const err = await kind.create(s, (l) => lines.push(l)).catch((e: Error) => e);
		console.log(`[kind] create failed after ${Date.now() - started} ms: ${(err as Error).message}`);
		expect(err).toBeInstanceOf(Error);
		const message = (err as Error).message;
		expect(message.split('\n')).toHaveLength(1);
		expect(message).toMatch(
			/^kind create cluster failed: failed to create cluster: failed to pull image "docker\.io\/kindest\/node@sha256:[0-9a-f]+"/,
		);
		expect(message).toMatch(
			/\((initializing source|trying to reuse blob|reading manifest).*\)$|\(.*(no such host|dial tcp|connection refused|network is unreachable).*\)$/,
		);
		expect(lines.some((l) => l.includes('Creating cluster'))).toBe(true);
		expect(await kind.exists(s)).toBe(false);
	}, 120_000);
});
