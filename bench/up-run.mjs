// One `kdoctor up --json` run as the up benches time it: process start to exit, and each step's state and duration.
import {spawn, spawnSync} from 'node:child_process';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';

const CLI = join(fileURLToPath(new URL('..', import.meta.url)), 'dist/bin/cli.js');

export const WORLD_ARGS = [
	'--build-arg',
	'BUILDER_IMAGE=localhost/kdoctor-world/go-toolset:1',
	'--build-arg',
	'RUNTIME_IMAGE=localhost/kdoctor-world/ubi-minimal:1',
	'--build-arg',
	'BASE_IMAGE=localhost/kdoctor-world/debian-data:1',
];

/** Runs `kdoctor up --json <world args> <args>` with its own state folder; resolves {code, ms, ok, steps}. */
export function runUp(state, args, pathPrefix = '') {
	return new Promise((resolve) => {
		const started = Date.now();
		const child = spawn(process.execPath, [CLI, 'up', '--json', ...WORLD_ARGS, ...args], {
			env: {...process.env, KDOCTOR_STATE_DIR: state, PATH: `${pathPrefix}${process.env.PATH}:/usr/local/go/bin`},
			stdio: ['ignore', 'pipe', 'pipe'],
		});
		let out = '';
		child.stdout.on('data', (d) => (out += d));
		child.on('close', (code) => {
			const events = out
				.split('\n')
				.filter(Boolean)
				.map((l) => JSON.parse(l));
			const steps = Object.fromEntries(events.filter((e) => e.type === 'step-end').map((e) => [e.id, {state: e.state, ms: e.durationMs}]));
			resolve({code, ms: Date.now() - started, ok: events.at(-1)?.ok === true, steps});
		});
	});
}

/** `--provider existing` arguments for the local cluster of test/cluster (its cluster.json). */
export const existingArgs = (info) => [
	'--provider',
	'existing',
	'--kubeconfig',
	info.kubeconfig,
	'--containerd-socket',
	info.containerdSocket,
	'--node-address',
	'127.0.0.1',
];

/**
 * A cold start for the demo on the local cluster: its namespace deleted (waited for, up to 180 s) and the demo images
 * removed from the node, so every object is created, every pod starts and every load runs. Returns how many images went.
 */
export async function resetExistingDemo(info, namespace = 'kdoctor-demo') {
	const k8s = await import('@kubernetes/client-node');
	const kc = new k8s.KubeConfig();
	kc.loadFromFile(info.kubeconfig);
	const core = kc.makeApiClient(k8s.CoreV1Api);
	let deleting = true;
	try {
		await core.deleteNamespace({name: namespace});
	} catch {
		deleting = false;
	}
	const deadline = Date.now() + 180_000;
	while (deleting) {
		try {
			await core.readNamespace({name: namespace});
		} catch {
			break;
		}
		if (Date.now() > deadline) throw new Error(`namespace ${namespace} was not deleted within 180 s`);
		await new Promise((r) => setTimeout(r, 500));
	}
	const ctr = ['--address', info.containerdSocket, '-n', info.containerdNamespace ?? 'k8s.io'];
	const list = spawnSync('ctr', [...ctr, 'images', 'ls', '-q'], {encoding: 'utf8'})
		.stdout.split('\n')
		.filter((r) => r.startsWith('localhost/kdoctor-demo/'));
	if (list.length) spawnSync('ctr', [...ctr, 'images', 'rm', ...list], {stdio: 'ignore'});
	return list.length;
}
