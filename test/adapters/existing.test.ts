import {spawn, spawnSync, type ChildProcess} from 'node:child_process';
import {closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {delimiter, join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {parse} from 'yaml';
import {createEngine} from '../../src/adapters/engine.js';
import {createExec} from '../../src/adapters/exec.js';
import {archiveRef, createExistingProvider, kubeconfigFiles, mergeKubeconfigs} from '../../src/adapters/existing.js';
import type {ClusterSpec} from '../../src/core/provision/ports.js';
import {importBusyboxImage, needsWorld, rand, recordExec, removeImages} from '../helpers/world.js';

function kubeconfig(
	current: string | undefined,
	contexts: [string, string, string][],
	clusters: [string, Record<string, unknown>][] = [],
	users: [string, Record<string, unknown>][] = [],
): string {
	const doc: Record<string, unknown> = {apiVersion: 'v1', kind: 'Config'};
	if (current) doc['current-context'] = current;
	doc.contexts = contexts.map(([name, cluster, user]) => ({name, context: {cluster, user}}));
	doc.clusters = clusters.map(([name, cluster]) => ({name, cluster}));
	doc.users = users.map(([name, user]) => ({name, user}));
	return JSON.stringify(doc);
}

function spec(dir: string, kubeconfigPath = join(dir, 'run', 'kubeconfig')): ClusterSpec {
	return {name: 'lab', kubeconfigPath, cwd: dir, waitSeconds: 60};
}

describe('existing provider (recorded)', () => {
	const dir = mkdtempSync(join(tmpdir(), 'kd-existing-'));
	const a = join(dir, 'a.yaml');
	const b = join(dir, 'b.yaml');
	writeFileSync(
		a,
		kubeconfig(
			'k3s',
			[['k3s', 'k3s-cluster', 'k3s-admin']],
			[['k3s-cluster', {server: 'https://10.0.0.5:6443', 'certificate-authority': 'certs/ca.crt'}]],
			[['k3s-admin', {'client-certificate': 'certs/admin.crt', 'client-key': '/abs/admin.key'}]],
		),
	);
	writeFileSync(
		b,
		kubeconfig(
			'lab',
			[
				['lab', 'lab', 'lab'],
				['k3s', 'other', 'other'],
			],
			[['lab', {server: 'https://lab:6443'}]],
			[['lab', {token: 't'}]],
		),
	);
	afterAll(() => rmSync(dir, {recursive: true, force: true}));

	it('reads KUBECONFIG with several paths like kubectl: the first file to define a name or current-context wins', async () => {
		const env = {KUBECONFIG: [join(dir, 'missing.yaml'), a, '', b].join(delimiter)};
		expect(kubeconfigFiles(undefined, env)).toEqual([join(dir, 'missing.yaml'), a, b]);
		const merged = mergeKubeconfigs(kubeconfigFiles(undefined, env));
		expect(merged.currentContext).toBe('k3s');
		expect(merged.contexts.get('k3s')?.file).toBe(a);
		const {exec} = recordExec();
		expect(await createExistingProvider(exec, {env}).exists(spec(dir))).toBe(true);
		expect(await createExistingProvider(exec, {env, context: 'lab'}).exists(spec(dir))).toBe(true);
		expect(await createExistingProvider(exec, {env, context: 'prod'}).exists(spec(dir))).toBe(false);
		expect(await createExistingProvider(exec, {kubeconfig: b, env}).exists(spec(dir))).toBe(true);
		expect(await createExistingProvider(exec, {kubeconfig: join(dir, 'none.yaml')}).exists(spec(dir))).toBe(false);
		expect(kubeconfigFiles(undefined, {HOME: '/home/dev'})[0]).toMatch(/\.kube\/config$/);
	});

	it('kubeconfig(): a 0600 copy pinned to the context, file references made absolute; the source is never rewritten', async () => {
		const {exec} = recordExec();
		const p = createExistingProvider(exec, {kubeconfig: a});
		const out = await p.kubeconfig(spec(dir));
		expect(statSync(out).mode & 0o777).toBe(0o600);
		expect(parse(readFileSync(out, 'utf8'))).toEqual({
			apiVersion: 'v1',
			kind: 'Config',
			'current-context': 'k3s',
			contexts: [{name: 'k3s', context: {cluster: 'k3s-cluster', user: 'k3s-admin'}}],
			clusters: [{name: 'k3s-cluster', cluster: {server: 'https://10.0.0.5:6443', 'certificate-authority': join(dir, 'certs', 'ca.crt')}}],
			users: [{name: 'k3s-admin', user: {'client-certificate': join(dir, 'certs', 'admin.crt'), 'client-key': '/abs/admin.key'}}],
		});
		const before = readFileSync(a, 'utf8');
		expect(await p.kubeconfig(spec(dir, a))).toBe(a);
		expect(readFileSync(a, 'utf8')).toBe(before);
		const beforeB = readFileSync(b, 'utf8');
		expect(await createExistingProvider(exec, {kubeconfig: b, context: 'k3s'}).kubeconfig(spec(dir, b))).toBe(b);
		expect(readFileSync(b, 'utf8')).toBe(beforeB);
		await expect(createExistingProvider(exec, {kubeconfig: a, context: 'nope'}).kubeconfig(spec(dir))).rejects.toThrow(
			`no context nope in ${a}`,
		);
	});

	it('does not create or delete clusters', async () => {
		const {exec, calls} = recordExec();
		const p = createExistingProvider(exec, {kubeconfig: a});
		await expect(p.create(spec(dir))).rejects.toThrow(
			'the existing provider does not create clusters: point --context at a running cluster, or use --provider kind',
		);
		await p.delete(spec(dir));
		expect(await p.exportLogs(spec(dir), join(dir, 'logs'))).toEqual([]);
		expect(calls).toEqual([]);
	});

	it('imports with ctr into k8s.io on the given or detected socket; lists names without bare digests', async () => {
		const tar = join(dir, 'img.tar');
		writeFileSync(tar, 'x');
		const sock = join(dir, 'containerd.sock');
		writeFileSync(sock, '');
		const {exec, calls} = recordExec((req) =>
			req.argv.includes('ls') ? {stdout: `localhost/gateway:abc\nsha256:${'a'.repeat(64)}\nregistry.k8s.io/pause:3.10\n`} : {},
		);
		const p = createExistingProvider(exec, {socketCandidates: [join(dir, 'no.sock'), sock]});
		await p.loadArchive(spec(dir), tar);
		expect(await p.nodeImages(spec(dir))).toEqual(['localhost/gateway:abc', 'registry.k8s.io/pause:3.10']);
		expect(p.deliveredRef('localhost/gateway:abc')).toBe('localhost/gateway:abc');
		await createExistingProvider(exec, {
			containerdSocket: '/run/k3s/containerd/containerd.sock',
			ctrPath: '/usr/local/bin/k3s-ctr',
		}).loadArchive(spec(dir), tar);
		expect(calls.map((c) => c.argv)).toEqual([
			['ctr', '-a', sock, '-n', 'k8s.io', 'images', 'import', '--all-platforms', tar],
			['ctr', '-a', sock, '-n', 'k8s.io', 'images', 'ls', '-q'],
			['/usr/local/bin/k3s-ctr', '-a', '/run/k3s/containerd/containerd.sock', '-n', 'k8s.io', 'images', 'import', '--all-platforms', tar],
		]);
		await expect(createExistingProvider(exec, {socketCandidates: [join(dir, 'no.sock')]}).loadArchive(spec(dir), tar)).rejects.toThrow(
			`cannot import images: no containerd socket found (looked at ${join(dir, 'no.sock')}); pass --containerd-socket, or --registry to push instead`,
		);
	});
});

needsWorld(['podman', 'busybox', 'containerd', 'ctr', 'root']).describe('existing provider (a real private containerd)', () => {
	const id = rand();
	const ref = `localhost/kd-test/tiny:${id}`;
	const dir = mkdtempSync('/tmp/kd-ctrd-');
	const sock = join(dir, 'containerd.sock');
	const tar = join(dir, 'tiny.tar');
	const exec = createExec();
	let containerd: ChildProcess | undefined;

	beforeAll(async () => {
		writeFileSync(
			join(dir, 'config.toml'),
			[
				`version = 2`,
				`root = "${dir}/root"`,
				`state = "${dir}/state"`,
				`[grpc]`,
				`  address = "${sock}"`,
				`[ttrpc]`,
				`  address = "${sock}.ttrpc"`,
				`[debug]`,
				`  address = "${dir}/debug.sock"`,
				'',
			].join('\n'),
		);
		const log = openSync(join(dir, 'containerd.log'), 'w');
		containerd = spawn('containerd', ['--config', join(dir, 'config.toml')], {stdio: ['ignore', log, log]});
		closeSync(log);
		const deadline = Date.now() + 20_000;
		while (spawnSync('ctr', ['-a', sock, 'version'], {stdio: 'ignore'}).status !== 0) {
			if (Date.now() > deadline || containerd.exitCode !== null)
				throw new Error(`private containerd did not start: ${readFileSync(join(dir, 'containerd.log'), 'utf8').trim().split('\n').pop()}`);
			await new Promise((r) => setTimeout(r, 200));
		}
		importBusyboxImage(ref);
		await createEngine(exec, 'podman').save(ref, tar);
	}, 120_000);

	afterAll(async () => {
		if (containerd?.pid && containerd.exitCode === null) {
			const exited = new Promise((r) => containerd!.once('exit', r));
			containerd.kill('SIGTERM');
			await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
			if (containerd.exitCode === null) containerd.kill('SIGKILL');
		}
		// Snapshot mounts (if any) go before the folder does.
		for (const line of readFileSync('/proc/mounts', 'utf8').split('\n').reverse()) {
			const target = line.split(' ')[1];
			if (target?.startsWith(dir)) spawnSync('umount', [target], {stdio: 'ignore'});
		}
		rmSync(dir, {recursive: true, force: true});
		removeImages([ref]);
	}, 60_000);

	it('the archive names the image with its localhost/ prefix', () => {
		expect(archiveRef(tar)).toBe(ref);
	});

	it('imports a podman save archive through ctr; the node keeps the exact localhost/ name', async () => {
		const p = createExistingProvider(exec, {socketCandidates: ['/nonexistent/containerd.sock', sock]});
		await p.loadArchive({name: 'lab', kubeconfigPath: join(dir, 'kc'), cwd: dir, waitSeconds: 5}, tar);
		const images = await p.nodeImages({name: 'lab', kubeconfigPath: join(dir, 'kc'), cwd: dir, waitSeconds: 5});
		expect(images).toContain(ref);
		expect(images).not.toContain(`kd-test/tiny:${id}`);
		expect(images).not.toContain(`docker.io/kd-test/tiny:${id}`);
		expect(p.deliveredRef(ref)).toBe(ref);
		expect(existsSync(join(dir, 'root'))).toBe(true);
	}, 60_000);

	it('a failing import is one line with ctr’s reason', async () => {
		const bad = join(dir, 'bad.tar');
		writeFileSync(bad, 'not a tar');
		const err = await createExistingProvider(exec, {containerdSocket: sock})
			.loadArchive({name: 'lab', kubeconfigPath: join(dir, 'kc'), cwd: dir, waitSeconds: 5}, bad)
			.catch((e: Error) => e);
		console.log(`[existing] bad archive: ${(err as Error).message}`);
		expect((err as Error).message).toMatch(/^ctr images import of .*bad\.tar failed: \S/);
		expect((err as Error).message.split('\n')).toHaveLength(1);
	});
});

describe('existing provider with a registry (recorded)', () => {
	it('pushes the archive’s image to the registry and says which reference manifests must use', async () => {
		const dir = mkdtempSync(join(tmpdir(), 'kd-reg-'));
		try {
			// A minimal docker-archive: manifest.json is all the provider reads.
			const tar = join(dir, 'ds.tar');
			const manifest = JSON.stringify([{Config: 'c.json', RepoTags: ['localhost/kubernaut/datastorage:datastorage-1a2b3c4d'], Layers: []}]);
			mkdirSync(join(dir, 'content'));
			writeFileSync(join(dir, 'content', 'manifest.json'), manifest);
			spawnSync('tar', ['-C', join(dir, 'content'), '-cf', tar, 'manifest.json']);
			expect(archiveRef(tar)).toBe('localhost/kubernaut/datastorage:datastorage-1a2b3c4d');
			const {exec, calls} = recordExec();
			const p = createExistingProvider(exec, {
				registry: 'registry.lab:5000',
				registryTlsVerify: false,
				containerdSocket: '/run/containerd/containerd.sock',
			});
			await p.loadArchive(spec(dir), tar);
			expect(calls.map((c) => c.argv)).toEqual([
				[
					'podman',
					'push',
					'--tls-verify=false',
					'localhost/kubernaut/datastorage:datastorage-1a2b3c4d',
					'registry.lab:5000/kubernaut/datastorage:datastorage-1a2b3c4d',
				],
			]);
			expect(p.deliveredRef('localhost/gateway:abc')).toBe('registry.lab:5000/gateway:abc');
			expect(p.deliveredRef('docker.io/library/postgres:16-alpine')).toBe('registry.lab:5000/library/postgres:16-alpine');
			expect(p.deliveredRef('kubernaut/datastorage:x')).toBe('registry.lab:5000/kubernaut/datastorage:x');
			const failing = recordExec(() => ({
				exitCode: 125,
				stderr: 'Error: trying to reuse blob sha256:abc at destination: pinging container registry registry.lab:5000: connection refused\n',
			}));
			await expect(createExistingProvider(failing.exec, {registry: 'registry.lab:5000'}).loadArchive(spec(dir), tar)).rejects.toThrow(
				'podman push of localhost/kubernaut/datastorage:datastorage-1a2b3c4d to registry.lab:5000 failed: trying to reuse blob sha256:abc at destination: pinging container registry registry.lab:5000: connection refused',
			);
		} finally {
			rmSync(dir, {recursive: true, force: true});
		}
	});
});
