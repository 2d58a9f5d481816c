#!/usr/bin/env node
// kdoctor triage on the local cluster of test/cluster, three measurements in one session:
//  1. status change in the API → finding on the screen: 20 faults made one after another; an independent watch
//     (its own connection) notes when each fault first shows in the API, the triage screen (Ink, rendered in
//     memory by ink-testing-library, frame polled every 5 ms) when it first shows the finding;
//  2. first complete triage of a namespace with 1,000 pods (a real Deployment whose pods cannot be scheduled),
//     after the list returns, next to a plain list of the same pods in the same run;
//  3. memory (RSS, heap) of the process while it watches those 1,000 pods.
// Writes bench/out/triage.json and prints Markdown tables.
import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import {cpus, totalmem} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const clusterDir = process.env.KDOCTOR_CLUSTER_DIR ?? '/tmp/kdoctor-cluster';
const infoFile = join(clusterDir, 'cluster.json');
if (!existsSync(infoFile)) {
	console.log(`triage bench skipped: the local cluster is not up (npm run cluster:up starts it; ${infoFile} is missing)`);
	process.exit(0);
}
const info = JSON.parse(readFileSync(infoFile, 'utf8'));
const N_FAULTS = Number(process.env.BENCH_TRIAGE_FAULTS ?? 20);
const N_PODS = Number(process.env.BENCH_TRIAGE_PODS ?? 1000);

const React = (await import('react')).default;
const {render} = await import('ink-testing-library');
const k8s = await import('@kubernetes/client-node');
const {startTriage} = await import(`${root}dist/commands/triage.js`);
const {createDoctorStore} = await import(`${root}dist/state/store.js`);
const {TriageScreen} = await import(`${root}dist/ui/screens/triage-screen.js`);
const {StoreProvider} = await import(`${root}dist/ui/store-context.js`);
const {compileKb} = await import(`${root}dist/core/kb/compile.js`);
const {loadKb} = await import(`${root}dist/core/kb/load.js`);
const {readKbSources} = await import(`${root}dist/adapters/kb-files.js`);
const kb = compileKb(loadKb(readKbSources()));

const kc = new k8s.KubeConfig();
kc.loadFromFile(info.kubeconfig);
const core = kc.makeApiClient(k8s.CoreV1Api);
const apps = kc.makeApiClient(k8s.AppsV1Api);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function freshNamespace(name) {
	try {
		await core.deleteNamespace({name});
		while (true) {
			await core.readNamespace({name});
			await sleep(500);
		}
	} catch {}
	await core.createNamespace({body: {metadata: {name}}});
}
const deployment = (name, spec, replicas = 1) => ({
	apiVersion: 'apps/v1',
	kind: 'Deployment',
	metadata: {name},
	spec: {
		replicas,
		selector: {matchLabels: {app: name}},
		template: {metadata: {labels: {app: name}}, spec: {terminationGracePeriodSeconds: 0, ...spec}},
	},
});
const pct = (xs, p) => xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)];

async function latency() {
	const ns = 'kdoctor-bench-latency';
	await freshNamespace(ns);
	const store = createDoctorStore();
	store.getState().triageSet({where: `namespace ${ns}`});
	const app = render(
		React.createElement(StoreProvider, {store}, React.createElement(TriageScreen, {onIntent: () => undefined, color: false})),
	);
	const ac = new AbortController();
	await startTriage(kb, {kubeconfig: info.kubeconfig, namespace: ns}, (s) => store.getState().triageSnapshot(s), ac.signal);
	while (!store.getState().triage.snapshot?.complete) await sleep(20);

	// The independent observer: when each fault first shows in the API.
	const seen = new Map();
	const w = new k8s.Watch(kc);
	const ctl = await w.watch(
		`/api/v1/namespaces/${ns}/pods`,
		{},
		(_t, pod) => {
			const name = pod.metadata?.labels?.app;
			const bad = (pod.status?.containerStatuses ?? []).some((c) =>
				['ErrImageNeverPull', 'CrashLoopBackOff'].includes(c.state?.waiting?.reason),
			);
			if (name && bad && !seen.has(name)) seen.set(name, performance.timeOrigin + performance.now());
		},
		() => undefined,
	);

	const rows = [];
	for (let i = 0; i < N_FAULTS; i++) {
		const name = `fault-${i}`;
		const crash = i % 2 === 1;
		const spec = crash
			? {
					containers: [
						{
							name: 'app',
							image: info.testImage,
							imagePullPolicy: 'Never',
							args: ['exit', '1', 'KUBERNAUT_CONTROLLER_NAMESPACE environment variable is required'],
						},
					],
				}
			: {containers: [{name: 'app', image: `localhost/kdoctor-bench/missing-${i}:1`, imagePullPolicy: 'Never'}]};
		await apps.createNamespacedDeployment({namespace: ns, body: deployment(name, spec)});
		const want = crash ? 'crashloop-config-error' : 'image-not-loaded';
		const deadline = Date.now() + 120_000;
		let shownAt;
		while (Date.now() < deadline) {
			const frame = app.lastFrame() ?? '';
			const line = frame.split('\n').find((l) => l.includes(`deployment/${name} `));
			if (line && line.includes(want)) {
				shownAt = performance.timeOrigin + performance.now();
				break;
			}
			await sleep(5);
		}
		const faultAt = seen.get(name);
		rows.push({
			name,
			fault: crash ? 'CrashLoopBackOff' : 'ErrImageNeverPull',
			finding: want,
			ms: shownAt && faultAt ? Math.round(shownAt - faultAt) : undefined,
		});
		// One fault on screen at a time keeps the measurement about this fault, not the list's length.
		await apps.deleteNamespacedDeployment({name, namespace: ns});
	}
	ctl.abort();
	ac.abort();
	app.unmount();
	await core.deleteNamespace({name: ns}).catch(() => {});
	return rows;
}

async function thousand() {
	const ns = 'kdoctor-bench-1000';
	await freshNamespace(ns);
	// Real pods from a real Deployment, none schedulable (no node has the label): the API server holds them all.
	await apps.createNamespacedDeployment({
		namespace: ns,
		body: deployment(
			'crowd',
			{nodeSelector: {'kdoctor.bench/none': 'x'}, containers: [{name: 'app', image: info.testImage, imagePullPolicy: 'Never'}]},
			N_PODS,
		),
	});
	const made = Date.now();
	while ((await core.listNamespacedPod({namespace: ns})).items.length < N_PODS) {
		if (Date.now() - made > 600_000) throw new Error(`fewer than ${N_PODS} pods after 10 minutes`);
		await sleep(1000);
	}
	// Unschedulable is a finding only after its grace period: wait until every pod is past it.
	const oldest = Date.now();
	await sleep(Math.max(0, 62_000 - (Date.now() - made)));
	void oldest;

	const baseline = [];
	for (let i = 0; i < 3; i++) {
		const t = performance.now();
		const l = await core.listNamespacedPod({namespace: ns});
		baseline.push({ms: performance.now() - t, n: l.items.length});
	}

	const before = process.memoryUsage();
	const ac = new AbortController();
	const t0 = performance.now();
	let listedAt;
	let complete;
	await startTriage(
		kb,
		{kubeconfig: info.kubeconfig, namespace: ns},
		(s) => {
			const pods = s.resources.find((r) => r.resource === 'pods');
			if (listedAt === undefined && pods && pods.relists > 0) listedAt = performance.now();
			if (!complete && s.complete && s.failing.length > 0) complete = {at: performance.now(), s};
		},
		ac.signal,
	);
	while (!complete) {
		if (performance.now() - t0 > 120_000) throw new Error('no complete triage within 120 s');
		await sleep(5);
	}
	const w = complete.s.failing[0];
	// Watching for a while with 1,000 pods mirrored: memory as it settles.
	const samples = [];
	for (let i = 0; i < 10; i++) {
		await sleep(1000);
		samples.push(process.memoryUsage());
	}
	ac.abort();
	// The one-look commands as processes on the same 1,000 pods (and Popeye when bench/peers.sh built it).
	const {spawnSync} = await import('node:child_process');
	const wall = (argv) => {
		const t = performance.now();
		const r = spawnSync(argv[0], argv.slice(1), {encoding: 'utf8', maxBuffer: 256 * 2 ** 20});
		return {ms: Math.round(performance.now() - t), code: r.status};
	};
	const cli = (cmd) => [process.execPath, join(root, 'dist/bin/cli.js'), cmd, '-n', ns, '--kubeconfig', info.kubeconfig, '--json'];
	const popeye = join(process.env.KDOCTOR_PEERS_DIR ?? '/var/cache/kdoctor-peers', 'popeye');
	const processes = {'kdoctor diagnose -n --json': cli('diagnose'), 'kdoctor triage --json': cli('triage')};
	if (existsSync(popeye))
		processes['popeye -n NS -o json'] = [popeye, '-n', ns, '-o', 'json', '--kubeconfig', info.kubeconfig, '--force-exit-zero'];
	const oneLook = {};
	for (let i = 0; i < 3; i++) for (const [k, argv] of Object.entries(processes)) (oneLook[k] ??= []).push(wall(argv).ms);
	await apps.deleteNamespacedDeployment({name: 'crowd', namespace: ns}).catch(() => {});
	await core.deleteNamespace({name: ns}).catch(() => {});
	const mib = (b) => Math.round(b / 2 ** 20);
	return {
		pods: complete.s.pods,
		finding: w.findings[0]?.id,
		troubled: w.troubled.length,
		listMs: Math.round(listedAt - t0),
		afterListMs: Math.round(complete.at - listedAt),
		totalMs: Math.round(complete.at - t0),
		plainListMs: baseline.map((b) => Math.round(b.ms)),
		rssBeforeMiB: mib(before.rss),
		rssWatchingMiB: mib(Math.max(...samples.map((m) => m.rss))),
		heapWatchingMiB: mib(Math.max(...samples.map((m) => m.heapUsed))),
		oneLook,
	};
}

const lat = await latency();
const big = await thousand();
const ms = lat.map((r) => r.ms).filter((x) => x !== undefined);
const result = {
	at: new Date().toISOString(),
	machine: {cpus: cpus().length, memGiB: Math.round(totalmem() / 2 ** 30), kubernetes: info.version},
	latency: {rows: lat, p50: pct(ms, 50), p95: pct(ms, 95), max: Math.max(...ms), missed: lat.length - ms.length},
	thousand: big,
};
mkdirSync(join(root, 'bench/out'), {recursive: true});
writeFileSync(join(root, 'bench/out/triage.json'), JSON.stringify(result, null, 2));
console.log(`\n## kdoctor triage on the local cluster (${info.version}), ${cpus().length} CPUs\n`);
console.log(
	`status change in the API → finding on the triage screen, ${lat.length} faults (${lat.filter((r) => r.fault === 'CrashLoopBackOff').length} CrashLoopBackOff, ${lat.filter((r) => r.fault === 'ErrImageNeverPull').length} ErrImageNeverPull):`,
);
console.log(
	`p50 ${result.latency.p50} ms · p95 ${result.latency.p95} ms · max ${result.latency.max} ms${result.latency.missed ? ` · ${result.latency.missed} not measured` : ''}\n`,
);
console.log('| 1,000 pods | time |\n|---|---|');
console.log(`| plain list of the pods (client-node, same run; 3 tries) | ${big.plainListMs.join(' / ')} ms |`);
console.log(`| triage: start to the pods' list returned | ${big.listMs} ms |`);
console.log(
	`| **triage: list returned → first complete triage** (${big.troubled} pods of one workload, \`${big.finding}\`) | **${big.afterListMs} ms** |`,
);
console.log(`| triage: start → complete | ${big.totalMs} ms |`);
for (const [k, v] of Object.entries(big.oneLook)) console.log(`| ${k}, whole process (3 runs) | ${v.join(' / ')} ms |`);
console.log(
	`\nmemory while watching ${big.pods} pods: RSS ${big.rssWatchingMiB} MiB (before the triage: ${big.rssBeforeMiB} MiB), heap ${big.heapWatchingMiB} MiB`,
);
