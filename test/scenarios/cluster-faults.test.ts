/**
 * The demo flow end to end on the local cluster (real kubelet, containerd, runc), then one real fault per scenario:
 * injected into a real `kdoctor up` run (or into the live cluster, as a hand-written harness would), asserting the
 * KB id kdoctor names, its evidence, and that the remediation (where kdoctor applies one) makes the environment
 * healthy again. The time from the fault's first appearance in the API (seen by an independent watch) to kdoctor's
 * finding is recorded per scenario. One file, run in order: the scenarios share the demo's namespace and NodePorts.
 */
import {mkdtempSync, readdirSync, readFileSync, existsSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {acquireCluster, type ClusterLease} from '../cluster/cluster.js';
import type {RunEvent} from '../../src/core/provision/events.js';
import {CLI, runCli} from '../helpers/cli.js';
import {exclusive} from '../helpers/exclusive.js';
import {tmuxDriver} from '../helpers/tmux.js';
import {quoteArg} from '../../src/plain/quote.js';
import {census, plotLeft, render, rowBand, savePng} from '../helpers/svg-picture.js';
import {needsWorld, WORLD_IMAGES, strictWorld} from '../helpers/world.js';
import {
	demoCopy,
	diagnosisOf,
	ends,
	event,
	events,
	observe,
	replaceIn,
	runEnd,
	terminated,
	upJson,
	waiting,
	latencyTable,
	type Latency,
	type Observer,
} from './lib.js';

const NS = 'kdoctor-demo';
// The Gateway's health NodePort (30180), reached on the node's address as the existing provider does.
const GATEWAY_HEALTH = 'http://127.0.0.1:30180/readyz';

let lease: ClusterLease | undefined;
let unavailable = '';
let state: string;
const latencies: Latency[] = [];
let machine: {release(): void} | undefined;

beforeAll(async () => {
	state = mkdtempSync(join(tmpdir(), 'kdoctor-scn-'));
	// Not beside the demo on Kind (test/scenarios/kind.test.ts): one demo at a time on 2 cores.
	machine = await exclusive('demo');
	const got = await acquireCluster();
	if ('unavailable' in got) unavailable = got.unavailable;
	else lease = got;
}, 3_600_000);

afterAll(async () => {
	if (latencies.length) {
		const table = latencyTable(latencies);
		console.log(`[scenarios] fault → finding:\n${table}`);
		if (process.env.BENCH_SCENARIO_OUT) writeFileSync(process.env.BENCH_SCENARIO_OUT, JSON.stringify(latencies, null, 2));
	}
	await lease?.release();
	machine?.release();
	rmSync(state, {recursive: true, force: true});
});

const env = () => ({KDOCTOR_STATE_DIR: state, PATH: `${process.env.PATH}:/usr/local/go/bin`});
const kubeArgs = () => ['--kubeconfig', lease!.info.kubeconfig];

function up(dir: string | undefined, profile: string) {
	const info = lease!.info;
	return upJson(
		dir,
		profile,
		['--provider', 'existing', ...kubeArgs(), '--containerd-socket', info.containerdSocket, '--node-address', '127.0.0.1'],
		env(),
	);
}

/** `kdoctor fix … --namespace` against the live cluster, JSON out. */
async function fix(id: string, extra: string[] = []) {
	const r = await runCli(
		['fix', id, '-n', NS, ...kubeArgs(), '--containerd-socket', lease!.info.containerdSocket, '--yes', '--json', ...extra],
		{env: env()},
	);
	const out = r.stdout.trim()
		? (JSON.parse(r.stdout.trim().split('\n').at(-1)!) as {
				finding: string;
				workload: string;
				plan: {status: string; before?: string; after?: string; field: string; reason?: string};
				applied?: string;
				verify?: {ok: boolean; message: string; ms: number};
			})
		: undefined;
	if (out?.verify)
		console.log(
			`[scenarios] kdoctor fix ${id}: ${out.plan.field} ${out.plan.before ?? 'unset'} → ${out.plan.after}, rollout ${out.verify.ok ? 'verified' : 'NOT verified'} in ${out.verify.ms} ms`,
		);
	return {r, out};
}

/**
 * Opens the diagnose screen (a real terminal through tmux) on a one-line log, presses u, checks the preview, presses y
 * and waits for "Undone:"; the screen undoes the journal's newest change, whatever command made it.
 */
async function undoOnScreen(preview: RegExp) {
	const dir = mkdtempSync(join(tmpdir(), 'kdoctor-scn-tui-'));
	writeFileSync(join(dir, 'pod.log'), 'Last State: Terminated\n  Reason: OOMKilled\n  Exit Code: 137\n');
	const socket = `kdoctor-scn-${process.pid}`;
	const {tmux, waitFor, kill} = tmuxDriver(socket, 'u', 60_000);
	const vars = Object.entries(env())
		.map(([k, v]) => `${k}=${quoteArg(v)}`)
		.join(' ');
	try {
		tmux(
			'new-session',
			'-d',
			'-s',
			'u',
			'-x',
			'160',
			'-y',
			'45',
			`cd ${dir} && env -u CI ${vars} TERM=xterm-256color node ${CLI} diagnose pod.log; sleep 60`,
		);
		await waitFor(/likely cause/);
		tmux('send-keys', '-t', 'u', 'u');
		const shown = await waitFor(/Undo: /);
		expect(shown.replace(/\s+/g, ' '), shown).toMatch(preview);
		expect(shown).toContain('made outside this screen');
		tmux('send-keys', '-t', 'u', 'y');
		await waitFor(/Undone:/, 120_000);
		tmux('send-keys', '-t', 'u', 'q');
	} finally {
		kill();
		rmSync(dir, {recursive: true, force: true});
	}
}

async function undo() {
	return runCli(['undo'], {env: env()});
}

type LiveFinding = {id: string; evidence: {text: string}[]};
type TriageRow = {workload: {kind: string; name: string}; findings: LiveFinding[]};

/**
 * The ways in to the one live engine agree: after a failed run, `triage --json` and `diagnose -n --json` name the same
 * cause with the same evidence for the same object as the run's own failure diagnosis did, and the run's evidence
 * holds the cluster's.
 */
async function agree(run: {findings: LiveFinding[]}, kind: string, name: string) {
	// An event's repeat count and a restarted container's log move between two reads of a live cluster, so the pair is
	// read again (at most three times) until both reads saw the same world; counts are not evidence content.
	const texts = (f: LiveFinding | undefined) => (f?.evidence ?? []).map((e) => e.text.replace(/ \(x\d+\)$/, ' (xN)')).sort();
	let tri: LiveFinding | undefined;
	let dia: LiveFinding | undefined;
	for (let attempt = 0; attempt < 3; attempt++) {
		const t = await runCli(['triage', '-n', NS, ...kubeArgs(), '--json'], {env: env()});
		const tj = JSON.parse(t.stdout) as {failing: TriageRow[]; settling: TriageRow[]};
		tri = [...tj.failing, ...tj.settling].find((w) => w.workload.kind === kind && w.workload.name === name)?.findings[0];
		const d = await runCli(['diagnose', '-n', NS, ...kubeArgs(), '--json'], {env: env()});
		const rows = d.stdout
			.trim()
			.split('\n')
			.map((l) => JSON.parse(l) as {workload: string; kind: string; findings: LiveFinding[]});
		dia = rows.find((r) => r.kind === kind && r.workload === name)?.findings[0];
		if (tri?.id === dia?.id && JSON.stringify(texts(tri)) === JSON.stringify(texts(dia))) break;
	}
	const expected = run.findings[0]!.id;
	expect({triage: tri?.id, diagnose: dia?.id}, `${kind}/${name}`).toEqual({triage: expected, diagnose: expected});
	expect(texts(dia), 'diagnose -n and triage show the same evidence').toEqual(texts(tri));
	const runTexts = new Set(texts(run.findings[0]));
	expect(
		texts(tri).some((x) => runTexts.has(x)),
		`up's evidence shares a line with triage's:\n${[...runTexts].join('\n')}\n--\n${texts(tri).join('\n')}`,
	).toBe(true);
}

/** Status of a GET through the host port, polled until it is 200 or the time is up. */
async function healthy(url: string, timeoutMs = 60_000): Promise<number | string> {
	const deadline = Date.now() + timeoutMs;
	let last: number | string = '';
	while (Date.now() < deadline) {
		try {
			last = (await fetch(url, {signal: AbortSignal.timeout(3000)})).status;
			if (last === 200) return last;
		} catch (error) {
			last = (error as Error).message;
		}
		await new Promise((r) => setTimeout(r, 500));
	}
	return last;
}

/** The container field of a Deployment as the API server has it now. */
async function deploymentContainer(name: string): Promise<{
	image?: string;
	env?: {name: string; value?: string}[];
	resources?: {limits?: Record<string, string>};
	readinessProbe?: {httpGet?: {path?: string}};
}> {
	const k8s = await import('@kubernetes/client-node');
	const kc = new k8s.KubeConfig();
	kc.loadFromFile(lease!.info.kubeconfig);
	const d = await kc.makeApiClient(k8s.AppsV1Api).readNamespacedDeployment({name, namespace: NS});
	return d.spec!.template.spec!.containers[0]! as never;
}

/** Runs a broken copy of the demo while an independent watch notes when the fault first shows in the API. */
async function faultyRun(name: string, conditions: Parameters<typeof observe>[2], edit: (manifests: string) => void) {
	const dir = demoCopy(state, name, edit);
	const watch: Observer = await observe(lease!.info.kubeconfig, NS, conditions);
	try {
		const r = await up(dir, name);
		return {r, ev: events(r.stdout), watch};
	} finally {
		watch.stop();
	}
}

function record(scenario: string, finding: string, fault: string, faultAt: number | undefined, findingAt: number, note?: string) {
	latencies.push({scenario, finding, fault, faultAt, findingAt, ms: faultAt === undefined ? undefined : findingAt - faultAt, note});
}

const skip = () => {
	if (!unavailable) return false;
	if (strictWorld()) throw new Error(`the local cluster could not be made: ${unavailable}`);
	console.warn(`[cluster] skipped: ${unavailable}`);
	return true;
};

needsWorld(['podman', 'root', WORLD_IMAGES.goToolset, WORLD_IMAGES.ubiMinimal, 'localhost/kdoctor-world/debian-data:1']).describe(
	'the demo flow and its fault scenarios on the real local cluster (existing provider)',
	() => {
		it(
			'brings the demo up end to end: images imported as a Kind node imports them, PostgreSQL, Redis, migrations, DataStorage, Gateway, health through the NodePort',
			{timeout: 1_800_000},
			async () => {
				if (skip()) return;
				const r = await up(undefined, 'demo');
				const ev = events(r.stdout);
				const e = ends(ev);
				expect(runEnd(ev), r.stderr).toMatchObject({ok: true});
				expect(r.code).toBe(0);
				for (const id of ['deploy:data', 'deploy:migrations', 'deploy:datastorage', 'deploy:gateway', 'health'])
					expect(e[id]!.state, id).toBe('done');
				expect(e['deploy:migrations']!.note).toBe('job datastorage-migrate complete');
				for (const id of ['load:gateway', 'load:datastorage'])
					expect(e[id]!.note ?? '').toMatch(/localhost\/kdoctor-demo\/[a-z]+:kd-[0-9a-f]{12}/);
				expect(await healthy(GATEWAY_HEALTH, 5000)).toBe(200);
				// A second run: every image is already in the node under its exact name, so nothing is imported again.
				const again = events((await up(undefined, 'demo')).stdout);
				const e2 = ends(again);
				for (const id of ['load:gateway', 'load:datastorage', 'load:postgres', 'load:redis']) {
					expect(e2[id]!.state).toBe('skipped');
					expect(e2[id]!.note).toMatch(/^the node already holds localhost\//);
				}
				expect(runEnd(again).ok).toBe(true);
				// Live, the namespace is healthy: nothing to report.
				const live = await runCli(['diagnose', '-n', NS, ...kubeArgs(), '--json'], {env: env()});
				expect(live.code).toBe(0);
				expect(JSON.parse(live.stdout)).toMatchObject({status: 'ok', findings: []});
				expect(JSON.parse(live.stdout).pods).toBeGreaterThanOrEqual(4);
				const none = await runCli(['diagnose', '-n', 'kdoctor-no-such-namespace', ...kubeArgs()], {env: env()});
				expect(none.stdout).toBe(
					'namespace kdoctor-no-such-namespace has no pods (does it exist? kdoctor looked with the current context)\n',
				);
			},
		);

		it(
			"the Gateway's image with localhost/ stripped, applied by a harness → image-name-mismatch, fixed by the one-key patch, undone by kdoctor undo",
			{timeout: 600_000},
			async () => {
				if (skip()) return;
				const good = (await deploymentContainer('gateway')).image!;
				expect(good).toMatch(/^localhost\/kdoctor-demo\/gateway:kd-/);
				const stripped = good.replace(/^localhost\//, '');
				const watch = await observe(lease!.info.kubeconfig, NS, {never: waiting('gateway', 'ErrImageNeverPull')});
				// What Kubernaut's harness does by hand: the manifest's image without podman's prefix, applied as is.
				const k8s = await import('@kubernetes/client-node');
				const kc = new k8s.KubeConfig();
				kc.loadFromFile(lease!.info.kubeconfig);
				await kc
					.makeApiClient(k8s.AppsV1Api)
					.patchNamespacedDeployment(
						{name: 'gateway', namespace: NS, body: {spec: {template: {spec: {containers: [{name: 'gateway', image: stripped}]}}}}},
						k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch),
					);
				let found: {findings: {id: string; evidence: {text: string; source?: string}[]}[]; workload: string} | undefined;
				let foundAt = 0;
				for (let i = 0; i < 60 && !found; i++) {
					const live = await runCli(['diagnose', '-n', NS, ...kubeArgs(), '--containerd-socket', lease!.info.containerdSocket, '--json'], {
						env: env(),
					});
					foundAt = Date.now();
					const rows = live.stdout
						.trim()
						.split('\n')
						.map((l) => JSON.parse(l) as NonNullable<typeof found>);
					found = rows.find((w) => w.workload === 'gateway' && w.findings[0]?.id === 'image-name-mismatch');
					if (!found) await new Promise((r) => setTimeout(r, 500));
				}
				watch.stop();
				expect(found, 'kdoctor diagnose -n never named image-name-mismatch').toBeDefined();
				const evidence = found!.findings[0]!.evidence.map((x) => x.text).join('\n');
				expect(evidence).toContain('ErrImageNeverPull');
				expect(evidence).toContain(good);
				expect(found!.findings[0]!.evidence.some((x) => x.source === 'cluster')).toBe(true);
				record(
					'stripped localhost/ (live, harness-applied)',
					'image-name-mismatch',
					'pod waiting ErrImageNeverPull',
					watch.firstSeen('never'),
					foundAt,
					'kdoctor diagnose -n snapshots polled every 0.5 s, process start included',
				);

				const {r, out} = await fix('image-name-mismatch');
				expect(r.stderr).toBe('');
				expect(out!.plan).toMatchObject({status: 'ready', field: 'image', before: stripped, after: good});
				expect(out!.verify, out!.verify?.message).toMatchObject({ok: true});
				expect(r.code).toBe(0);
				expect(await healthy(GATEWAY_HEALTH)).toBe(200);

				const u = await undo();
				expect(u.code, u.stderr).toBe(0);
				expect(u.stdout).toContain(`image back to ${stripped}`);
				expect((await deploymentContainer('gateway')).image).toBe(stripped);
				// Undo is journaled too: a second undo has nothing left of this change.
				const again = await undo();
				expect(again.stderr).toMatch(/nothing to undo/);
			},
		);

		it(
			'a tag generated twice (build tag ≠ deploy tag) → image-name-mismatch before anything is applied, naming the tag the node holds',
			{timeout: 600_000},
			async () => {
				if (skip()) return;
				const {ev} = await faultyRun('tagtwice', {}, (m) =>
					replaceIn(join(m, 'gateway.yaml'), 'image: ${image:gateway}', 'image: localhost/kdoctor-demo/gateway:e2e-20261123-050112'),
				);
				const gw = ends(ev)['deploy:gateway']!;
				expect(gw.state).toBe('failed');
				expect(gw.note).toMatch(
					/^Deployment\/gateway asks for localhost\/kdoctor-demo\/gateway:e2e-20261123-050112, which the node does not hold \(it holds localhost\/kdoctor-demo\/gateway:kd-[0-9a-f]{12}\)/,
				);
				const d = diagnosisOf(ev)!;
				expect(d.findings[0]!.id).toBe('image-name-mismatch');
				expect(d.findings[0]!.evidence.map((x) => x.text).join('\n')).toMatch(/image\.nodeHasSimilar = true|ErrImageNeverPull/);
				expect(ev.some((x) => x.type === 'step-line' && x.id === 'deploy:gateway' && /applied$/.test(x.line))).toBe(false);
				record(
					'tag generated twice',
					'image-name-mismatch',
					'never: refused before apply',
					undefined,
					d.at,
					'caught before apply (the pod never exists)',
				);
			},
		);

		it('an image never imported → image-not-loaded before anything is applied', {timeout: 600_000}, async () => {
			if (skip()) return;
			const {ev} = await faultyRun('notloaded', {}, (m) =>
				replaceIn(join(m, 'gateway.yaml'), 'image: ${image:gateway}', 'image: localhost/kdoctor-demo/notifier:kd-5e1f0c2a9b7d'),
			);
			const gw = ends(ev)['deploy:gateway']!;
			expect(gw.state).toBe('failed');
			expect(gw.note).toBe('Deployment/gateway asks for localhost/kdoctor-demo/notifier:kd-5e1f0c2a9b7d, which the node does not hold');
			const d = diagnosisOf(ev)!;
			expect(d.findings[0]!.id).toBe('image-not-loaded');
			expect(d.findings[0]!.evidence.map((x) => x.text).join('\n')).toMatch(/image\.nodeHasSimilar = false/);
			record(
				'image never imported',
				'image-not-loaded',
				'never: refused before apply',
				undefined,
				d.at,
				'caught before apply (the pod never exists)',
			);
		});

		it(
			"the Gateway without a required environment variable → crashloop-config-error, explained by the previous container's log line; fixed by setting the variable",
			{timeout: 900_000},
			async () => {
				if (skip()) return;
				const {r, ev, watch} = await faultyRun(
					'crash',
					{backoff: waiting('gateway', 'CrashLoopBackOff'), exited: terminated('gateway', 'Error')},
					(m) => replaceIn(join(m, 'gateway.yaml'), /\n\s+- name: KUBERNAUT_CONTROLLER_NAMESPACE\n\s+value: \$\{namespace\}/, ''),
				);
				const gw = ends(ev)['deploy:gateway']!;
				expect(gw.state).toBe('failed');
				expect(gw.note).toMatch(/^stopped waiting: gateway-[a-z0-9]+-[a-z0-9]+\/gateway: CrashLoopBackOff/);
				const d = diagnosisOf(ev)!;
				expect(d.step).toBe('deploy:gateway');
				expect(d.findings[0]!.id).toBe('crashloop-config-error');
				expect(d.findings[0]!.evidence.map((x) => x.text).join('\n')).toContain('KUBERNAUT_CONTROLLER_NAMESPACE');
				record(
					'required env var missing',
					'crashloop-config-error',
					'container waiting CrashLoopBackOff',
					watch.firstSeen('backoff'),
					d.at,
				);
				await agree(d, 'Deployment', 'gateway');
				const end = runEnd(ev);
				expect(r.code).toBe(1);
				const logs = readdirSync(join(end.bundle!, 'logs'));
				expect(logs.some((f) => /^gateway-.*\.gateway\.previous\.log$/.test(f))).toBe(true);
				expect(readFileSync(join(end.bundle!, 'events.txt'), 'utf8')).toMatch(/BackOff/);
				expect(readFileSync(join(end.bundle!, 'node-images.txt'), 'utf8')).toMatch(/^localhost\/kdoctor-demo\/gateway:kd-/m);
				expect(existsSync(join(end.bundle!, 'objects.yaml'))).toBe(true);
				expect(end.resume).toBe(`kdoctor up --profile crash --provider existing`);

				// Without a value the fix says what it needs and changes nothing.
				const ask = await fix('crashloop-config-error');
				expect(ask.out!.plan).toMatchObject({status: 'missing-input', field: 'env KUBERNAUT_CONTROLLER_NAMESPACE'});
				expect(ask.out!.applied).toBeUndefined();
				const {out} = await fix('crashloop-config-error', ['--value', NS]);
				expect(out!.plan).toMatchObject({status: 'ready', field: 'env KUBERNAUT_CONTROLLER_NAMESPACE', after: NS});
				expect(out!.verify, out!.verify?.message).toMatchObject({ok: true});
				expect(await healthy(GATEWAY_HEALTH)).toBe(200);
				const u = await undo();
				expect(u.code, u.stderr).toBe(0);
				expect((await deploymentContainer('gateway')).env!.some((e) => e.name === 'KUBERNAUT_CONTROLLER_NAMESPACE')).toBe(false);
			},
		);

		it(
			'DataStorage pointed at a wrong PostgreSQL password → db-auth-failed, with the server’s refusal as evidence',
			{timeout: 900_000},
			async () => {
				if (skip()) return;
				const {ev, watch} = await faultyRun('dbauth', {backoff: waiting('datastorage', 'CrashLoopBackOff')}, (m) => {
					const f = join(m, 'datastorage.yaml');
					// Its own Secret with a password PostgreSQL was not created with; migrations keep the right one.
					replaceIn(f, /- secret:\n(\s+)name: postgresql-secret/, '- secret:\n$1name: datastorage-db-secret');
					writeFileSync(
						f,
						`${readFileSync(f, 'utf8')}\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: datastorage-db-secret\n  namespace: \${namespace}\ntype: Opaque\nstringData:\n  db-secrets.yaml: |\n    username: slm_user\n    password: not_the_password\n`,
					);
				});
				const ds = ends(ev)['deploy:datastorage']!;
				expect(ds.state).toBe('failed');
				expect(ds.note).toMatch(/CrashLoopBackOff/);
				const d = diagnosisOf(ev)!;
				expect(d.findings[0]!.id).toBe('db-auth-failed');
				expect(d.findings[0]!.evidence.map((x) => x.text).join('\n')).toMatch(/password authentication failed for user \\?"?slm_user/);
				record('wrong PostgreSQL password', 'db-auth-failed', 'container waiting CrashLoopBackOff', watch.firstSeen('backoff'), d.at);
				await agree(d, 'Deployment', 'datastorage');

				// The person corrects the Secret (kdoctor does not guess passwords); the pods keep the old file until they restart.
				const k8s = await import('@kubernetes/client-node');
				const kc = new k8s.KubeConfig();
				kc.loadFromFile(lease!.info.kubeconfig);
				await kc.makeApiClient(k8s.CoreV1Api).patchNamespacedSecret(
					{
						name: 'datastorage-db-secret',
						namespace: NS,
						body: {stringData: {'db-secrets.yaml': 'username: slm_user\npassword: test_password\n'}},
					},
					k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
				);
				const {out} = await fix('db-auth-failed', ['--key', 'r']);
				expect(out!.plan).toMatchObject({status: 'ready', field: 'restart'});
				expect(out!.verify, out!.verify?.message).toMatchObject({ok: true});
				// Undo has nothing to restore for a restart, says so, and takes it off the journal.
				const u = await undo();
				expect(u.code, u.stderr).toBe(0);
				expect(u.stdout).toContain('a rollout restart is not reverted');

				// The hand-off of this very run, from its folder: the cause with its evidence, the verified restart, no password.
				const runDir = (ev.find((e) => e.type === 'run-start') as Extract<RunEvent, {type: 'run-start'}>).runDir;
				const started = Date.now();
				const rep = await runCli(['report', runDir], {env: env()});
				console.log(`[scenarios] kdoctor report of the db-auth-failed run: ${Date.now() - started} ms (process start included)`);
				expect(rep.code, rep.stderr).toBe(0);
				const md = rep.stdout;
				writeFileSync(join(tmpdir(), 'kdoctor-report-dbauth.md'), md);
				expect(md).toContain('failed at deploy:datastorage');
				expect(md).toMatch(/^### `db-auth-failed` /m);
				expect(md).toMatch(/^- .*password authentication failed for user \\?"?slm_user/m);
				expect(md).toMatch(/^\| .* \| `db-auth-failed` \| `\[r\]` .*rollout restart \| ✓ verified in [^|]+ \| yes, /m);
				expect(md).toContain('Resume with:');
				for (const secret of ['not_the_password', 'test_password']) {
					expect(md).not.toContain(secret);
					expect(md).not.toContain(Buffer.from(secret).toString('base64'));
				}
				const htmlPath = join(state, 'dbauth-report.html');
				const h = await runCli(['report', runDir, '--html', '-o', htmlPath], {env: env()});
				expect(h.code, h.stderr).toBe(0);
				const html = readFileSync(htmlPath, 'utf8');
				expect(html).not.toContain('not_the_password');
				expect(html).not.toContain('test_password');
				const svg = /<svg[^]*?<\/svg>/.exec(html)![0];
				const pic = render(svg);
				savePng(pic, join(tmpdir(), 'kdoctor-report-dbauth-gantt.png'));
				const left = plotLeft(svg, pic);
				expect(census(pic, rowBand(svg, pic, 'deploy:datastorage'), left).red).toBeGreaterThan(50);
				expect(census(pic, rowBand(svg, pic, 'deploy:data'), left).red).toBe(0);
			},
		);

		it(
			'PostgreSQL with a memory limit below its need → pod-oom-killed; fixed by raising the limit, undone by kdoctor undo',
			{timeout: 900_000},
			async () => {
				if (skip()) return;
				const {ev, watch} = await faultyRun('oom', {oom: terminated('postgresql', 'OOMKilled')}, (m) =>
					replaceIn(
						join(m, 'data.yaml'),
						/requests: \{cpu: 100m, memory: 128Mi\}\n(\s+)limits: \{cpu: 500m, memory: 512Mi\}/,
						'requests: {cpu: 100m, memory: 32Mi}\n$1limits: {cpu: 500m, memory: 32Mi}',
					),
				);
				const data = ends(ev)['deploy:data']!;
				expect(data.state).toBe('failed');
				expect(data.note).toMatch(/postgresql-[a-z0-9-]+\/postgresql: (OOMKilled|CrashLoopBackOff)/);
				const d = diagnosisOf(ev)!;
				expect(d.findings[0]!.id).toBe('pod-oom-killed');
				expect(d.findings[0]!.evidence.map((x) => x.text).join('\n')).toMatch(/OOMKilled/);
				record('memory limit below need', 'pod-oom-killed', 'container terminated OOMKilled', watch.firstSeen('oom'), d.at);
				await agree(d, 'Deployment', 'postgresql');

				const {out} = await fix('pod-oom-killed');
				expect(out!.plan).toMatchObject({status: 'ready', field: 'resources.limits.memory', before: '32Mi', after: '160Mi'});
				expect(out!.verify, out!.verify?.message).toMatchObject({ok: true});
				expect((await deploymentContainer('postgresql')).resources!.limits!.memory).toBe('160Mi');
				// The live patch is taken back from the diagnose screen's u in a real terminal, as kdoctor undo would.
				await undoOnScreen(/memory.*deployment\/postgresql[\s\S]*back from 160Mi to 32Mi/);
				expect((await deploymentContainer('postgresql')).resources!.limits!.memory).toBe('32Mi');
				expect((await undo()).stderr).toMatch(/nothing to undo/);
			},
		);

		it(
			'a readiness probe on a path that is not served → readiness-probe-failing at the second 404, not at the timeout; fixed by the path the program serves',
			{timeout: 900_000},
			async () => {
				if (skip()) return;
				const {ev, watch} = await faultyRun(
					'probe',
					{
						first: event(/Readiness probe failed: HTTP probe failed with statuscode: 404/),
						second: event(/Readiness probe failed: HTTP probe failed with statuscode: 404/, 2),
					},
					(m) =>
						replaceIn(
							join(m, 'gateway.yaml'),
							/readinessProbe:\n(\s+)httpGet: \{path: \/readyz/,
							'readinessProbe:\n$1httpGet: {path: /ready',
						),
				);
				// The OOM scenario replaced PostgreSQL (emptyDir: an empty database): the completed migrations Job runs again.
				expect(
					ev.some(
						(x) =>
							x.type === 'step-line' &&
							x.id === 'deploy:migrations' &&
							/completed at .* before postgresql-.* started .*: running it again/.test(x.line),
					),
				).toBe(true);
				const gw = ends(ev)['deploy:gateway']!;
				expect(gw.state).toBe('failed');
				expect(gw.note).toMatch(/Readiness probe failed: HTTP probe failed with statuscode: 404 \(x2\)/);
				expect(gw.durationMs).toBeLessThan(120_000);
				const d = diagnosisOf(ev)!;
				expect(d.findings[0]!.id).toBe('readiness-probe-failing');
				expect(d.findings[0]!.evidence.map((x) => x.text).join('\n')).toMatch(/statuscode: 404/);
				const first = watch.firstSeen('first');
				record(
					'readiness probe on an unserved path',
					'readiness-probe-failing',
					'second Unhealthy 404 event (kdoctor waits for two)',
					watch.firstSeen('second'),
					d.at,
					first === undefined ? undefined : `${d.at - first} ms after the first 404`,
				);

				const {out} = await fix('readiness-probe-failing', ['--value', '/readyz']);
				expect(out!.plan).toMatchObject({status: 'ready', field: 'readinessProbe.httpGet.path', before: '/ready', after: '/readyz'});
				expect(out!.verify, out!.verify?.message).toMatchObject({ok: true});
				expect(await healthy(GATEWAY_HEALTH)).toBe(200);
				const u = await undo();
				expect(u.code, u.stderr).toBe(0);
				expect((await deploymentContainer('gateway')).readinessProbe!.httpGet!.path).toBe('/ready');
			},
		);

		it(
			"the Gateway Service's selector matching no pod → service-selector-mismatch on the Service, from up, triage and diagnose -n alike",
			{timeout: 900_000},
			async () => {
				if (skip()) return;
				const {ev} = await faultyRun('selector', {}, (m) =>
					replaceIn(
						join(m, 'gateway.yaml'),
						/type: NodePort\n(\s+)selector:\n(\s+)app: gateway\n/,
						'type: NodePort\n$1selector:\n$2app: gateway-api\n',
					),
				);
				const d = diagnosisOf(ev)!;
				expect(d, 'the run ended without a diagnosis').toBeDefined();
				expect(d.findings[0]!.id).toBe('service-selector-mismatch');
				expect(d.findings[0]!.evidence.map((x) => x.text).join('\n')).toMatch(/gateway-service/);
				record('Service selector matches no pod', 'service-selector-mismatch', 'never: no event for an empty Service', undefined, d.at);
				await agree(d, 'Service', 'gateway-service');
			},
		);

		it('after the scenarios, the demo comes back green on the same cluster', {timeout: 900_000}, async () => {
			if (skip()) return;
			const r = await up(undefined, 'demo');
			expect(runEnd(events(r.stdout)), r.stderr).toMatchObject({ok: true});
			expect(await healthy(GATEWAY_HEALTH, 5000)).toBe(200);
		});
	},
);

describe('cluster availability', () => {
	it('says why the cluster tests did not run, in one line', () => {
		if (!unavailable) return expect(lease?.info.kubelet).toBe('kubelet');
		expect(unavailable.split('\n')).toHaveLength(1);
	});
});
