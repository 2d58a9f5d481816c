import {cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import type {RunEvent} from '../src/core/provision/events.js';
import {acquireCluster, type ClusterLease} from './cluster/cluster.js';
import {runCli} from './helpers/cli.js';
import {needsWorld, WORLD_IMAGES} from './helpers/world.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const WORLD_ARGS = ['--build-arg', `BUILDER_IMAGE=${WORLD_IMAGES.goToolset}`, '--build-arg', `RUNTIME_IMAGE=${WORLD_IMAGES.ubiMinimal}`, '--build-arg', 'BASE_IMAGE=localhost/kdoctor-world/debian-data:1'];
const events = (stdout: string) =>
	stdout
		.split('\n')
		.filter(Boolean)
		.map((l) => JSON.parse(l) as RunEvent);
const ends = (ev: RunEvent[]) => Object.fromEntries(ev.filter((e) => e.type === 'step-end').map((e) => [(e as {id: string}).id, e as Extract<RunEvent, {type: 'step-end'}>]));
const runEnd = (ev: RunEvent[]) => ev.find((e) => e.type === 'run-end') as Extract<RunEvent, {type: 'run-end'}>;

let lease: ClusterLease | undefined;
let unavailable = '';
let state: string;
beforeAll(async () => {
	state = mkdtempSync(join(tmpdir(), 'kdoctor-upc-'));
	const got = await acquireCluster();
	if ('unavailable' in got) unavailable = got.unavailable;
	else lease = got;
}, 3_600_000);
afterAll(async () => {
	await lease?.release();
	rmSync(state, {recursive: true, force: true});
});

/** The demo profile copied into a folder of its own, so a test can break one manifest. */
function demoCopy(name: string, edit?: (manifests: string) => void): string {
	const dir = join(state, name);
	cpSync(join(root, 'manifests', 'demo'), join(dir, 'manifests', 'demo'), {recursive: true});
	edit?.(join(dir, 'manifests', 'demo'));
	const profiles = readFileSync(join(root, 'profiles.yaml'), 'utf8');
	const demo = profiles.slice(profiles.indexOf('  demo:'), profiles.indexOf('  kubernaut-gateway:'));
	// The copy builds from kdoctor's own folder but deploys the (possibly broken) manifests of this folder, into the
	// demo's own namespace: NodePorts are cluster-wide, so a second namespace would collide (F-34).
	const text = `profiles:\n${demo.replace('  demo:', `  ${name}:`).replace('    source: .', `    source: ${root}`).replaceAll('manifests/demo/', `${dir}/manifests/demo/`)}`;
	writeFileSync(join(dir, 'kdoctor.yaml'), text);
	return dir;
}

function up(dir: string | undefined, profile: string) {
	const info = lease!.info;
	return runCli([...(dir ? ['--config', join(dir, 'kdoctor.yaml')] : []), 'up', '--profile', profile, '--provider', 'existing', '--kubeconfig', info.kubeconfig, '--containerd-socket', info.containerdSocket, '--node-address', '127.0.0.1', '--json', ...WORLD_ARGS], {
		env: {KDOCTOR_STATE_DIR: state, PATH: `${process.env.PATH}:/usr/local/go/bin`},
	});
}

needsWorld(['podman', 'root', WORLD_IMAGES.goToolset, WORLD_IMAGES.ubiMinimal, 'localhost/kdoctor-world/debian-data:1']).describe('kdoctor up, deploy half, on the real local cluster (existing provider)', () => {
	it('brings the demo up end to end: images imported as a Kind node imports them, PostgreSQL, Redis, migrations, DataStorage, Gateway, health through the NodePort', {timeout: 1_800_000}, async () => {
		if (unavailable) {
			if (process.env.CI) throw new Error(`the local cluster could not be made: ${unavailable}`);
			return console.warn(`[cluster] skipped: ${unavailable}`);
		}
		const r = await up(undefined, 'demo');
		const ev = events(r.stdout);
		const e = ends(ev);
		expect(runEnd(ev), r.stderr).toMatchObject({ok: true});
		expect(r.code).toBe(0);
		for (const id of ['deploy:data', 'deploy:migrations', 'deploy:datastorage', 'deploy:gateway', 'health']) expect(e[id]!.state, id).toBe('done');
		expect(e['deploy:migrations']!.note).toBe('job datastorage-migrate complete');
		for (const id of ['load:gateway', 'load:datastorage']) expect(e[id]!.note ?? '').toMatch(/localhost\/kdoctor-demo\/[a-z]+:kd-[0-9a-f]{12}/);
		// A second run: every image is already in the node under its exact name, so nothing is imported again.
		const again = events((await up(undefined, 'demo')).stdout);
		const e2 = ends(again);
		for (const id of ['load:gateway', 'load:datastorage', 'load:postgres', 'load:redis']) {
			expect(e2[id]!.state).toBe('skipped');
			expect(e2[id]!.note).toMatch(/^the node already holds localhost\//);
		}
		expect(runEnd(again).ok).toBe(true);
	});

	it("stops at a Gateway crash loop at once (not at the wait's timeout) with the previous container's log line as evidence, and keeps it in the bundle", {timeout: 900_000}, async () => {
		if (unavailable) return;
		const dir = demoCopy('crash', (m) => {
			const f = join(m, 'gateway.yaml');
			writeFileSync(f, readFileSync(f, 'utf8').replace(/\n\s+- name: KUBERNAUT_CONTROLLER_NAMESPACE\n\s+value: \$\{namespace\}/, ''));
		});
		expect(readFileSync(join(dir, 'manifests/demo/gateway.yaml'), 'utf8')).not.toMatch(/- name: KUBERNAUT_CONTROLLER_NAMESPACE/);
		const r = await up(dir, 'crash');
		const ev = events(r.stdout);
		const gw = ends(ev)['deploy:gateway']!;
		expect(gw.state).toBe('failed');
		expect(gw.note).toMatch(/^stopped waiting: gateway-[a-z0-9]+-[a-z0-9]+\/gateway: CrashLoopBackOff/);
		// Fail fast: the wait allows 120 s; a crash loop is final as soon as the kubelet backs off.
		expect(gw.durationMs).toBeLessThan(120_000);
		const d = ev.find((x) => x.type === 'diagnosis') as Extract<RunEvent, {type: 'diagnosis'}>;
		expect(d.step).toBe('deploy:gateway');
		expect(d.findings[0]!.id).toBe('crashloop-config-error');
		expect(d.findings[0]!.evidence.map((x) => x.text).join('\n')).toContain('KUBERNAUT_CONTROLLER_NAMESPACE');
		const end = runEnd(ev);
		expect(r.code).toBe(1);
		expect(end.bundle).toBeDefined();
		const logs = readdirSync(join(end.bundle!, 'logs'));
		expect(logs.some((f) => /^gateway-.*\.gateway\.previous\.log$/.test(f))).toBe(true);
		expect(readFileSync(join(end.bundle!, 'events.txt'), 'utf8')).toMatch(/BackOff/);
		expect(readFileSync(join(end.bundle!, 'node-images.txt'), 'utf8')).toMatch(/^localhost\/kdoctor-demo\/gateway:kd-/m);
		expect(existsSync(join(end.bundle!, 'objects.yaml'))).toBe(true);
		expect(end.resume).toBe(`kdoctor up --profile crash --provider existing`);
	});

	it('refuses to deploy a manifest whose image lost its localhost/ prefix, before applying anything, and names image-name-mismatch', {timeout: 900_000}, async () => {
		if (unavailable) return;
		const dir = demoCopy('stripped', (m) => {
			const f = join(m, 'gateway.yaml');
			// The trap the issue describes: a manifest with the engine's localhost/ prefix stripped.
			writeFileSync(f, readFileSync(f, 'utf8').replace('image: ${image:gateway}', 'image: kdoctor-demo/gateway:STRIPPED'));
		});
		writeFileSync(join(dir, 'manifests/demo/gateway.yaml'), readFileSync(join(dir, 'manifests/demo/gateway.yaml'), 'utf8'));
		const text = readFileSync(join(dir, 'kdoctor.yaml'), 'utf8');
		expect(text).toContain('stripped');
		const r = await up(dir, 'stripped');
		const ev = events(r.stdout);
		const gw = ends(ev)['deploy:gateway']!;
		expect(gw.state).toBe('failed');
		expect(gw.note).toMatch(/^Deployment\/gateway asks for kdoctor-demo\/gateway:STRIPPED, which the node does not hold \(it holds localhost\/kdoctor-demo\/gateway:kd-/);
		const d = ev.find((x) => x.type === 'diagnosis') as Extract<RunEvent, {type: 'diagnosis'}>;
		expect(d.findings[0]!.id).toBe('image-name-mismatch');
		expect(ev.some((x) => x.type === 'step-line' && x.id === 'deploy:gateway' && /applied$/.test(x.line))).toBe(false);
	});
});

describe('cluster availability', () => {
	it('says why the cluster tests did not run, in one line', () => {
		if (!unavailable) return expect(lease?.info.kubelet).toBe('kubelet');
		expect(unavailable.split('\n')).toHaveLength(1);
	});
});
