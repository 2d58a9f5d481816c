/**
 * `kdoctor report` on real run folders: ones the real `kdoctor up` writes here (a pre-flight failure on a held
 * host port; an images-only run whose second build fails after printing secrets), and a hand-built one with an
 * out-of-memory re-run in the formats up writes. The chart is looked at as a picture.
 */
import {spawnSync} from 'node:child_process';
import {cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {createServer, type Server} from 'node:net';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import type {RunEvent} from '../../src/core/provision/events.js';
import {ganttSvg, tickLabel, tickStep} from '../../src/core/report/gantt-svg.js';
import {markdownToHtml} from '../../src/core/report/html.js';
import {mdCode} from '../../src/core/report/markdown.js';
import {runCli} from '../helpers/cli.js';
import {census, plotLeft, render, rowBand, savePng} from '../helpers/svg-picture.js';
import {kindBinary, needsWorld, WORLD_IMAGES} from '../helpers/world.js';
import {root} from '../scenarios/lib.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');
let state: string;
let env: Record<string, string>;
beforeAll(() => {
	state = mkdtempSync(join(tmpdir(), 'kdoctor-report-'));
	const kind = kindBinary();
	env = {KDOCTOR_STATE_DIR: state, PATH: `${kind ? join(kind, '..') : ''}:${process.env.PATH}`};
});
afterAll(() => rmSync(state, {recursive: true, force: true}));

const runStart = (stdout: string) => {
	const ev = stdout
		.split('\n')
		.filter(Boolean)
		.map((l) => JSON.parse(l) as RunEvent);
	return ev.find((e) => e.type === 'run-start') as Extract<RunEvent, {type: 'run-start'}>;
};

/** The Markdown's section from a heading to the next of the same level. */
function section(md: string, heading: string): string {
	const at = md.indexOf(`\n## ${heading}\n`);
	if (at < 0) throw new Error(`no section ${heading}`);
	const next = md.indexOf('\n## ', at + 4);
	return md.slice(at, next < 0 ? undefined : next);
}

needsWorld(['podman', 'kind']).describe('the report of a real pre-flight failure (a host port held) → host-port-conflict', () => {
	let server: Server;
	let port: number;
	let runDir: string;
	beforeAll(async () => {
		server = createServer();
		await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
		port = (server.address() as {port: number}).port;
		// The demo profile with one of its host ports moved to the one this test holds (the real 23xxx ones may be in use).
		const profiles = readFileSync(join(root, 'profiles.yaml'), 'utf8');
		const demo = profiles.slice(profiles.indexOf('  demo:'), profiles.indexOf('  kubernaut-gateway:'));
		writeFileSync(
			join(state, 'kdoctor.yaml'),
			`profiles:\n${demo.replace('    source: .', `    source: ${root}`).replace('hostPort: 23180', `hostPort: ${port}`).replaceAll('manifests/demo/', `${root}/manifests/demo/`)}`,
		);
		const r = await runCli(['--config', join(state, 'kdoctor.yaml'), 'up', '--profile', 'demo', '--json'], {env, cwd: state});
		expect(r.code, r.stderr).toBe(1);
		runDir = runStart(r.stdout).runDir;
	}, 120_000);
	afterAll(() => server?.close());

	it('renders the newest run with its result, timeline, finding and evidence, environment and resume command; no manifest secret', async () => {
		const r = await runCli(['report'], {env});
		expect(r.stderr).toBe('');
		expect(r.code).toBe(0);
		const md = r.stdout;
		expect(md.split('\n')[0]).toMatch(/^# kdoctor up demo: run `\d{8}-\d{6}-[0-9a-f]{4}` failed at preflight$/);
		expect(md).toContain(`host port ${port} already in use`);
		expect(md).toContain('```sh\nkdoctor up --profile demo\n```');
		const timeline = section(md, 'Timeline');
		expect(timeline).toMatch(
			/^\| 1 \| `preflight` \| Pre-flight checks \| \*\*✗ failed\*\* \| \+(\d+ ms|\d+\.\ds) \| (\d+ ms|\d+\.\ds) \|/m,
		);
		expect(timeline).toMatch(
			/^\| \d+ \| `deploy:datastorage` \| DataStorage \| ⊘ cancelled \| {2}\| {2}\| {2}\| not started: an earlier step failed \|$/m,
		);
		const findings = section(md, 'Findings');
		expect(findings).toMatch(
			/^### `host-port-conflict` A host port the run needs is already held by another process or container \(\d+%\)$/m,
		);
		expect(findings).toContain('Failed step: `preflight`');
		expect(findings).toContain(
			`- output of preflight, line 1: \`listen tcp4 :${port}: bind: address already in use (held by pid ${process.pid}`,
		);
		expect(findings).toContain('- host: `port.inUse = 1`');
		const envSection = section(md, 'Environment');
		expect(envSection).toMatch(/^\| engine \| podman \d/m);
		expect(envSection).toMatch(/^\| architecture \| (amd64|arm64) \|$/m);
		expect(envSection).toMatch(/^\| CPUs \| \d+ \|$/m);
		expect(envSection).toMatch(/^\| budget \| \d+ MiB \(.+\) \|$/m);
		expect(envSection).toMatch(/^\| kdoctor \| \d+\.\d+\.\d+ \(made the run\); report by \d+\.\d+\.\d+ \|$/m);
		expect(envSection).toMatch(/^\| gateway \| `localhost\/kdoctor-demo\/gateway:kd-[0-9a-f]{12}` \|$/m);
		expect(section(md, 'Evidence bundle')).toContain('None: the run failed before there was a cluster to collect from.');
		// The demo's manifests hold the PostgreSQL password: the report found them from run.json and knows it, though it never appears.
		expect(md).toContain("the Secrets and secret-named values of the profile's 4 manifest files");
		expect(md).not.toContain('test_password');
	});

	it('takes the run by id and by folder alike', async () => {
		const id = runDir.split('/').at(-1)!;
		const [byId, byDir] = await Promise.all([runCli(['report', id], {env}), runCli(['report', runDir], {env})]);
		expect(byId.code).toBe(0);
		expect(byId.stdout).toBe(byDir.stdout);
	});
});

needsWorld(['podman', WORLD_IMAGES.ubiMinimal]).describe('the report of a real failed build that printed secrets', () => {
	let dir: string;
	let runDir: string;
	let report: string;
	const manifestSecret = 'Xk3-manifest-only-9Qz';
	const envSecret = 'hunter2-build-secret';
	beforeAll(async () => {
		dir = join(state, 'builds');
		mkdirSync(join(dir, 'ctx'), {recursive: true});
		writeFileSync(join(dir, 'good.Dockerfile'), `FROM ${WORLD_IMAGES.ubiMinimal}\nRUN echo built\n`);
		// It prints a secret-named variable, and the manifest's Secret value with nothing naming it, then exits 137 as a
		// build the kernel killed does: kdoctor re-runs it alone twice (amber in the chart), then gives up.
		writeFileSync(
			join(dir, 'bad.Dockerfile'),
			`FROM ${WORLD_IMAGES.ubiMinimal}\nRUN echo "DB_PASSWORD=${envSecret}" && echo "connecting with ${manifestSecret} as app_user"; exit 137\n`,
		);
		writeFileSync(
			join(dir, 'secret.yaml'),
			`apiVersion: v1\nkind: Secret\nmetadata: {name: app}\ndata:\n  token: ${b64(manifestSecret)}\n  user: ${b64('app_user')}\n`,
		);
		writeFileSync(
			join(dir, 'kdoctor.yaml'),
			`profiles:\n  builds:\n    source: .\n    namespace: builds\n    images:\n      - {name: good, repository: kdoctor-reporttest/good, dockerfile: good.Dockerfile, context: ctx}\n      - {name: bad, repository: kdoctor-reporttest/bad, dockerfile: bad.Dockerfile, context: ctx}\n    cluster: {name: builds}\n    deploy:\n      - {id: all, files: [secret.yaml]}\n`,
		);
		// --rebuild: the good image really builds every time, so its row is a done bar, not a cache hit.
		const r = await runCli(['up', '--profile', 'builds', '--images-only', '--rebuild', '--json'], {env, cwd: dir});
		expect(r.code, r.stderr).toBe(1);
		runDir = runStart(r.stdout).runDir;
		// The one-key fix from this run's own step log: the same command again, one build at a time. It fails the same way.
		const fix = await runCli(['fix', 'build-oom-killed', '--from', join(runDir, 'steps', 'build-bad.log'), '--key', 'o', '--yes'], {
			env,
			cwd: dir,
		});
		expect(fix.stdout).toContain('ran it; it failed (exit 1)');
		const rep = await runCli(['report', runDir], {env});
		expect(rep.code, rep.stderr).toBe(0);
		report = rep.stdout;
	}, 300_000);
	afterAll(() => {
		spawnSync('sh', [
			'-c',
			'podman images --format "{{.Repository}}:{{.Tag}}" | grep "^localhost/kdoctor-reporttest/" | xargs -r podman rmi -f',
		]);
	});

	it('shows the done and the failed build with durations, the failed output, and no secret from the run', () => {
		expect(report).toContain('failed at build:bad');
		const timeline = section(report, 'Timeline');
		// Real builds: on a loaded machine a start or a duration may be under or over a second (ms or s).
		expect(timeline).toMatch(
			/^\| \d \| `build:good` \| Build good \(localhost\/kdoctor-reporttest\/good:kd-[0-9a-f]{12}\) \| ✓ done \| \+(\d+ ms|\d+\.\ds) \| (\d+ ms|\d+\.\ds) \| (\d+ MiB)? \|/m,
		);
		expect(timeline).toMatch(
			/^\| \d \| `build:bad` \| .* \| \*\*✗ failed \(3 attempts\)\*\* \| \+(\d+ ms|\d+\.\ds) \| (\d+ ms|\d+\.\ds) \|/m,
		);
		expect(timeline).toMatch(/^- `build:bad` attempt 2 at \+(\d+ ms|\d+\.\ds): killed for lack of memory \(1500 MiB assumed\)$/m);
		expect(section(report, 'Findings')).toMatch(/^### `build-oom-killed` An image build was killed for lack of memory \(\d+%\)$/m);
		expect(report).toMatch(/### Output of `build:bad` \(all \d+ lines of `steps\/build-bad.log`\)/);
		expect(report).toContain('connecting with ‹redacted› as app_user');
		expect(report).toContain('DB_PASSWORD=‹redacted›');
		for (const s of [envSecret, manifestSecret, b64(envSecret), b64(manifestSecret)]) expect(report).not.toContain(s);
		expect(report).toMatch(/\n\d+ values were redacted \(shown as ‹redacted›\)\./);
	});

	it("lists the fix made from this run's step log, and that it did not work", () => {
		const fixes = section(report, 'Fixes applied');
		expect(fixes).toMatch(
			/^\| .* UTC \| `build-oom-killed` \| `\[o\]` Build the images one at a time \| a command \| ✗ did not verify: it failed \(exit 1\): .* \| no \|$/m,
		);
		for (const s of [envSecret, manifestSecret]) expect(fixes).not.toContain(s);
	});

	it('-o writes the Markdown and the chart beside it atomically, linked; the chart is a picture with a red failed row and green done rows', async () => {
		const out = join(state, 'handoff');
		mkdirSync(out, {recursive: true});
		const r = await runCli(['report', runDir, '-o', join(out, 'report.md')], {env});
		expect(r.code, r.stderr).toBe(0);
		expect(r.stdout).toMatch(/^wrote .*report\.md and .*report-gantt\.svg \(\d+ values redacted\)\n$/);
		expect(readdirSync(out).sort()).toEqual(['report-gantt.svg', 'report.md']);
		const md = readFileSync(join(out, 'report.md'), 'utf8');
		expect(md).toContain("![Gantt chart of the run's steps](report-gantt.svg)");
		const svg = readFileSync(join(out, 'report-gantt.svg'), 'utf8');
		expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="960" height="\d+"/);
		for (const s of [envSecret, manifestSecret]) expect(svg).not.toContain(s);

		const pic = render(svg, 800);
		savePng(pic, join(tmpdir(), 'kdoctor-report-builds-gantt.png'));
		expect(pic.width).toBe(800);
		expect(pic.height).toBeGreaterThan(100);
		expect(pic.height).toBeLessThan(400);
		const left = plotLeft(svg, pic);
		const bad = census(pic, rowBand(svg, pic, 'build:bad'), left);
		const good = census(pic, rowBand(svg, pic, 'build:good'), left);
		expect(bad.red).toBeGreaterThan(300);
		expect(bad.amber).toBeGreaterThan(300);
		expect(bad.green).toBe(0);
		expect(good.green).toBeGreaterThan(300);
		expect(good.red).toBe(0);
		expect(good.amber).toBe(0);
	});

	it('--html writes one self-contained file with the chart inline and nothing secret', async () => {
		const path = join(state, 'report.html');
		const r = await runCli(['report', runDir, '--html', '-o', path], {env});
		expect(r.code, r.stderr).toBe(0);
		const html = readFileSync(path, 'utf8');
		expect(html).toMatch(/^<!doctype html>/);
		expect(html).toContain('<figure><svg xmlns="http://www.w3.org/2000/svg"');
		expect(html).toContain('<h2>Timeline</h2>');
		expect(html).toContain('<td><code>build:bad</code></td>');
		expect(html).not.toMatch(/(src|href)="https?:/);
		expect(html).not.toContain('<script');
		for (const s of [envSecret, manifestSecret]) expect(html).not.toContain(s);
		expect(readdirSync(state).filter((f) => f.endsWith('.tmp'))).toEqual([]);
	});

	it('a run folder copied to another machine still reports; what it could not look for there is said', async () => {
		const copy = join(state, 'elsewhere', 'run-copy');
		cpSync(runDir, copy, {recursive: true});
		const runJson = JSON.parse(readFileSync(join(copy, 'run.json'), 'utf8')) as {cwd: string; invocation: string[]};
		writeFileSync(
			join(copy, 'run.json'),
			JSON.stringify({...runJson, cwd: '/nonexistent/checkout', invocation: ['up', '--profile', 'builds']}),
		);
		const r = await runCli(['report', copy], {env});
		expect(r.code, r.stderr).toBe(0);
		expect(r.stdout).toContain('failed at build:bad');
		expect(section(r.stdout, 'Notes')).toContain('The manifests of profile builds were not found here');
		// Named secrets are still found by their names.
		expect(r.stdout).not.toContain(envSecret);
		// The fix is still this run's: its evidence path names the run.
		expect(section(r.stdout, 'Fixes applied')).toContain('`build-oom-killed`');
	});
});

describe('a run with an out-of-memory re-run, in the formats kdoctor up writes', () => {
	let dir: string;
	const t0 = Date.parse('2026-03-12T09:45:01.000Z');
	beforeAll(() => {
		dir = join(state ?? mkdtempSync(join(tmpdir(), 'kdoctor-report-')), 'runs', '20260312-094501-3fa2');
		mkdirSync(join(dir, 'steps'), {recursive: true});
		const planned = (id: string, title: string, kind: string, deps: string[]) => ({
			id,
			title,
			kind,
			deps,
			memoryMiB: kind === 'build' ? 1024 : 0,
			memorySource: 'profile',
			residentMiB: 0,
			estimateMs: 60_000,
		});
		const steps = [
			planned('preflight', 'Pre-flight checks', 'check', []),
			planned('build:gateway', 'Build gateway', 'build', ['preflight']),
			planned('build:datastorage', 'Build datastorage', 'build', ['preflight']),
			planned('cluster', 'Create cluster kdoctor-demo', 'cluster', ['preflight']),
			planned('deploy:gateway', 'Gateway <main>', 'deploy', ['cluster']),
		];
		const oom = {
			id: 'build-oom-killed',
			title: 'A container build was killed for lack of memory',
			layer: 'build',
			confidence: 0.9,
			summary: 'The kernel killed the compiler.',
			evidence: [
				{
					line: 41,
					text: 'go build: signal: killed | exit status 137',
					signal: 'killed',
					means: 'killed',
					role: 'signature',
					source: 'text',
				},
			],
			lines: [41],
			why: [],
			remediations: [{key: 'o', title: 'Re-run with one build at a time', kind: 'command'}],
			captures: {},
		};
		const events: RunEvent[] = [
			{
				type: 'run-start',
				at: t0,
				runId: '20260312-094501-3fa2',
				runDir: '/home/dev/.local/state/kdoctor/runs/20260312-094501-3fa2',
				profile: 'demo',
				provider: 'kind',
				engine: 'podman 5.4.0',
				budgetMiB: 3000,
				budgetSource: 'podman machine inspect',
				steps: steps as never,
			},
			{type: 'step-start', at: t0 + 100, id: 'preflight', attempt: 1},
			{type: 'step-end', at: t0 + 400, id: 'preflight', state: 'done', durationMs: 300},
			{type: 'step-start', at: t0 + 500, id: 'build:gateway', attempt: 1},
			{type: 'step-start', at: t0 + 500, id: 'build:datastorage', attempt: 1},
			{
				type: 'step-end',
				at: t0 + 2500,
				id: 'build:datastorage',
				state: 'skipped',
				durationMs: 2000,
				note: 'cached: localhost/kdoctor-demo/datastorage:kd-1 already built from the same inputs',
			},
			{
				type: 'step-retry',
				at: t0 + 40_000,
				id: 'build:gateway',
				attempt: 2,
				reason: 'killed for lack of memory (OOM), re-running alone with 1800 MiB',
				memoryMiB: 1800,
				finding: oom as never,
			},
			{type: 'step-start', at: t0 + 40_100, id: 'build:gateway', attempt: 2},
			{type: 'step-end', at: t0 + 95_000, id: 'build:gateway', state: 'done', durationMs: 54_900, peakMiB: 1650},
			{type: 'step-start', at: t0 + 95_100, id: 'cluster', attempt: 1},
			{
				type: 'step-end',
				at: t0 + 120_000,
				id: 'cluster',
				state: 'done',
				durationMs: 24_900,
				note: 'kubeconfig /home/dev/.local/state/kdoctor/clusters/kdoctor-demo/kubeconfig',
			},
			{type: 'step-start', at: t0 + 120_100, id: 'deploy:gateway', attempt: 1},
			{
				type: 'step-end',
				at: t0 + 150_000,
				id: 'deploy:gateway',
				state: 'failed',
				durationMs: 29_900,
				note: 'CrashLoopBackOff <b>gateway</b> | token=abcd1234efgh',
			},
			{
				type: 'run-end',
				at: t0 + 151_000,
				ok: false,
				durationMs: 151_000,
				runDir: '/home/dev/.local/state/kdoctor/runs/20260312-094501-3fa2',
				message: 'deploy:gateway failed',
				resume: 'kdoctor up --profile demo --reuse',
			},
		];
		writeFileSync(join(dir, 'events.jsonl'), `${events.map((e) => JSON.stringify(e)).join('\n')}\n{"type":"step-st`);
		writeFileSync(join(dir, 'steps', 'deploy-gateway.log'), Array.from({length: 50}, (_, i) => `line ${i + 1}`).join('\n') + '\n');
		const engine = {
			engine: 'podman',
			version: '5.4.0',
			arch: 'arm64',
			os: 'linux',
			cpus: 4,
			memTotalMiB: 4096,
			budgetMiB: 3000,
			budgetSource: 'podman machine inspect',
			rootless: true,
			measuresPeak: false,
			machine: {name: 'podman-machine-default', cpus: 4, memoryMiB: 4096, diskGiB: 100, rootful: false, state: 'running'},
		};
		writeFileSync(
			join(dir, 'run.json'),
			JSON.stringify({
				runId: '20260312-094501-3fa2',
				profile: 'demo',
				kdoctor: '0.1.0',
				invocation: ['up', '--build-arg', 'NPM_TOKEN=npm_secret_42'],
				cwd: '/home/dev/kdoctor',
				provider: 'kind',
				cluster: 'kdoctor-demo',
				kubeconfig: '/home/dev/.local/state/kdoctor/clusters/kdoctor-demo/kubeconfig',
				namespace: 'kdoctor-demo',
				engine,
				budgetMiB: 3000,
				coverage: false,
				images: {gateway: 'localhost/kdoctor-demo/gateway:kd-0'},
				steps: [
					{id: 'preflight', state: 'done', attempts: 1, start: t0 + 100, end: t0 + 400},
					{id: 'build:gateway', state: 'done', attempts: 2, start: t0 + 40_100, end: t0 + 95_000, peakMiB: 1650},
					{
						id: 'build:datastorage',
						state: 'skipped',
						attempts: 1,
						note: 'cached: localhost/kdoctor-demo/datastorage:kd-1 already built from the same inputs',
					},
					{id: 'cluster', state: 'done', attempts: 1},
					{id: 'deploy:gateway', state: 'failed', attempts: 1, note: 'CrashLoopBackOff <b>gateway</b> | token=abcd1234efgh'},
				],
				ok: false,
				cancelled: false,
				failedStep: 'deploy:gateway',
				findings: [],
				startedAt: new Date(t0).toISOString(),
				durationMs: 151_000,
			}),
		);
		mkdirSync(join(dir, 'bundle', 'logs'), {recursive: true});
		writeFileSync(join(dir, 'bundle', 'logs', 'gateway-abc.gateway.log'), 'starting with API_TOKEN=tok-live-777\n');
		writeFileSync(join(dir, 'bundle', 'README.txt'), 'Evidence collected by kdoctor.\n');
	});

	it('shows the re-run in the timeline and its finding as recovered, the podman machine, the bundle files and sizes; escapes what the run printed', async () => {
		const r = await runCli(['report', dir], {env: {KDOCTOR_STATE_DIR: join(dir, '..', '..')}});
		expect(r.code, r.stderr).toBe(0);
		const md = r.stdout;
		expect(md).toContain('| 2 | `build:gateway` | Build gateway | ✓ done (2 attempts) | +500 ms | 54s | 1650 MiB |');
		expect(md).toContain(
			'| 3 | `build:datastorage` | Build datastorage | ✓ cached | +500 ms | 2.0s |  | cached: localhost/kdoctor-demo/datastorage:kd-1 already built from the same inputs |',
		);
		expect(md).toContain('- `build:gateway` attempt 2 at +40s: killed for lack of memory (OOM), re-running alone with 1800 MiB');
		expect(md).toContain('Seen in step `build:gateway`, which was re-run and recovered');
		expect(md).toContain('- output of build:gateway, line 41: `go build: signal: killed | exit status 137`');
		// Markup in what the run printed is text, and a pipe does not break the table; the token is gone.
		expect(md).toContain('CrashLoopBackOff \\<b\\>gateway\\</b\\> \\| token=‹redacted›');
		expect(md).toContain('| Gateway \\<main\\> |');
		expect(md).toContain('| podman machine | podman-machine-default: 4 CPUs, 4096 MiB, 100 GiB disk, rootless, running |');
		expect(md).toContain('| command | kdoctor up --build-arg NPM_TOKEN=‹redacted› |');
		expect(md).toContain('### Output of `deploy:gateway` (last 30 of 50 lines of `steps/deploy-gateway.log`)');
		expect(md).toContain('| `logs/gateway-abc.gateway.log` | 37 B |');
		expect(md).toContain('events.jsonl: 1 line could not be read and was left out');
		expect(md).not.toContain('abcd1234efgh');
		expect(md).not.toContain('npm_secret_42');
	});

	it('draws the re-run as a second segment (amber, then green) and the cache hit light', async () => {
		const out = join(state, 'oom');
		mkdirSync(out, {recursive: true});
		const r = await runCli(['report', dir, '-o', join(out, 'oom.md')], {env: {KDOCTOR_STATE_DIR: join(dir, '..', '..')}});
		expect(r.code, r.stderr).toBe(0);
		const svg = readFileSync(join(out, 'oom-gantt.svg'), 'utf8');
		const pic = render(svg, 960);
		savePng(pic, join(tmpdir(), 'kdoctor-report-oom-gantt.png'));
		const left = plotLeft(svg, pic);
		const gw = census(pic, rowBand(svg, pic, 'build:gateway'), left);
		expect(gw.amber).toBeGreaterThan(500);
		expect(gw.green).toBeGreaterThan(500);
		expect(census(pic, rowBand(svg, pic, 'build:datastorage'), left)['light-green']).toBeGreaterThan(20);
		expect(census(pic, rowBand(svg, pic, 'deploy:gateway'), left).red).toBeGreaterThan(500);
	});

	it('a step that took milliseconds is still a visible sliver, and most of its row is background (fixed steps, not a timed run)', () => {
		const span = (startMs: number, endMs: number, state: 'done' | 'failed', retried = false, attempt = 1) => ({
			startMs,
			endMs,
			state,
			attempt,
			retried,
		});
		const svg = ganttSvg(
			{
				title: 'kdoctor up builds · run r · failed at build:bad · 3.1s',
				spanMs: 3100,
				steps: [
					{id: 'preflight', state: 'done', cached: false, failed: false, durationMs: 6, spans: [span(40, 46, 'done')]},
					{id: 'build:good', state: 'done', cached: false, failed: false, durationMs: 2400, spans: [span(50, 2450, 'done')]},
					{
						id: 'build:bad',
						state: 'failed',
						cached: false,
						failed: true,
						durationMs: 3000,
						spans: [span(50, 1000, 'failed', true), span(1010, 3050, 'failed', false, 2)],
					},
				],
			},
			(ms) => `${ms} ms`,
		);
		const pic = render(svg, 800);
		const pre = census(pic, rowBand(svg, pic, 'preflight'), plotLeft(svg, pic));
		expect(pre.green).toBeGreaterThan(5);
		expect(pre.white).toBeGreaterThan(pre.green * 20);
	});
});

describe('errors are one line and exit 2', () => {
	it.each([
		['a run id that does not exist', () => ['report', '20990101-000000-dead'], /^kdoctor: no run 20990101-000000-dead in .*\/runs/],
		['a path that does not exist', () => ['report', '/nonexistent/run'], /^kdoctor: \/nonexistent\/run: no such file or folder/],
		[
			'a folder without run.json',
			() => ['report', mkdtempSync(join(tmpdir(), 'kdoctor-norun-'))],
			/: no run\.json here: not a run folder kdoctor up wrote/,
		],
		[
			'binary junk for run.json',
			() => junk(Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2, 3, 0xff, 0xfe])),
			/run\.json: binary data, not a run\.json kdoctor up wrote/,
		],
		['damaged JSON', () => junk('{"runId": "x", "steps": ['), /run\.json: damaged JSON \(.+\)/],
		['JSON that is not a run', () => junk('{"hello": 1}'), /run\.json: not a run\.json kdoctor up wrote \(no runId\)/],
		['no run yet', () => ['report'], /^kdoctor: no run yet: .*runs\/latest does not exist/],
	])('%s', async (_what, args, message) => {
		const r = await runCli(args(), {env: {KDOCTOR_STATE_DIR: mkdtempSync(join(tmpdir(), 'kdoctor-empty-'))}});
		expect(r.code).toBe(2);
		expect(r.stdout).toBe('');
		expect(r.stderr).toMatch(message);
		expect(r.stderr.trim().split('\n')).toHaveLength(1);
	});

	it('-o into a folder that does not exist', async () => {
		const d = junkDir('{}');
		writeFileSync(
			join(d, 'run.json'),
			JSON.stringify({runId: 'r', profile: 'p', steps: [], ok: true, startedAt: new Date().toISOString(), durationMs: 5}),
		);
		const r = await runCli(['report', d, '-o', '/nonexistent/folder/report.md']);
		expect(r.code).toBe(2);
		expect(r.stderr).toMatch(/^kdoctor: cannot write \/nonexistent\/folder\/.*: no such file or folder/);
		expect(existsSync('/nonexistent/folder')).toBe(false);
	});
});

function junkDir(content: string | Buffer): string {
	const d = mkdtempSync(join(tmpdir(), 'kdoctor-junk-'));
	writeFileSync(join(d, 'run.json'), content);
	return d;
}

function junk(content: string | Buffer): string[] {
	return ['report', junkDir(content)];
}

describe('the pure parts', () => {
	it('ticks: at most eight intervals, labelled in seconds as precise as the step', () => {
		expect(tickStep(69)).toBe(10);
		expect(tickStep(2545)).toBe(500);
		expect(tickStep(151_000)).toBe(30_000);
		expect([0, 500, 1000, 1500].map((t) => tickLabel(t, 500))).toEqual(['0s', '0.5s', '1s', '1.5s']);
		expect([0, 30_000, 150_000].map((t) => tickLabel(t, 30_000))).toEqual(['0s', '30s', '2m30s']);
	});

	it('escapes step ids and titles for XML', () => {
		const svg = ganttSvg(
			{
				title: 'a <b> & "c"',
				spanMs: 1000,
				steps: [
					{
						id: 'x<y>&',
						state: 'done',
						cached: false,
						failed: false,
						durationMs: 10,
						spans: [{startMs: 0, endMs: 10, state: 'done', attempt: 1, retried: false}],
					},
				],
			},
			(ms) => `${ms} ms`,
		);
		expect(svg).toContain('a &lt;b&gt; &amp; &quot;c&quot;');
		expect(svg).toContain('x&lt;y&gt;&amp;');
		expect(svg).not.toMatch(/<b>|x<y>/);
	});

	it('code spans hold backticks and pipes; the HTML converter reads them back exactly', () => {
		expect(mdCode('a `b` c')).toBe('``a `b` c``');
		expect(mdCode('`x`')).toBe('`` `x` ``');
		const html = markdownToHtml(
			`| x | y |\n|---|---|\n| ${mdCode('p | q', true)} | a \\<i\\> b |\n\n- ${mdCode('`x`')} and **bold**\n\n\`\`\`text\n<script>alert(1)</script>\n\`\`\``,
		);
		expect(html).toContain('<td><code>p | q</code></td><td>a &lt;i&gt; b</td>');
		expect(html).toContain('<li><code>`x`</code> and <strong>bold</strong></li>');
		expect(html).toContain('<pre><code class="language-text">&lt;script&gt;alert(1)&lt;/script&gt;</code></pre>');
	});
});
