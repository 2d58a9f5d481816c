/**
 * The demo through a real Kind cluster on Podman: `kind create cluster --image` with the node image that
 * test/world/kind-node.sh builds here from upstream parts, `podman save` + `kind load image-archive`, crictl in the
 * node, health through the host port mappings, `kind export logs` into the bundle, `--cleanup`; then three faults
 * through Kind: a host port already held, the Gateway's image with localhost/ stripped, and a crash loop.
 * One file, run in order: the scenarios share the one cluster name of the demo profile.
 */
import {spawnSync} from 'node:child_process';
import {existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {createServer, type Server} from 'node:net';
import {tmpdir} from 'node:os';
import {dirname, join} from 'node:path';
import {afterAll, beforeAll, expect, it} from 'vitest';
import {runCli} from '../helpers/cli.js';
import {exclusive} from '../helpers/exclusive.js';
import {kindBinary, needsWorld, WORLD_IMAGES} from '../helpers/world.js';
import {demoCopy, diagnosisOf, ends, events, replaceIn, runEnd, upJson} from './lib.js';

const NODE_IMAGE = 'localhost/kdoctor-world/kind-node:v1.33.13';
const CLUSTER = 'kdoctor-demo';
const NS = 'kdoctor-demo';
const NODE = `${CLUSTER}-control-plane`;

let state: string;
let machine: {release(): void} | undefined;

const kind = (args: string[]) =>
	spawnSync(kindBinary()!, args, {encoding: 'utf8', timeout: 300_000, env: {...process.env, KIND_EXPERIMENTAL_PROVIDER: 'podman'}});
const clusters = () => kind(['get', 'clusters']).stdout.split('\n').filter(Boolean);
const kubeconfig = () => join(state, 'clusters', CLUSTER, 'kubeconfig');
// kdoctor's kind provider runs `kind` from PATH, as a user's shell would.
const env = () => ({KDOCTOR_STATE_DIR: state, PATH: `${dirname(kindBinary()!)}:${process.env.PATH}:/usr/local/go/bin`});

const up = (dir: string | undefined, profile: string, extra: string[] = []) =>
	upJson(dir, profile, ['--provider', 'kind', '--node-image', NODE_IMAGE, ...extra], env());

const world = needsWorld([
	'root',
	'podman',
	'kind',
	NODE_IMAGE,
	WORLD_IMAGES.goToolset,
	WORLD_IMAGES.ubiMinimal,
	'localhost/kdoctor-world/debian-data:1',
]);

beforeAll(async () => {
	state = mkdtempSync(join(tmpdir(), 'kdoctor-kind-'));
	if (!world.ok) return;
	machine = await exclusive('demo');
	// A cluster of that name left by an interrupted run would turn the first create into a reuse question.
	if (clusters().includes(CLUSTER)) kind(['delete', 'cluster', '--name', CLUSTER]);
}, 3_600_000);

afterAll(() => {
	if (world.ok && clusters().includes(CLUSTER)) kind(['delete', 'cluster', '--name', CLUSTER]);
	machine?.release();
	rmSync(state, {recursive: true, force: true});
}, 300_000);

world.describe('kdoctor up --provider kind on a real Kind cluster (node image built here from upstream parts)', () => {
	it(
		"a host port the cluster maps is already held → refused before kind runs (the holder named); kind's own failure on it is diagnosed host-port-conflict too",
		{timeout: 600_000},
		async () => {
			const server: Server = createServer();
			await new Promise<void>((r) => server.listen(23080, '0.0.0.0', r));
			try {
				const r = await up(undefined, 'demo');
				const ev = events(r.stdout);
				expect(r.code).toBe(1);
				const d = diagnosisOf(ev)!;
				expect(d.step).toBe('preflight');
				expect(d.findings[0]!.id).toBe('host-port-conflict');
				expect(d.findings[0]!.evidence.map((x) => x.text).join('\n')).toMatch(/23080.*held by pid \d+/);
				// Caught before `kind create cluster`: no node was made.
				expect(ends(ev).cluster).toBeUndefined();
				expect(clusters()).not.toContain(CLUSTER);

				// The same conflict as kind itself meets it, with the Kind config kdoctor wrote for the run.
				const runDir = runEnd(ev).runDir;
				const create = kind([
					'create',
					'cluster',
					'--name',
					`${CLUSTER}-port`,
					'--image',
					NODE_IMAGE,
					'--config',
					join(runDir, 'kind-config.yaml'),
				]);
				expect(create.status).not.toBe(0);
				expect(clusters()).not.toContain(`${CLUSTER}-port`);
				const diag = await runCli(['diagnose', '--json', '-'], {input: `${create.stdout}${create.stderr}`, env: env()});
				const found = JSON.parse(diag.stdout) as {findings: {id: string; evidence: {text: string}[]}[]};
				expect(found.findings[0]?.id, create.stderr).toBe('host-port-conflict');
				expect(found.findings[0]!.evidence.map((x) => x.text).join('\n')).toContain('23080');
			} finally {
				await new Promise((r) => server.close(r));
			}
		},
	);

	it(
		'the demo end to end through Kind: created from the local node image, images loaded and seen by crictl in the node, ready, health through the host port mappings',
		{timeout: 1_800_000},
		async () => {
			const r = await up(undefined, 'demo');
			const ev = events(r.stdout);
			const end = runEnd(ev);
			expect(end.ok, `${end.message}\n${r.stderr}`).toBe(true);
			expect(r.code).toBe(0);
			const e = ends(ev);
			for (const id of [
				'cluster',
				'load:gateway',
				'load:datastorage',
				'deploy:data',
				'deploy:migrations',
				'deploy:datastorage',
				'deploy:gateway',
				'health',
			])
				expect(e[id]?.state, id).toBe('done');
			console.log(`[kind] kind create cluster (through kdoctor up): ${e.cluster!.durationMs} ms; up to ready: ${end.durationMs} ms`);
			const config = readFileSync(join(end.runDir, 'kind-config.yaml'), 'utf8');
			expect(config).toContain(`image: ${NODE_IMAGE}`);
			expect(config).toMatch(/hostPort: 23180/);
			expect(clusters()).toContain(CLUSTER);
			// The health URL is the host port that Kind's extraPortMappings forward to the Gateway's NodePort.
			const health = await fetch('http://127.0.0.1:23180/readyz');
			expect(health.status).toBe(200);
			const crictl = spawnSync('podman', ['exec', NODE, 'crictl', 'images', '-o', 'json'], {encoding: 'utf8'});
			expect(crictl.status).toBe(0);
			const tags = (JSON.parse(crictl.stdout) as {images: {repoTags: string[]}[]}).images.flatMap((i) => i.repoTags);
			expect(tags.some((t) => /^localhost\/kdoctor-demo\/gateway:kd-/.test(t))).toBe(true);
			expect(tags).toContain('registry.k8s.io/kube-apiserver:v1.33.13');
		},
	);

	it(
		"the Gateway's image with localhost/ stripped → image-name-mismatch from the node's crictl listing (diagnose -n --kind), fixed by the one-key patch",
		{timeout: 600_000},
		async () => {
			const k8s = await import('@kubernetes/client-node');
			const kc = new k8s.KubeConfig();
			kc.loadFromFile(kubeconfig());
			const apps = kc.makeApiClient(k8s.AppsV1Api);
			const good = (await apps.readNamespacedDeployment({name: 'gateway', namespace: NS})).spec!.template.spec!.containers[0]!.image!;
			expect(good).toMatch(/^localhost\/kdoctor-demo\/gateway:kd-/);
			const stripped = good.replace(/^localhost\//, '');
			await apps.patchNamespacedDeployment(
				{name: 'gateway', namespace: NS, body: {spec: {template: {spec: {containers: [{name: 'gateway', image: stripped}]}}}}},
				k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch),
			);
			const args = ['-n', NS, '--kubeconfig', kubeconfig(), '--kind', CLUSTER];
			let found: {workload: string; findings: {id: string; evidence: {text: string; source?: string}[]}[]} | undefined;
			for (let i = 0; i < 90 && !found; i++) {
				const live = await runCli(['diagnose', ...args, '--json'], {env: env()});
				// One JSON line per workload.
				const rows = live.stdout
					.trim()
					.split('\n')
					.filter(Boolean)
					.map((l) => JSON.parse(l) as NonNullable<typeof found>);
				found = rows.find((w) => w.workload === 'gateway' && w.findings[0]?.id === 'image-name-mismatch');
				if (!found) await new Promise((r) => setTimeout(r, 1000));
			}
			expect(found, 'kdoctor diagnose -n --kind never named image-name-mismatch').toBeDefined();
			const evidence = found!.findings[0]!.evidence.map((x) => x.text).join('\n');
			expect(evidence).toContain('ErrImageNeverPull');
			// The right name comes from what crictl in the Kind node lists.
			expect(evidence).toContain(good);
			const fix = await runCli(['fix', 'image-name-mismatch', ...args, '--yes', '--json'], {env: env()});
			const out = JSON.parse(fix.stdout.trim().split('\n').at(-1)!) as {
				plan: {status: string; before?: string; after?: string};
				verify?: {ok: boolean; message: string};
			};
			expect(out.plan).toMatchObject({status: 'ready', before: stripped, after: good});
			expect(out.verify, out.verify?.message).toMatchObject({ok: true});
			expect(fix.code).toBe(0);
		},
	);

	it(
		'the Gateway without a required variable → crashloop-config-error through Kind; triage --kind names it; the bundle holds kind export logs',
		{timeout: 900_000},
		async () => {
			const dir = demoCopy(state, 'crash', (m) =>
				replaceIn(join(m, 'gateway.yaml'), /\n\s+- name: KUBERNAUT_CONTROLLER_NAMESPACE\n\s+value: \$\{namespace\}/, ''),
			);
			const r = await up(dir, 'crash', ['--reuse']);
			const ev = events(r.stdout);
			expect(r.code).toBe(1);
			const d = diagnosisOf(ev)!;
			expect(d.step).toBe('deploy:gateway');
			expect(d.findings[0]!.id).toBe('crashloop-config-error');
			expect(d.findings[0]!.evidence.map((x) => x.text).join('\n')).toContain('KUBERNAUT_CONTROLLER_NAMESPACE');
			const end = runEnd(ev);
			expect(end.resume).toBe('kdoctor up --profile crash --reuse');
			// kind export logs: the node's journal, containerd's and the kubelet's logs, the pods' logs.
			const nodeLogs = join(end.bundle!, 'node-logs');
			expect(existsSync(nodeLogs)).toBe(true);
			const files = spawnSync('find', [nodeLogs, '-type', 'f'], {encoding: 'utf8'}).stdout;
			expect(files).toMatch(/kubelet\.log/);
			expect(files).toMatch(/containerd\.log/);
			expect(readFileSync(join(end.bundle!, 'node-images.txt'), 'utf8')).toMatch(/^localhost\/kdoctor-demo\/gateway:kd-/m);

			const t = await runCli(['triage', '-n', NS, '--kubeconfig', kubeconfig(), '--kind', CLUSTER, '--json'], {env: env()});
			expect(t.code).toBe(1);
			const triage = JSON.parse(t.stdout) as {failing: {workload: {name: string}; findings: {id: string}[]}[]};
			const gw = triage.failing.find((w) => w.workload.name === 'gateway');
			expect(gw?.findings[0]?.id).toBe('crashloop-config-error');
		},
	);

	it('--cleanup deletes the Kind cluster after a failed run (--recreate: a new cluster first)', {timeout: 900_000}, async () => {
		const dir = join(state, 'crash');
		const r = await up(dir, 'crash', ['--recreate', '--cleanup']);
		expect(r.code, `${r.stdout.slice(-1500)}\n${r.stderr}`).toBe(1);
		const ev = events(r.stdout);
		expect(ends(ev).cluster!.state).toBe('done');
		expect(diagnosisOf(ev)!.findings[0]!.id).toBe('crashloop-config-error');
		expect(clusters()).not.toContain(CLUSTER);
	});
});
