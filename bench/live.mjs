#!/usr/bin/env node
// kdoctor beside k8sgpt and Popeye on live faults of the local cluster (test/cluster), in one run:
//  1. each fault is made for real in its own namespace (a ServiceAccount, a ConfigMap, a Secret, a claim that does
//     not exist; a registry host that does not resolve; a crash loop; a limit below need; a probe on an unserved path;
//     a Service that selects nothing; an Ingress to a missing Service; a webhook with no endpoints; a taint …);
//  2. once the faults have developed, every tool looks at every fault's namespace 3 times (`kdoctor triage --json`,
//     `k8sgpt analyze -o json`, `popeye -o json`), timed and with its peak RSS (GNU time);
//  3. root cause per tool: kdoctor by the KB id it ranks first; the peers by whether a line they print about the
//     fault's own objects says the cause (a regex per fault, written with the fault, below): named, partly (the
//     object is flagged, the cause is not said) or missed;
//  4. start-up: all tools (and `kdoctor diagnose -n --json`) on a namespace with one healthy pod, in turn, 15 rounds
//     after a warm-up; kdoctor's time over Popeye's is taken round by round (the median of those ratios).
// The peers are built by bench/peers.sh from the Go module proxy (cached in /var/cache/kdoctor-peers).
// Writes bench/out/live.json and prints Markdown tables.
import {spawnSync} from 'node:child_process';
import {existsSync, mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {cpus, tmpdir, totalmem} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const clusterDir = process.env.KDOCTOR_CLUSTER_DIR ?? '/tmp/kdoctor-cluster';
const infoFile = join(clusterDir, 'cluster.json');
if (!existsSync(infoFile)) {
	console.log(`live bench skipped: the local cluster is not up (npm run cluster:up starts it; ${infoFile} is missing)`);
	process.exit(0);
}
const info = JSON.parse(readFileSync(infoFile, 'utf8'));
const PEERS = process.env.KDOCTOR_PEERS_DIR ?? '/var/cache/kdoctor-peers';
const RUNS = Number(process.env.BENCH_LIVE_RUNS ?? 3);
const SETTLE_S = Number(process.env.BENCH_LIVE_SETTLE ?? 90);
const ONLY = process.env.BENCH_LIVE_ONLY?.split(',');
for (const bin of ['k8sgpt', 'popeye'])
	if (!existsSync(join(PEERS, bin))) {
		console.error(`live bench: ${join(PEERS, bin)} is missing (bash bench/peers.sh builds it from the Go module proxy)`);
		process.exit(2);
	}
if (!existsSync('/usr/bin/time')) {
	console.error('live bench: GNU time (/usr/bin/time) is missing: apt-get install time');
	process.exit(2);
}

const k8s = await import('@kubernetes/client-node');
const kc = new k8s.KubeConfig();
kc.loadFromFile(info.kubeconfig);
const core = kc.makeApiClient(k8s.CoreV1Api);
const objects = k8s.KubernetesObjectApi.makeApiClient(kc);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const image = info.testImage;

const container = (extra = {}) => ({name: 'app', image, imagePullPolicy: 'IfNotPresent', ...extra});
const deployment = (name, spec, labels = {app: name}) => ({
	apiVersion: 'apps/v1',
	kind: 'Deployment',
	metadata: {name},
	spec: {
		replicas: 1,
		selector: {matchLabels: labels},
		template: {metadata: {labels}, spec: {terminationGracePeriodSeconds: 0, ...spec}},
	},
});
const service = (name, selector, targetPort = 8080) => ({
	apiVersion: 'v1',
	kind: 'Service',
	metadata: {name},
	spec: {selector, ports: [{name: 'http', port: 80, targetPort}]},
});
const serving = (name) => deployment(name, {containers: [container({ports: [{name: 'http', containerPort: 8080}]})]});

// Every fault: what kdoctor should rank first (any of), and what a peer must say about the fault's objects to have
// named the cause. `objects` are the names the fault's own objects (and their pods) start with.
const FAULTS = [
	{
		id: 'sa-missing',
		what: 'Deployment names a ServiceAccount that does not exist (ReplicaSet FailedCreate, no pod)',
		expect: ['serviceaccount-missing'],
		cause:
			/(?:service ?account|serviceaccounts?)\b.{0,40}\bbench-sa\b.{0,40}(?:not found|missing|does not exist)|bench-sa.{0,30}not found/i,
		objects: ['api'],
		make: () => [deployment('api', {serviceAccountName: 'bench-sa', containers: [container()]})],
	},
	{
		id: 'registry-host',
		what: 'image on a registry host that does not resolve (ImagePullBackOff)',
		expect: ['registry-auth'],
		cause: /no such host|registry\.kdoctor\.invalid.{0,80}(?:resolve|lookup|dns)/i,
		objects: ['api'],
		make: () => [deployment('api', {containers: [container({image: 'registry.kdoctor.invalid/team/api:1.4.2'})]})],
	},
	{
		id: 'env-missing',
		what: 'crash loop; the log says FATAL: required env DATABASE_URL not set',
		expect: ['crashloop-config-error'],
		cause: /DATABASE_URL/,
		objects: ['api'],
		make: () => [deployment('api', {containers: [container({args: ['exit', '1', 'FATAL: required env DATABASE_URL not set']})]})],
	},
	{
		id: 'insufficient-memory',
		what: 'requests more memory than the node has, on a node with no taint (Pending)',
		expect: ['pod-unschedulable'],
		cause: /Insufficient memory/i,
		objects: ['api'],
		make: () => [deployment('api', {containers: [container({resources: {requests: {memory: '500Gi'}}})]})],
	},
	{
		id: 'probe-404',
		what: 'readiness httpGet on a path the program does not serve (404)',
		expect: ['readiness-probe-failing'],
		cause: /\b404\b/,
		objects: ['api'],
		make: () => [
			deployment('api', {
				containers: [
					container({
						env: [{name: 'PATHS', value: '/readyz'}],
						readinessProbe: {httpGet: {path: '/ready', port: 8080}, periodSeconds: 2, failureThreshold: 1},
					}),
				],
			}),
		],
	},
	{
		id: 'oom',
		what: 'memory limit (48Mi) below what the process holds (96 MiB): OOMKilled',
		expect: ['pod-oom-killed'],
		cause: /OOMKilled|out of memory|\bOOM\b/i,
		objects: ['api'],
		make: () => [deployment('api', {containers: [container({args: ['alloc', '96'], resources: {limits: {memory: '48Mi'}}})]})],
	},
	{
		id: 'configmap-missing',
		what: 'envFrom a ConfigMap that does not exist (CreateContainerConfigError)',
		expect: ['crashloop-config-error'],
		cause: /configmaps? "?bench-config"? not found|bench-config.{0,40}(?:not found|missing|does not exist)/i,
		objects: ['api'],
		make: () => [deployment('api', {containers: [container({envFrom: [{configMapRef: {name: 'bench-config'}}]})]})],
	},
	{
		id: 'selector-mismatch',
		what: "Service's selector matches no pod (app: wbe; the pods are app: web)",
		expect: ['service-selector-mismatch'],
		cause: /no endpoints|no (?:matching )?pods?\b.{0,30}(?:match|select)|match(?:es)? no pods?|app=wbe/i,
		objects: ['web'],
		make: () => [serving('web'), service('web', {app: 'wbe'})],
	},
	{
		id: 'never-pull',
		what: 'image never loaded into the node, pull policy Never (ErrImageNeverPull)',
		expect: ['image-not-loaded'],
		cause: /ErrImageNeverPull|not present with pull policy of Never|pull policy (?:of )?Never/i,
		objects: ['api'],
		make: () => [
			deployment('api', {containers: [container({image: 'localhost/kdoctor-bench/api:never-loaded', imagePullPolicy: 'Never'})]}),
		],
	},
	{
		id: 'pvc-pending',
		what: 'claim on a StorageClass that does not exist (Pending claim, Pending pod)',
		expect: ['pvc-pending'],
		cause: /bench-none|storageclass.{0,60}(?:not found|does not exist|missing)/i,
		objects: ['api', 'data'],
		make: () => [
			{
				apiVersion: 'v1',
				kind: 'PersistentVolumeClaim',
				metadata: {name: 'data'},
				spec: {storageClassName: 'bench-none', accessModes: ['ReadWriteOnce'], resources: {requests: {storage: '1Gi'}}},
			},
			deployment('api', {
				containers: [container({volumeMounts: [{name: 'data', mountPath: '/data'}]})],
				volumes: [{name: 'data', persistentVolumeClaim: {claimName: 'data'}}],
			}),
		],
	},
	{
		id: 'ingress-backend',
		what: 'Ingress whose backend Service does not exist',
		expect: ['ingress-backend-missing'],
		cause: /web-missing.{0,80}(?:not found|does not exist|missing)|(?:not found|does not exist|missing).{0,80}web-missing/i,
		objects: ['web'],
		make: () => [
			serving('web'),
			service('web', {app: 'web'}),
			{
				apiVersion: 'networking.k8s.io/v1',
				kind: 'Ingress',
				metadata: {name: 'web'},
				spec: {
					rules: [
						{
							host: 'web.local',
							http: {paths: [{path: '/', pathType: 'Prefix', backend: {service: {name: 'web-missing', port: {number: 80}}}}]},
						},
					],
				},
			},
		],
	},
	{
		id: 'webhook-down',
		what: 'validating webhook (this namespace only) whose Service has no endpoints: pods cannot be created',
		expect: ['dependency-unreachable'],
		cause: /webhook.{0,300}(?:no endpoints|connection refused|not available)|no endpoints available for service/i,
		objects: ['api', 'guard', 'kdb-webhook-down-guard'],
		make: (ns) => [
			service('guard', {app: 'guard'}, 8443),
			{
				apiVersion: 'admissionregistration.k8s.io/v1',
				kind: 'ValidatingWebhookConfiguration',
				metadata: {name: `${ns}-guard`},
				webhooks: [
					{
						name: 'guard.kdoctor.bench',
						clientConfig: {service: {namespace: ns, name: 'guard', path: '/validate', port: 80}},
						rules: [{operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods']}],
						namespaceSelector: {matchLabels: {'kubernetes.io/metadata.name': ns}},
						failurePolicy: 'Fail',
						sideEffects: 'None',
						admissionReviewVersions: ['v1'],
						timeoutSeconds: 5,
					},
				],
			},
			deployment('api', {containers: [container()]}),
		],
	},
	{
		id: 'statefulset-secret',
		what: 'StatefulSet env from a Secret that does not exist (CreateContainerConfigError)',
		expect: ['crashloop-config-error'],
		cause: /secrets? "?bench-secret"? not found|bench-secret.{0,40}(?:not found|missing|does not exist)/i,
		objects: ['db'],
		make: () => [
			{
				apiVersion: 'apps/v1',
				kind: 'StatefulSet',
				metadata: {name: 'db'},
				spec: {
					serviceName: 'db',
					replicas: 1,
					selector: {matchLabels: {app: 'db'}},
					template: {
						metadata: {labels: {app: 'db'}},
						spec: {
							terminationGracePeriodSeconds: 0,
							containers: [container({env: [{name: 'PASSWORD', valueFrom: {secretKeyRef: {name: 'bench-secret', key: 'password'}}}]})],
						},
					},
				},
			},
		],
	},
	{
		id: 'named-targetport',
		what: "Service targetPort names a port (http-api) no container declares (the pods' port is named http)",
		expect: ['service-port-mismatch'],
		cause: /http-api/,
		objects: ['web'],
		make: () => [serving('web'), service('web', {app: 'web'}, 'http-api')],
	},
	{
		id: 'job-migration',
		what: 'migration Job fails: ERROR: relation "audit_events" does not exist (BackoffLimitExceeded)',
		expect: ['migration-failed'],
		cause: /audit_events|SQLSTATE|relation .{0,30}does not exist/i,
		objects: ['migrate'],
		make: () => [
			{
				apiVersion: 'batch/v1',
				kind: 'Job',
				metadata: {name: 'migrate'},
				spec: {
					backoffLimit: 1,
					template: {
						spec: {
							restartPolicy: 'Never',
							terminationGracePeriodSeconds: 0,
							containers: [
								container({
									args: [
										'exit',
										'1',
										'migrate: ERROR: relation "audit_events" does not exist (SQLSTATE 42P01) in line 3: ALTER TABLE audit_events',
									],
								}),
							],
						},
					},
				},
			},
		],
	},
	{
		id: 'daemonset-volume',
		what: 'DaemonSet mounts a ConfigMap that does not exist (FailedMount, ContainerCreating)',
		expect: ['crashloop-config-error'],
		cause: /configmaps? "?agent-config"? not found|agent-config.{0,40}(?:not found|missing|does not exist)/i,
		objects: ['agent'],
		make: () => [
			{
				apiVersion: 'apps/v1',
				kind: 'DaemonSet',
				metadata: {name: 'agent'},
				spec: {
					selector: {matchLabels: {app: 'agent'}},
					template: {
						metadata: {labels: {app: 'agent'}},
						spec: {
							terminationGracePeriodSeconds: 0,
							containers: [container({volumeMounts: [{name: 'cfg', mountPath: '/etc/agent'}]})],
							volumes: [{name: 'cfg', configMap: {name: 'agent-config'}}],
						},
					},
				},
			},
		],
	},
	{
		id: 'node-taint',
		what: 'the only node carries a NoSchedule taint the pod does not tolerate (Pending)',
		expect: ['pod-unschedulable'],
		cause: /taint|kdoctor\.bench\/maintenance/i,
		objects: ['api'],
		last: true,
		make: () => [deployment('api', {containers: [container()]})],
	},
].filter((f) => !ONLY || ONLY.includes(f.id));

const TAINT = {key: 'kdoctor.bench/maintenance', value: 'true', effect: 'NoSchedule'};
async function taint(on) {
	const node = await core.readNode({name: info.nodeName});
	const others = (node.spec?.taints ?? []).filter((t) => t.key !== TAINT.key);
	await core.patchNode(
		{name: info.nodeName, body: {spec: {taints: on ? [...others, TAINT] : others}}},
		k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
	);
}

async function freshNamespace(name) {
	await core.deleteNamespace({name}).catch(() => undefined);
	for (;;) {
		try {
			await core.readNamespace({name});
			await sleep(500);
		} catch {
			break;
		}
	}
	await core.createNamespace({body: {metadata: {name}}});
}

async function make(f, ns) {
	await freshNamespace(ns);
	for (const o of f.make(ns)) {
		const clusterScoped = o.kind === 'ValidatingWebhookConfiguration';
		if (clusterScoped) await objects.delete(o).catch(() => undefined);
		await objects.create(clusterScoped ? o : {...o, metadata: {...o.metadata, namespace: ns}});
	}
}

async function cleanup(f, ns) {
	for (const o of f.make(ns)) if (o.kind === 'ValidatingWebhookConfiguration') await objects.delete(o).catch(() => undefined);
	await core.deleteNamespace({name: ns}).catch(() => undefined);
}

/** Runs a command under GNU time: wall seconds, peak RSS (MiB), exit code, stdout. */
function timed(argv) {
	const out = join(tmpdir(), `kdoctor-live-${process.pid}.time`);
	const r = spawnSync('/usr/bin/time', ['-f', '%e %M', '-o', out, ...argv], {
		encoding: 'utf8',
		maxBuffer: 256 * 2 ** 20,
		env: {...process.env, NO_COLOR: '1'},
		timeout: 900_000,
	});
	const [s, kb] = readFileSync(out, 'utf8').trim().split('\n').at(-1).split(' ').map(Number);
	rmSync(out, {force: true});
	return {s, rssMiB: Math.round(kb / 1024), code: r.status, stdout: r.stdout, stderr: r.stderr};
}

const kdoctor = (cmd, ns) => [
	process.execPath,
	join(root, 'dist/bin/cli.js'),
	cmd,
	'-n',
	ns,
	'--kubeconfig',
	info.kubeconfig,
	'--containerd-socket',
	info.containerdSocket,
	'--json',
];
const TOOLS = {
	kdoctor: (ns) => kdoctor('triage', ns),
	k8sgpt: (ns) => [join(PEERS, 'k8sgpt'), 'analyze', '-n', ns, '-o', 'json', '--kubeconfig', info.kubeconfig],
	popeye: (ns) => [join(PEERS, 'popeye'), '-n', ns, '-o', 'json', '--kubeconfig', info.kubeconfig, '--force-exit-zero'],
};

/** What each tool says, as lines: `object: message`, with kdoctor's top finding per object beside. */
function lines(tool, stdout) {
	if (tool === 'kdoctor') {
		const j = JSON.parse(stdout);
		return [...j.failing, ...j.settling].map((w) => ({
			object: `${w.workload.kind}/${w.workload.name}`,
			top: w.findings[0]?.id,
			confidence: w.findings[0]?.confidence,
			fixes: (w.findings[0]?.remediations ?? []).map((r) => `[${r.key}] ${r.title}`),
			text: `${w.workload.kind}/${w.workload.name}: ${[w.final ?? '', ...(w.findings[0]?.evidence ?? []).map((e) => e.text)].join(' | ')}`,
		}));
	}
	if (tool === 'k8sgpt') {
		const j = JSON.parse(stdout);
		return (j.results ?? []).flatMap((r) =>
			(r.error ?? []).map((e) => ({object: `${r.kind}/${r.name}`, text: `${r.kind}/${r.name}: ${e.Text}`})),
		);
	}
	const j = JSON.parse(stdout);
	return (j.popeye?.sections ?? []).flatMap((s) =>
		Object.entries(s.issues ?? {}).flatMap(([fqn, issues]) =>
			issues.filter((i) => i.level >= 2).map((i) => ({object: `${s.linter}/${fqn}`, text: `${s.linter}/${fqn}: ${i.message}`})),
		),
	);
}

function judge(f, tool, ls, ns) {
	const mine = ls.filter((l) => f.objects.some((o) => new RegExp(`(?:^|[/ ])(?:${ns}/)?${o}(?:[-/:.]|$)`).test(l.object)));
	if (tool === 'kdoctor') {
		const hit = mine.find((l) => f.expect.includes(l.top));
		if (hit) return {verdict: 'named', detail: `${hit.top} ${Math.round(hit.confidence * 100)}%`, fixes: hit.fixes};
		if (mine.length) return {verdict: 'partly', detail: mine.map((l) => l.top ?? 'no known cause').join(', '), fixes: mine[0].fixes};
		return {verdict: 'missed', detail: ls.length ? `flagged only ${ls.map((l) => l.object).join(', ')}` : 'nothing'};
	}
	const said = mine.find((l) => f.cause.test(l.text));
	if (said) return {verdict: 'named', detail: said.text.slice(0, 160)};
	if (mine.length) return {verdict: 'partly', detail: mine[0].text.slice(0, 160)};
	return {verdict: 'missed', detail: ls.length ? `${ls.length} lines, none about the fault` : 'nothing'};
}

const median = (xs) => {
	const s = xs.slice().sort((a, b) => a - b);
	return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function measure(f, ns) {
	const row = {fault: f.id, what: f.what, tools: {}};
	for (const [tool, argv] of Object.entries(TOOLS)) {
		const runs = [];
		for (let i = 0; i < RUNS; i++) runs.push(timed(argv(ns)));
		const last = runs.at(-1);
		let ls;
		try {
			ls = lines(tool, last.stdout);
		} catch (error) {
			ls = [];
			console.error(`[live] ${tool} on ${f.id}: output not JSON (${error.message}); stderr: ${last.stderr.slice(0, 300)}`);
		}
		row.tools[tool] = {
			...judge(f, tool, ls, ns),
			medianS: median(runs.map((r) => r.s)),
			medianRssMiB: median(runs.map((r) => r.rssMiB)),
			lines: ls.map((l) => l.text.slice(0, 300)),
		};
	}
	const k = row.tools.kdoctor;
	console.error(
		`[live] ${f.id}: kdoctor ${k.verdict} (${k.detail}); k8sgpt ${row.tools.k8sgpt.verdict}; popeye ${row.tools.popeye.verdict}`,
	);
	return row;
}

const started = Date.now();
const rows = [];
const ns = (f) => `kdb-${f.id}`;
try {
	const first = FAULTS.filter((f) => !f.last);
	for (const f of first) await make(f, ns(f));
	console.error(`[live] ${first.length} faults made; letting them develop for ${SETTLE_S} s`);
	await sleep(SETTLE_S * 1000);
	for (const f of first) rows.push(await measure(f, ns(f)));
	for (const f of first) await cleanup(f, ns(f));
	for (const f of FAULTS.filter((x) => x.last)) {
		await taint(true);
		try {
			await make(f, ns(f));
			await sleep(SETTLE_S * 1000);
			rows.push(await measure(f, ns(f)));
		} finally {
			await taint(false);
			await cleanup(f, ns(f));
		}
	}
} finally {
	await taint(false).catch(() => undefined);
}

// Start-up: one healthy pod, every tool (and diagnose -n) 5 times.
const oneNs = 'kdb-one-pod';
await freshNamespace(oneNs);
await objects.create({...serving('web'), metadata: {name: 'web', namespace: oneNs}});
for (let i = 0; i < 120; i++) {
	const pods = (await core.listNamespacedPod({namespace: oneNs})).items;
	if (pods.some((p) => p.status?.containerStatuses?.every((c) => c.ready))) break;
	await sleep(1000);
}
const startup = {};
const startTools = {...TOOLS, 'kdoctor diagnose -n': (n) => kdoctor('diagnose', n)};
const ROUNDS = Number(process.env.BENCH_LIVE_STARTUP_ROUNDS ?? 15);
// One warm-up round, then the tools in turn each round: a ratio is taken round by round, so drift cancels.
for (const argv of Object.values(startTools)) timed(argv(oneNs));
for (let i = 0; i < ROUNDS; i++) for (const [tool, argv] of Object.entries(startTools)) (startup[tool] ??= []).push(timed(argv(oneNs)));
await core.deleteNamespace({name: oneNs}).catch(() => undefined);
const start = Object.fromEntries(
	Object.entries(startup).map(([t, rs]) => [
		t,
		{medianS: median(rs.map((r) => r.s)), medianRssMiB: median(rs.map((r) => r.rssMiB)), codes: rs.map((r) => r.code)},
	]),
);

const count = (tool, v) => rows.filter((r) => r.tools[tool].verdict === v).length;
const result = {
	at: new Date().toISOString(),
	machine: {cpus: cpus().length, memGiB: Math.round(totalmem() / 2 ** 30), kubernetes: info.version, node: process.version},
	runs: RUNS,
	settleSeconds: SETTLE_S,
	wallSeconds: Math.round((Date.now() - started) / 1000),
	rows,
	startup: start,
};
mkdirSync(join(root, 'bench/out'), {recursive: true});
writeFileSync(join(root, 'bench/out/live.json'), JSON.stringify(result, null, 2));

const mark = {named: '✓ named', partly: '◐ partly', missed: '✗ missed'};
console.log(`\n## Live faults beside the peers (${info.version}, ${cpus().length} CPUs, ${RUNS} runs per tool per fault)\n`);
console.log("| fault | kdoctor | kdoctor's first fix | k8sgpt v0.4.36 | Popeye v0.22.1 |\n|---|---|---|---|---|");
for (const r of rows)
	console.log(
		`| ${r.what} | ${mark[r.tools.kdoctor.verdict]} \`${r.tools.kdoctor.detail}\` | ${r.tools.kdoctor.fixes?.[0] ?? '—'} | ${mark[r.tools.k8sgpt.verdict]} | ${mark[r.tools.popeye.verdict]} |`,
	);
console.log(
	`| **named / partly / missed** | **${count('kdoctor', 'named')} / ${count('kdoctor', 'partly')} / ${count('kdoctor', 'missed')}** | | ${count('k8sgpt', 'named')} / ${count('k8sgpt', 'partly')} / ${count('k8sgpt', 'missed')} | ${count('popeye', 'named')} / ${count('popeye', 'partly')} / ${count('popeye', 'missed')} |`,
);
const peerOnly = rows.filter(
	(r) => r.tools.kdoctor.verdict !== 'named' && ['k8sgpt', 'popeye'].some((t) => r.tools[t].verdict === 'named'),
);
console.log(`\nfaults a peer names and kdoctor does not: ${peerOnly.length ? peerOnly.map((r) => r.fault).join(', ') : 'none'}`);
console.log('\n| per fault, median of the runs | kdoctor | k8sgpt | Popeye |\n|---|---|---|---|');
const med = (t, k) => median(rows.map((r) => r.tools[t][k]));
console.log(`| seconds | ${med('kdoctor', 'medianS')} | ${med('k8sgpt', 'medianS')} | ${med('popeye', 'medianS')} |`);
console.log(`| peak RSS (MiB) | ${med('kdoctor', 'medianRssMiB')} | ${med('k8sgpt', 'medianRssMiB')} | ${med('popeye', 'medianRssMiB')} |`);
console.log(`\n| one healthy pod, median of ${ROUNDS} | seconds | peak RSS (MiB) |\n|---|---|---|`);
for (const [t, v] of Object.entries(start)) console.log(`| ${t} | ${v.medianS} | ${v.medianRssMiB} |`);
const pairs = (a) => median(startup[a].map((r, i) => r.s / startup['popeye'][i].s));
result.startupRatios = {triage: pairs('kdoctor'), diagnose: pairs('kdoctor diagnose -n')};
writeFileSync(join(root, 'bench/out/live.json'), JSON.stringify(result, null, 2));
console.log(
	`\nround by round (${ROUNDS} rounds), median of kdoctor's time over Popeye's: triage --json ${result.startupRatios.triage.toFixed(2)}×, diagnose -n --json ${result.startupRatios.diagnose.toFixed(2)}× (target ≤ 2×); peak RSS ${start['kdoctor'].medianRssMiB} MiB (target ≤ 120).`,
);
