import {mkdtempSync, writeFileSync, mkdirSync, chmodSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {contextHash, parseDockerignore} from '../../src/adapters/context-hash.js';
import {finalProblem, liveEvidence, repositoryOf} from '../../src/core/cluster/evidence.js';
import {emptyHistory, parseHistory, recordDuration, recordOom, recordPeak} from '../../src/core/provision/history.js';
import {
	addCoverage,
	configMapFrom,
	containerImages,
	gooseUp,
	ManifestError,
	parseManifests,
	renderTemplate,
} from '../../src/core/provision/manifests.js';
import {buildPlan, DEFAULTS, formatPlan, imageRef, imagesIn, makeRunId, PlanError, type PlanInput} from '../../src/core/provision/plan.js';
import type {PodFacts} from '../../src/core/provision/ports.js';
import {ProfileSchema} from '../../src/core/provision/profile.js';

const profile = ProfileSchema.parse({
	namespace: 'ns',
	images: [
		{name: 'gateway', repository: 'demo/gateway', dockerfile: 'g.Dockerfile', context: 'src', memoryMiB: 900},
		{name: 'datastorage', repository: 'demo/ds', dockerfile: 'd.Dockerfile', context: 'src'},
		{name: 'postgres', pull: 'docker.io/library/postgres:16-alpine'},
	],
	cluster: {name: 'demo', ports: [{containerPort: 30080, hostPort: 38080}]},
	deploy: [
		{id: 'data', files: ['data.yaml']},
		{id: 'datastorage', files: ['ds.yaml'], after: ['data']},
		{id: 'gateway', files: ['gw.yaml'], after: ['datastorage']},
	],
	health: [{url: 'http://127.0.0.1:38080/readyz'}],
});

const input = (over: Partial<PlanInput> = {}): PlanInput => ({
	profileName: 'demo',
	profile,
	runId: 'r1',
	hashes: new Map([
		['gateway', 'a'.repeat(64)],
		['datastorage', 'b'.repeat(64)],
	]),
	buildArgs: new Map(),
	manifestText: new Map([
		['data', 'image: ${image:postgres}'],
		['datastorage', 'image: ${image:datastorage}'],
		['gateway', 'image: ${image:gateway}'],
	]),
	budgetMiB: 2048,
	history: emptyHistory(),
	coverage: false,
	reuseCluster: false,
	...over,
});

describe('buildPlan', () => {
	it('derives the graph: builds and pulls after pre-flight, loads after build and cluster, deploys after their loads and predecessors', () => {
		const plan = buildPlan(input());
		const deps = Object.fromEntries(plan.steps.map((s) => [s.id, s.deps]));
		expect(deps['build:gateway']).toEqual(['preflight']);
		expect(deps['pull:postgres']).toEqual(['preflight']);
		expect(deps['load:gateway']).toEqual(['build:gateway', 'cluster']);
		expect(deps['load:postgres']).toEqual(['pull:postgres', 'cluster']);
		expect(deps['deploy:datastorage']).toEqual(['cluster', 'load:datastorage', 'deploy:data']);
		expect(deps.health).toEqual(['deploy:data', 'deploy:datastorage', 'deploy:gateway']);
		expect(plan.steps.find((s) => s.id === 'cluster')!.residentMiB).toBe(700);
	});

	it('gives every image one reference for the whole run: localhost/ kept, the content hash as tag', () => {
		const plan = buildPlan(input());
		expect(plan.images.get('gateway')!.ref).toBe(`localhost/demo/gateway:kd-${'a'.repeat(12)}`);
		expect(plan.images.get('postgres')!.ref).toBe('docker.io/library/postgres:16-alpine');
		expect(plan.steps.find((s) => s.id === 'build:gateway')!.title).toContain(plan.images.get('gateway')!.ref);
	});

	it('takes memory from history first, then the profile, then the safe default', () => {
		const history = recordPeak(emptyHistory(), 'demo/build:datastorage', 1000, 'now');
		const plan = buildPlan(input({history}));
		const mem = (id: string) => plan.steps.find((s) => s.id === id)!;
		expect(mem('build:gateway')).toMatchObject({memoryMiB: 900, memorySource: 'profile'});
		expect(mem('build:datastorage')).toMatchObject({memoryMiB: 1150, memorySource: 'learned'});
		const fresh = buildPlan(input({profile: {...profile, images: profile.images.map((i) => ({...i, memoryMiB: undefined}))}}));
		expect(fresh.steps.find((s) => s.id === 'build:gateway')).toMatchObject({memoryMiB: DEFAULTS.buildMiB, memorySource: 'default'});
	});

	it('on a 2 GiB budget builds one image at a time before the cluster; the schedule never exceeds the budget', () => {
		const plan = buildPlan(
			input({profile: {...profile, images: profile.images.map((i) => ({...i, memoryMiB: i.pull ? undefined : 1400}))}}),
		);
		const at = new Map(plan.schedule.steps.map((s) => [s.id, s]));
		const a = at.get('build:gateway')!;
		const b = at.get('build:datastorage')!;
		expect(a.end <= b.start || b.end <= a.start).toBe(true);
		expect(at.get('cluster')!.start).toBeGreaterThanOrEqual(Math.min(a.end, b.end));
		expect(plan.schedule.peakMemoryMiB).toBeLessThanOrEqual(2048);
		expect(formatPlan(plan)).toMatch(/expected: \d+s, peak memory \d+ of 2048 MiB/);
	});

	it('reusing a cluster drops the create step and counts its node against the budget', () => {
		const plan = buildPlan(input({reuseCluster: true}));
		expect(plan.steps.some((s) => s.id === 'cluster')).toBe(false);
		expect(plan.steps.find((s) => s.id === 'load:gateway')!.deps).toEqual(['build:gateway', 'preflight']);
		expect(plan.budgetMiB).toBe(2048 - 700);
	});

	it('rejects a manifest naming an undefined image and a deploy after an unknown step', () => {
		expect(() => buildPlan(input({manifestText: new Map([['gateway', '${image:nope}']])}))).toThrow(PlanError);
		expect(() => buildPlan(input({profile: {...profile, deploy: [{...profile.deploy[0]!, after: ['ghost']}]}}))).toThrow(
			/unknown step ghost/,
		);
	});

	it('makes sortable run ids and finds the images a manifest uses', () => {
		expect(makeRunId(new Date(Date.UTC(2026, 10, 23, 10, 15, 0)), () => 0.5)).toBe('20261123-101500-8000');
		expect(imagesIn('a: ${image:gateway}\nb: ${image:gateway} ${image:ds-1}')).toEqual(['gateway', 'ds-1']);
	});
});

describe('manifests', () => {
	const values = {images: new Map([['gateway', 'localhost/demo/gateway:kd-1']]), namespace: 'kdoctor-demo', pullPolicy: 'Never'};
	it('substitutes the three placeholders and refuses anything else', () => {
		expect(renderTemplate('image: ${image:gateway}\nns: ${namespace}\np: ${pullPolicy}', values, 'f.yaml')).toBe(
			'image: localhost/demo/gateway:kd-1\nns: kdoctor-demo\np: Never',
		);
		expect(() => renderTemplate('${image:other}', values, 'f.yaml')).toThrow(/names an image the profile does not define/);
		expect(() => renderTemplate('${IMAGE}', values, 'f.yaml')).toThrow(ManifestError);
	});

	it('parses multi-document YAML, drops empty documents and rejects objects without kind or name', () => {
		const docs = parseManifests('# c\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n', 'f');
		expect(docs).toHaveLength(1);
		expect(() => parseManifests('apiVersion: v1\nkind: ConfigMap\n', 'f')).toThrow(/lacks apiVersion, kind or metadata.name/);
		expect(() => parseManifests('a: [1,\n', 'f')).toThrow(/not valid YAML/);
	});

	const deployment = parseManifests(
		`apiVersion: apps/v1
kind: Deployment
metadata: {name: gateway}
spec:
  template:
    spec:
      initContainers: [{name: init, image: busybox, imagePullPolicy: IfNotPresent}]
      containers:
        - name: gateway
          image: localhost/demo/gateway:kd-1
          imagePullPolicy: Never
          env: [{name: A, value: b}]
`,
		'gw.yaml',
	);

	it('lists container images with their pull policies', () => {
		expect(containerImages(deployment)).toEqual([
			{object: 'Deployment/gateway', container: 'init', image: 'busybox', pullPolicy: 'IfNotPresent'},
			{object: 'Deployment/gateway', container: 'gateway', image: 'localhost/demo/gateway:kd-1', pullPolicy: 'Never'},
		]);
	});

	it('adds GOCOVERDIR, the /coverdata hostPath and root to the named deployments only, without touching the input', () => {
		const [out] = addCoverage(deployment, ['gateway']) as [Record<string, any>];
		const spec = out.spec.template.spec;
		expect(spec.securityContext).toEqual({runAsUser: 0, runAsGroup: 0});
		expect(spec.volumes).toEqual([{name: 'coverdata', hostPath: {path: '/coverdata', type: 'DirectoryOrCreate'}}]);
		expect(spec.containers[0].env).toEqual([
			{name: 'A', value: 'b'},
			{name: 'GOCOVERDIR', value: '/coverdata'},
		]);
		expect(spec.containers[0].volumeMounts).toEqual([{name: 'coverdata', mountPath: '/coverdata'}]);
		expect((deployment[0] as Record<string, any>).spec.template.spec.volumes).toBeUndefined();
		expect(addCoverage(deployment, ['other'])[0]).toBe(deployment[0]);
	});

	it('keeps only the Up half of goose migrations, in file-name order', () => {
		const sql =
			'-- +goose Up\n-- +goose StatementBegin\nCREATE TABLE a (id int);\n-- +goose StatementEnd\n\n-- +goose Down\nDROP TABLE a;\n';
		expect(gooseUp(sql)).toBe('CREATE TABLE a (id int);\n');
		const cm = configMapFrom(
			'migrations',
			'ns',
			[
				{name: '002_b.sql', text: 'B'},
				{name: '001_a.sql', text: sql},
			],
			true,
		);
		expect(Object.keys(cm.data as object)).toEqual(['001_a.sql', '002_b.sql']);
		expect((cm.data as Record<string, string>)['001_a.sql']).not.toContain('DROP');
	});
});

describe('history', () => {
	it('learns peaks with headroom, lowers them only slowly, and raises them after an OOM kill up to the budget', () => {
		let h = recordPeak(emptyHistory(), 'k', 1000, 't');
		expect(h.peaks.k!.miB).toBe(1150);
		h = recordPeak(h, 'k', 400, 't');
		expect(h.peaks.k!.miB).toBe(1035);
		const oom = recordOom(h, 'k', 1035, 1200, 2048, 't');
		expect(oom.miB).toBe(1553);
		expect(oom.history.peaks.k!.oomKilled).toBe(true);
		expect(recordOom(h, 'k', 1800, undefined, 2048, 't').miB).toBe(2048);
	});

	it('averages durations and survives a damaged file', () => {
		let h = recordDuration(emptyHistory(), 's', 1000);
		h = recordDuration(h, 's', 2000);
		expect(h.durations.s).toEqual({ms: 1400, runs: 2});
		expect(parseHistory('{not json')).toEqual(emptyHistory());
		expect(parseHistory(JSON.stringify({version: 2}))).toEqual(emptyHistory());
		expect(parseHistory(JSON.stringify(h))).toEqual(h);
	});
});

describe('live facts', () => {
	const pod = (over: Partial<PodFacts> & {containers: PodFacts['containers']}): PodFacts => ({
		name: 'gateway-abc',
		namespace: 'ns',
		phase: 'Pending',
		ready: false,
		labels: {},
		createdAt: new Date(0).toISOString(),
		imagePullPolicy: {},
		...over,
	});

	it('compares repositories without registry, localhost/ or tag', () => {
		expect(repositoryOf('localhost/kubernaut/datastorage:ds-1')).toBe('kubernaut/datastorage');
		expect(repositoryOf('kubernaut/datastorage:ds-2')).toBe('kubernaut/datastorage');
		expect(repositoryOf('docker.io/library/postgres:16')).toBe('postgres');
		expect(repositoryOf('registry:5000/x/y@sha256:' + 'a'.repeat(64))).toBe('x/y');
	});

	it('ends the wait at once for final states and only after a grace period for pull back-off', () => {
		const never = pod({containers: [{name: 'gw', image: 'gateway:1', ready: false, restartCount: 0, waitingReason: 'ErrImageNeverPull'}]});
		expect(finalProblem(never, 1000)).toContain('ErrImageNeverPull');
		const oom = pod({
			containers: [{name: 'gw', image: 'g', ready: false, restartCount: 1, lastTerminatedReason: 'OOMKilled', lastExitCode: 137}],
		});
		expect(finalProblem(oom, 1000)).toContain('OOMKilled');
		const pulling = pod({containers: [{name: 'gw', image: 'g', ready: false, restartCount: 0, waitingReason: 'ImagePullBackOff'}]});
		expect(finalProblem(pulling, 1000)).toBeUndefined();
		expect(finalProblem(pulling, 120_000)).toContain('ImagePullBackOff');
		expect(
			finalProblem(
				pod({containers: [{name: 'gw', image: 'g', ready: false, restartCount: 0, waitingReason: 'ContainerCreating'}]}),
				120_000,
			),
		).toBeUndefined();
	});

	it('turns a stripped localhost/ prefix into facts the KB reads: the node holds the same repository under another name', () => {
		const p = pod({
			containers: [
				{
					name: 'gw',
					image: 'kdoctor-demo/gateway:kd-1',
					ready: false,
					restartCount: 0,
					waitingReason: 'ErrImageNeverPull',
					waitingMessage: 'Container image "kdoctor-demo/gateway:kd-1" is not present with pull policy of Never',
				},
			],
		});
		const ev = liveEvidence([p], [], ['localhost/kdoctor-demo/gateway:kd-1'], new Map(), 5000);
		expect(ev.facts['pod.waitingReason']!.map((f) => f.value)).toEqual(['ErrImageNeverPull']);
		expect(ev.facts['image.nodeHasSimilar']!.map((f) => f.value)).toEqual([true]);
		expect(ev.text).toContain('is not present with pull policy of Never');
		const none = liveEvidence([p], [], ['localhost/other:1'], new Map(), 5000);
		expect(none.facts['image.nodeHasSimilar']!.map((f) => f.value)).toEqual([false]);
	});

	it('puts the previous container log lines into the text, so the line that explains a crash is found', () => {
		const p = pod({
			phase: 'Running',
			containers: [
				{
					name: 'gw',
					image: 'g',
					ready: false,
					restartCount: 3,
					waitingReason: 'CrashLoopBackOff',
					lastTerminatedReason: 'Error',
					lastExitCode: 1,
				},
			],
		});
		const ev = liveEvidence(
			[p],
			[
				{
					namespace: 'ns',
					object: 'gateway-abc',
					kind: 'Pod',
					reason: 'BackOff',
					message: 'Back-off restarting failed container',
					type: 'Warning',
					count: 7,
					lastSeen: '',
				},
			],
			undefined,
			new Map([['gateway-abc/gw/previous', '{"level":"fatal","msg":"KUBERNAUT_CONTROLLER_NAMESPACE is required"}\n']]),
			0,
		);
		expect(ev.text).toContain('(previous container)');
		expect(ev.text).toContain('KUBERNAUT_CONTROLLER_NAMESPACE is required');
		expect(ev.facts['pod.exitCode']!.map((f) => f.value)).toEqual([1]);
		expect(ev.facts['event.reason']!.map((f) => f.value)).toEqual(['BackOff']);
	});
});

describe('contextHash (the build cache key)', () => {
	const tree = () => {
		const dir = mkdtempSync(join(tmpdir(), 'kd-hash-'));
		mkdirSync(join(dir, 'ctx', 'cmd'), {recursive: true});
		mkdirSync(join(dir, 'ctx', 'docs'), {recursive: true});
		writeFileSync(join(dir, 'Dockerfile'), 'FROM scratch\n');
		writeFileSync(join(dir, 'ctx', 'cmd', 'main.go'), 'package main\n');
		writeFileSync(join(dir, 'ctx', 'docs', 'a.md'), 'doc\n');
		writeFileSync(join(dir, 'ctx', '.dockerignore'), 'docs\n*.md\n!keep.md\n');
		return {dir, input: {dockerfile: join(dir, 'Dockerfile'), context: join(dir, 'ctx'), buildArgs: {A: '1'}}};
	};

	it('is stable for the same inputs and changes with a source file, a build arg, the platform or the Dockerfile', () => {
		const {dir, input} = tree();
		const h = contextHash(input);
		expect(contextHash(input)).toBe(h);
		expect(contextHash({...input, buildArgs: {A: '2'}})).not.toBe(h);
		expect(contextHash({...input, platform: 'linux/arm64'})).not.toBe(h);
		writeFileSync(join(dir, 'ctx', 'cmd', 'main.go'), 'package main // changed\n');
		const h2 = contextHash(input);
		expect(h2).not.toBe(h);
		chmodSync(join(dir, 'ctx', 'cmd', 'main.go'), 0o755);
		expect(contextHash(input)).not.toBe(h2);
		writeFileSync(join(dir, 'Dockerfile'), 'FROM scratch\nUSER 1\n');
		expect(contextHash(input)).not.toBe(h2);
	});

	it('ignores what .dockerignore excludes (the engine never sees it) but not re-included files', () => {
		const {dir, input} = tree();
		const h = contextHash(input);
		writeFileSync(join(dir, 'ctx', 'docs', 'a.md'), 'changed\n');
		writeFileSync(join(dir, 'ctx', 'README.md'), 'new\n');
		expect(contextHash(input)).toBe(h);
		writeFileSync(join(dir, 'ctx', 'keep.md'), 'kept\n');
		expect(contextHash(input)).not.toBe(h);
		expect(parseDockerignore('# c\n\n/bin/\n!bin/x-arm64\n').map((r) => r.negate)).toEqual([false, true]);
	});
});

describe('the built-in profiles', async () => {
	const {readFileSync} = await import('node:fs');
	const {parse} = await import('yaml');
	const {ProfilesSchema} = await import('../../src/core/provision/profile.js');
	const {kindConfigYaml} = await import('../../src/adapters/kind.js');
	const root = new URL('../../', import.meta.url).pathname;
	const profiles = ProfilesSchema.parse((parse(readFileSync(join(root, 'profiles.yaml'), 'utf8')) as {profiles: unknown}).profiles);

	it.each(Object.keys(profiles))('%s: every manifest kdoctor ships renders, parses and names only images the profile defines', (name) => {
		const p = profiles[name]!;
		const images = new Map(p.images.map((i) => [i.name, imageRef(i, 'f'.repeat(64))]));
		let objects = 0;
		for (const d of p.deploy) {
			for (const f of d.files) {
				// Files of a Kubernaut checkout (config/crd/bases) are not in this repository.
				if (p.source === '$source' && !f.startsWith('kdoctor:')) continue;
				const file = join(root, f.replace(/^kdoctor:/, ''));
				const docs = parseManifests(
					renderTemplate(readFileSync(file, 'utf8'), {images, namespace: p.namespace, pullPolicy: 'Never'}, file),
					file,
				);
				objects += docs.length;
				for (const c of containerImages(docs)) if (c.pullPolicy === 'Never') expect([...images.values()]).toContain(c.image);
			}
		}
		expect(objects).toBeGreaterThan(5);
		const kind = parse(
			kindConfigYaml({
				nodeImage: p.cluster.nodeImage,
				ports: p.cluster.ports,
				kubeadmConfigPatches: p.cluster.kubeadmConfigPatches,
				coverdataHostPath: '/tmp/cover',
			}),
		) as {nodes: {extraPortMappings: unknown[]; extraMounts: unknown[]}[]};
		expect(kind.nodes[0]!.extraPortMappings).toHaveLength(p.cluster.ports.length);
		expect(kind.nodes[0]!.extraMounts).toEqual([expect.objectContaining({hostPath: '/tmp/cover', containerPath: '/coverdata'})]);
	});
});
