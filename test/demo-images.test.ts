import {spawnSync} from 'node:child_process';
import {chmodSync, mkdtempSync, readdirSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {afterAll, beforeAll, expect, it} from 'vitest';
import {runCli} from './helpers/cli.js';
import {needsWorld, rand, removeImages, sh, which} from './helpers/world.js';
import {freePort, until} from './helpers/net.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const WORLD = {
	goToolset: 'localhost/kdoctor-world/go-toolset:1',
	ubiMinimal: 'localhost/kdoctor-world/ubi-minimal:1',
	postgres: 'localhost/kdoctor-world/postgres:1',
	redis: 'localhost/kdoctor-world/redis:1',
};
const id = rand();
const GATEWAY = `localhost/kdoctor-demo-test/gateway:${id}`;
// DataStorage is built with GOFLAGS=-cover (the coverage path), the Gateway without (the -s -w path): both Dockerfile branches run.
const DATASTORAGE = `localhost/kdoctor-demo-test/datastorage:${id}`;
const POD = `kdoctor-demo-test-${id}`;
const world = needsWorld(['podman', 'go', ...Object.values(WORLD)]);
const goWorld = needsWorld('go');

const dir = mkdtempSync(join(tmpdir(), 'kdoctor-demo-'));
const coverdata = join(dir, 'coverdata');
const ports = {gwApi: 0, gwHealth: 0, dsApi: 0, dsHealth: 0};
const containers: string[] = [];

afterAll(() => {
	if (containers.length) spawnSync('podman', ['rm', '-f', '-t', '0', ...containers], {stdio: 'ignore', timeout: 120_000});
	spawnSync('podman', ['pod', 'rm', '-f', POD], {stdio: 'ignore', timeout: 120_000});
	removeImages([GATEWAY, DATASTORAGE]);
	rmSync(dir, {recursive: true, force: true});
});

/** GET or POST on a published port; status 0 when nothing answers. */
async function http(port: number, path: string, body?: string): Promise<{status: number; text: string}> {
	try {
		const r = await fetch(`http://127.0.0.1:${port}${path}`, {
			method: body ? 'POST' : 'GET',
			body,
			headers: body ? {'content-type': 'application/json'} : {},
			signal: AbortSignal.timeout(5000),
		});
		return {status: r.status, text: await r.text()};
	} catch (e) {
		return {status: 0, text: String(e)};
	}
}

/** Runs a container to completion in the demo pod; returns its exit code and combined log. */
function runOnce(
	image: string,
	args: string[],
	env: Record<string, string> = {},
	mounts: string[] = [],
): {code: number | null; log: string} {
	const argv = [
		'run',
		'--rm',
		'--pod',
		POD,
		...Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]),
		...mounts.flatMap((m) => ['-v', m]),
		image,
		...args,
	];
	const r = spawnSync('podman', argv, {encoding: 'utf8', timeout: 180_000});
	return {code: r.status, log: `${r.stdout}${r.stderr}`};
}

/** The finding ids kdoctor's KB gives a log, highest confidence first. */
async function diagnose(log: string): Promise<string[]> {
	const r = await runCli(['diagnose', '-', '--json'], {input: log});
	return (JSON.parse(r.stdout) as {findings: {id: string}[]}).findings.map((f) => f.id);
}

// The DataStorage config of the pod: PostgreSQL and Redis on localhost, its own ports (the Gateway has 8080/8081/9090).
const dsMounts = () => [
	`${join(dir, 'ds.json')}:/etc/datastorage/config.json:ro`,
	`${join(dir, 'db-secrets.yaml')}:/etc/datastorage/secrets/db-secrets.yaml:ro`,
];
const gwMounts = () => [`${join(dir, 'gw.json')}:/etc/gateway/config.json:ro`];

world.describe('the demo images, built from the local bases and run end-to-end in a podman pod', () => {
	beforeAll(async () => {
		for (const k of Object.keys(ports) as (keyof typeof ports)[]) ports[k] = await freePort();
		writeFileSync(
			join(dir, 'ds.json'),
			JSON.stringify({
				server: {host: '0.0.0.0', port: 18080, healthPort: 18081, metricsPort: 19090},
				database: {
					host: '127.0.0.1',
					port: 5432,
					name: 'action_history',
					user: 'slm_user',
					secretsFile: '/etc/datastorage/secrets/db-secrets.yaml',
				},
				redis: {addr: '127.0.0.1:6379'},
			}),
		);
		writeFileSync(
			join(dir, 'gw.json'),
			JSON.stringify({datastorage: {url: 'http://127.0.0.1:18080', healthUrl: 'http://127.0.0.1:18081/readyz', timeout: '5s'}}),
		);
		writeFileSync(join(dir, 'db-secrets.yaml'), 'username: slm_user\npassword: test_password\n');
		chmodSync(dir, 0o755);
	});

	it('builds both images with the UBI-style Dockerfiles (offline, uid 1001, native arch)', {timeout: 1_200_000}, () => {
		const bases = ['--build-arg', `BUILDER_IMAGE=${WORLD.goToolset}`, '--build-arg', `RUNTIME_IMAGE=${WORLD.ubiMinimal}`];
		sh(['podman', 'build', '-q', ...bases, '-t', GATEWAY, '-f', 'dockerfiles/gateway.Dockerfile', 'demo'], {cwd: ROOT, timeout: 900_000});
		sh(
			[
				'podman',
				'build',
				'-q',
				...bases,
				'--build-arg',
				'GOFLAGS=-cover',
				'-t',
				DATASTORAGE,
				'-f',
				'dockerfiles/datastorage.Dockerfile',
				'demo',
			],
			{cwd: ROOT, timeout: 900_000},
		);
		const user = sh(['podman', 'image', 'inspect', '--format', '{{.Config.User}} {{.Architecture}}', GATEWAY]).trim();
		const hostArch = sh(['podman', 'info', '--format', '{{.Host.Arch}}']).trim();
		expect(user).toBe(`1001 ${hostArch}`);
	});

	it('starts PostgreSQL and Redis in one pod', {timeout: 300_000}, async () => {
		sh([
			'podman',
			'pod',
			'create',
			'--name',
			POD,
			...[`${ports.gwApi}:8080`, `${ports.gwHealth}:8081`, `${ports.dsApi}:18080`, `${ports.dsHealth}:18081`].flatMap((p) => [
				'-p',
				`127.0.0.1:${p}`,
			]),
		]);
		containers.push(`${POD}-pg`, `${POD}-redis`);
		sh([
			'podman',
			'run',
			'-d',
			'--pod',
			POD,
			'--name',
			`${POD}-pg`,
			'-e',
			'POSTGRES_USER=slm_user',
			'-e',
			'POSTGRES_PASSWORD=test_password',
			'-e',
			'POSTGRES_DB=action_history',
			WORLD.postgres,
		]);
		sh(['podman', 'run', '-d', '--pod', POD, '--name', `${POD}-redis`, WORLD.redis]);
		const ready = await until(
			() => spawnSync('podman', ['exec', `${POD}-pg`, 'pg_isready', '-q', '-h', '127.0.0.1']).status === 0,
			120_000,
		);
		expect(ready).toBe(true);
	});

	it(
		'datastorage serve refuses to start on an unmigrated database, with a line the KB calls migration-failed',
		{timeout: 300_000},
		async () => {
			const r = runOnce(DATASTORAGE, ['serve'], {CONFIG_PATH: '/etc/datastorage/config.json'}, dsMounts());
			expect(r.code).toBe(1);
			expect(r.log).toContain('relation \\"audit_events\\" does not exist');
			expect((await diagnose(r.log))[0]).toBe('migration-failed');
		},
	);

	it('datastorage migrate applies the schema once, then reports nothing pending', {timeout: 300_000}, () => {
		const first = runOnce(DATASTORAGE, ['migrate'], {CONFIG_PATH: '/etc/datastorage/config.json'}, dsMounts());
		expect(first.code, first.log).toBe(0);
		expect(first.log).toMatch(/"msg":"Applied 001_audit_events\.sql"[\s\S]*"msg":"Applied 002_audit_events_indexes\.sql"/);
		const again = runOnce(DATASTORAGE, ['migrate'], {CONFIG_PATH: '/etc/datastorage/config.json'}, dsMounts());
		expect(again.code, again.log).toBe(0);
		expect(again.log).toContain('"msg":"All migrations already applied (no pending)"');
	});

	it('the Gateway is live at once but ready only once DataStorage is (the readiness gate fails closed)', {timeout: 300_000}, async () => {
		containers.push(`${POD}-gateway`);
		sh([
			'podman',
			'run',
			'-d',
			'--pod',
			POD,
			'--name',
			`${POD}-gateway`,
			'-e',
			'KUBERNAUT_CONTROLLER_NAMESPACE=kdoctor-demo',
			...gwMounts().flatMap((m) => ['-v', m]),
			GATEWAY,
			'--config=/etc/gateway/config.json',
		]);
		expect(await until(async () => (await http(ports.gwHealth, '/healthz')).status === 200, 60_000)).toBe(true);
		const closed = await http(ports.gwHealth, '/readyz');
		expect(closed.status).toBe(503);
		expect(closed.text).toContain('datastorage unreachable');

		containers.push(`${POD}-datastorage`);
		mkdirCoverdata();
		sh([
			'podman',
			'run',
			'-d',
			'--pod',
			POD,
			'--name',
			`${POD}-datastorage`,
			'-e',
			'CONFIG_PATH=/etc/datastorage/config.json',
			'-e',
			'GOCOVERDIR=/coverdata',
			...[...dsMounts(), `${coverdata}:/coverdata`].flatMap((m) => ['-v', m]),
			DATASTORAGE,
		]);
		expect(
			await until(async () => (await http(ports.dsHealth, '/readyz')).status === 200, 120_000),
			sh(['podman', 'logs', `${POD}-datastorage`]),
		).toBe(true);
		expect(await until(async () => (await http(ports.gwHealth, '/readyz')).status === 200, 60_000)).toBe(true);
		const log = spawnSync('podman', ['logs', `${POD}-gateway`], {encoding: 'utf8'});
		expect(`${log.stdout}${log.stderr}`).toMatch(
			/"msg":"DataStorage readiness gate closed: DataStorage unreachable"[\s\S]*"msg":"DataStorage readiness gate open"/,
		);
	});

	it('a Prometheus alert posted to the Gateway lands in PostgreSQL as an audit event', {timeout: 120_000}, async () => {
		const alert = {alerts: [{status: 'firing', labels: {alertname: 'KubePodCrashLooping', namespace: 'prod'}, fingerprint: `fp-${id}`}]};
		const r = await http(ports.gwApi, '/api/v1/signals/prometheus', JSON.stringify(alert));
		expect(r.status, r.text).toBe(201);
		const row = sh([
			'podman',
			'exec',
			'-e',
			'PGPASSWORD=test_password',
			`${POD}-pg`,
			'psql',
			'-h',
			'127.0.0.1',
			'-U',
			'slm_user',
			'-d',
			'action_history',
			'-tAc',
			`SELECT event_type, namespace, payload->'labels'->>'alertname' FROM audit_events WHERE correlation_id = 'fp-${id}'`,
		]);
		expect(row.trim()).toBe('gateway.signal.received|prod|KubePodCrashLooping');
		expect(JSON.parse((await http(ports.dsApi, '/api/v1/audit/count')).text)).toEqual({count: 1});
	});

	it('SIGTERM shuts DataStorage down cleanly and flushes coverage that go tool covdata reads', {timeout: 120_000}, () => {
		sh(['podman', 'stop', '-t', '20', `${POD}-datastorage`]);
		expect(sh(['podman', 'inspect', '--format', '{{.State.ExitCode}}', `${POD}-datastorage`]).trim()).toBe('0');
		const files = readdirSync(coverdata);
		expect(files.some((f) => f.startsWith('covmeta.'))).toBe(true);
		expect(files.some((f) => f.startsWith('covcounters.'))).toBe(true);
		const pct = sh([which('go')!, 'tool', 'covdata', 'percent', '-i', coverdata]);
		expect(pct).toMatch(/kdoctor\.dev\/demo\/internal\/datastorage\s+coverage: [1-9]\d*\.\d% of statements/);
	});

	it(
		"kdoctor up's coverage step turns that data into text and HTML reports (real go tool covdata; the API server is a stand-in)",
		{timeout: 120_000},
		async () => {
			const {createFlow} = await import('../src/core/provision/flow.js');
			const {createExec} = await import('../src/adapters/exec.js');
			const {ProfileSchema} = await import('../src/core/provision/profile.js');
			const profile = ProfileSchema.parse({
				namespace: 'kdoctor-demo',
				images: [{name: 'datastorage', repository: 'd', dockerfile: 'dockerfiles/datastorage.Dockerfile', context: 'demo'}],
				cluster: {name: 'c'},
				deploy: [{id: 'ds', files: ['x'], coverage: ['datastorage']}],
			});
			const scaled: string[] = [];
			// Stand-in for the API server (the real one is the test-cluster issue's): the Deployment scales to zero and its pods are gone.
			const kube = {scale: async (_ns: string, name: string, n: number) => void scaled.push(`${name}=${n}`), pods: async () => []} as never;
			const runDir = join(dir, 'run');
			const flow = createFlow(
				{
					kube: async () => kube,
					exec: createExec(),
					sleep: async () => {},
					now: Date.now,
					listFiles: (d: string) => readdirSync(d),
					mkdirp: (p: string) => sh(['mkdir', '-p', p]),
					remove: () => {},
				} as never,
				{
					plan: {
						images: new Map([['datastorage', {spec: profile.images[0]!}]]),
						deploys: new Map([['ds', {...profile.deploy[0]!, images: []}]]),
					} as never,
					profile,
					cluster: {} as never,
					sourceDir: ROOT,
					runDir,
					coverdataDir: coverdata,
					join,
					resolvePath: (p: string) => join(ROOT, p),
				} as never,
			);
			const lines: string[] = [];
			const out = await flow(
				{id: 'coverage', title: 'c', kind: 'coverage', deps: [], memoryMiB: 0, memorySource: 'default', residentMiB: 0, estimateMs: 0},
				{signal: new AbortController().signal, attempt: 1, memoryMiB: 0, line: (l) => lines.push(l), note: () => {}},
			);
			expect(scaled).toEqual(['datastorage=0']);
			expect(out.note).toMatch(/^\d+\.\d% of statements; reports in .*\/coverage$/);
			expect(lines.join('\n')).toMatch(/kdoctor\.dev\/demo\/internal\/datastorage\s+coverage: [1-9]\d*\.\d% of statements/);
			expect(readdirSync(join(runDir, 'coverage')).sort()).toEqual(['coverage.html', 'coverage.out']);
		},
	);

	it("a wrong PostgreSQL password exits 1 with the server's own error, which the KB calls db-auth-failed", {timeout: 120_000}, async () => {
		const r = runOnce(
			DATASTORAGE,
			['serve'],
			{CONFIG_PATH: '/etc/datastorage/config.json', POSTGRES_PASSWORD: 'not_the_password'},
			dsMounts(),
		);
		expect(r.code).toBe(1);
		expect(r.log).toContain('FATAL: password authentication failed for user \\"slm_user\\" (SQLSTATE 28P01)');
		expect((await diagnose(r.log))[0]).toBe('db-auth-failed');
	});

	it('missing configuration fails at start-up with lines the KB calls crashloop-config-error', {timeout: 120_000}, async () => {
		const noNamespace = runOnce(GATEWAY, ['--config=/etc/gateway/config.json'], {}, gwMounts());
		const noConfig = runOnce(GATEWAY, ['--config=/etc/gateway/config.json']);
		const noConfigPath = runOnce(DATASTORAGE, ['serve']);
		expect(noNamespace.log).toContain('"msg":"KUBERNAUT_CONTROLLER_NAMESPACE environment variable is required"');
		expect(noConfig.log).toContain('"msg":"Failed to load configuration"');
		expect(noConfigPath.log).toContain('"msg":"CONFIG_PATH environment variable required (ADR-030)"');
		for (const r of [noNamespace, noConfig, noConfigPath]) {
			expect(r.code).toBe(1);
			// The -cover DataStorage also prints Go's "GOCOVERDIR not set" warning, so the zap line need not be first.
			expect(r.log).toMatch(/^\{"level":"fatal","ts":\d+\.\d+,"logger":"(gateway|datastorage)","caller":"\w+\/main\.go:\d+","msg":/m);
			expect((await diagnose(r.log))[0], r.log).toBe('crashloop-config-error');
		}
	});
});

function mkdirCoverdata(): void {
	sh(['mkdir', '-p', coverdata]);
	chmodSync(coverdata, 0o777); // the binary runs as uid 1001 and writes here
}

goWorld.describe('the demo module (go test, standard library only)', () => {
	it('passes its unit tests', {timeout: 600_000}, () => {
		const r = spawnSync(which('go')!, ['test', './...'], {
			cwd: join(ROOT, 'demo'),
			encoding: 'utf8',
			timeout: 600_000,
			env: {...process.env, GOFLAGS: '-mod=mod', GOTOOLCHAIN: 'local', GOPROXY: 'off'},
		});
		expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
		for (const pkg of ['internal/pgwire', 'internal/logger', 'internal/datastorage', 'internal/gateway', 'internal/resp'])
			expect(r.stdout).toContain(`ok  \tkdoctor.dev/demo/${pkg}`);
	});
});
