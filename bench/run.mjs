#!/usr/bin/env node
// npm run bench: diagnosis throughput and memory vs grep -E -f (same run, same file), pathological lines,
// CLI start-up latency, corpus accuracy, and (bench/provision.mjs) real Podman builds under a memory budget.
// Writes bench/out/results.json and prints a Markdown summary.
import {spawnSync} from 'node:child_process';
import {existsSync, mkdirSync, openSync, closeSync, writeSync, writeFileSync, readFileSync, rmSync, statSync} from 'node:fs';
import {cpus, tmpdir, totalmem} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {parse} from 'yaml';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = `${root}bench/out`;
const CLI = `${root}dist/bin/cli.js`;
mkdirSync(out, {recursive: true});
if (!existsSync(CLI)) {
	console.error('bench: dist/bin/cli.js is missing: run npm run build first');
	process.exit(2);
}
const {readKbSources, readCaseSources} = await import(`${root}dist/adapters/kb-files.js`);
const {lazyCaseIndex} = await import(`${root}dist/core/diagnose/resemble.js`);
const {loadKb} = await import(`${root}dist/core/kb/load.js`);
const {compileKb} = await import(`${root}dist/core/kb/compile.js`);
const {diagnoseText} = await import(`${root}dist/core/diagnose/diagnose.js`);
const {evaluateKb} = await import(`${root}dist/core/kb/evaluate.js`);
const loadedKb = loadKb(readKbSources());
const kb = compileKb(loadedKb);
// As the CLI diagnoses: the case library answers when no signal does.
kb.cases = lazyCaseIndex(loadedKb, () => readCaseSources());
const SIZE_MB = Number(process.env.BENCH_MB ?? 100);
const results = {
	machine: `${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
	date: new Date().toISOString(),
};

function rng(seed) {
	let s = seed >>> 0;
	return () => {
		s ^= s << 13;
		s ^= s >>> 17;
		s ^= s << 5;
		return (s >>> 0) / 0x100000000;
	};
}

/** Realistic noise from an E2E run: ginkgo, zap JSON, controller-runtime, podman build, kubectl, go test. */
function makeLog(path, mb) {
	const rand = rng(42);
	const pick = (a) => a[Math.floor(rand() * a.length)];
	const hex = (n) => Array.from({length: n}, () => '0123456789abcdef'[Math.floor(rand() * 16)]).join('');
	const ts = () =>
		`2025-12-23T14:${String(Math.floor(rand() * 60)).padStart(2, '0')}:${String(Math.floor(rand() * 60)).padStart(2, '0')}.${String(Math.floor(rand() * 1000)).padStart(3, '0')}Z`;
	const templates = [
		() => `  STEP: Creating RemediationRequest rr-${Math.floor(rand() * 9999)} in namespace test-${hex(6)} @ 12/23/25 14:02:11.384`,
		() =>
			`{"level":"info","ts":"${ts()}","logger":"gateway.server","msg":"signal processed","fingerprint":"${hex(40)}","latency_ms":${Math.floor(rand() * 200)}}`,
		() =>
			`{"level":"debug","ts":"${ts()}","logger":"datastorage.audit","msg":"batch flushed","events":${Math.floor(rand() * 100)},"duration":"${(rand() * 20).toFixed(3)}ms"}`,
		() =>
			`${ts()}\tINFO\tReconciling\t{"controller": "remediationrequest", "namespace": "kubernaut-system", "name": "rr-${hex(5)}", "reconcileID": "${hex(8)}-${hex(4)}"}`,
		() =>
			`${ts()}\tERROR\tReconciler error\t{"controller": "signalprocessing", "error": "Operation cannot be fulfilled on signalprocessings.kubernaut.ai \\"sp-${hex(5)}\\": the object has been modified; please apply your changes to the latest version and try again"}`,
		() =>
			`level=warn ts=${ts()} msg="retrying request" attempt=${Math.floor(rand() * 3)} err="context canceled" url=http://data-storage-service:8080/api/v1/audit/events`,
		() =>
			`#${Math.floor(rand() * 20)} ${(rand() * 90).toFixed(1)} go: downloading github.com/${pick(['onsi/gomega', 'jackc/pgx/v5', 'go-logr/zapr', 'prometheus/client_golang', 'redis/go-redis/v9'])} v1.${Math.floor(rand() * 40)}.${Math.floor(rand() * 9)}`,
		() =>
			`STEP ${Math.floor(rand() * 12) + 1}/12: ${pick(['COPY --chown=1001:0 . .', 'RUN dnf install -y git ca-certificates tzdata', 'WORKDIR /opt/app-root/src', 'USER 1001'])}`,
		() =>
			`${pick(['gateway', 'datastorage', 'postgresql', 'redis'])}-${hex(9)}-${hex(5)}   1/1     Running   0          ${Math.floor(rand() * 59)}m`,
		() =>
			rand() < 0.15
				? `  Normal  Pulled     ${Math.floor(rand() * 59)}s   kubelet  Container image "localhost/gateway:gateway-${hex(8)}" already present on machine`
				: `  Normal  Started    ${Math.floor(rand() * 59)}s   kubelet  Started container ${pick(['gateway', 'datastorage', 'postgresql', 'redis'])}`,
		() => `=== RUN   TestGateway/${pick(['dedup', 'priority', 'storm', 'audit'])}_${hex(4)}`,
		() => `--- PASS: TestGateway/${pick(['dedup', 'priority', 'storm', 'audit'])}_${hex(4)} (${(rand() * 2).toFixed(2)}s)`,
		() =>
			`  [It] should ${pick(['deduplicate alerts', 'write audit events', 'reject invalid payloads', 'apply priority policy'])} [e2e, gateway] /workspace/test/e2e/gateway/${Math.floor(rand() * 40)}_test.go:${Math.floor(rand() * 300)}`,
		() =>
			`I1223 14:02:11.384${Math.floor(rand() * 999)}       1 ${pick(['controller.go', 'reflector.go', 'shared_informer.go'])}:${Math.floor(rand() * 900)}] "Caches populated" type="*v1.ConfigMap" reflector="pkg/mod/k8s.io/client-go@v0.33.0/tools/cache/reflector.go:251"`,
		() =>
			`    gateway_e2e_test.go:${Math.floor(rand() * 400)}: HTTP 201 POST /api/v1/signals/prometheus in ${(rand() * 40).toFixed(1)}ms (request-id ${hex(16)})`,
	];
	const symptoms = [
		'#12 41.2 github.com/jackc/pgx/v5/pgtype: /usr/lib/golang/pkg/tool/linux_arm64/compile: signal: killed',
		'  Warning  ErrImageNeverPull  4s (x12 over 2m1s)  kubelet  Container image "gateway:gateway-1a2b3c4d" is not present with pull policy of Never',
		'runtime: lfstack.push invalid packing: node=0xffffb9b77ec0 cnt=0x1 packed=0xffffb9b77ec00001 -> node=0xffffffffb9b77ec0',
		'fatal error: lfstack.push',
		'\t/usr/local/go/src/runtime/asm_amd64.s:479 +0x8',
		'Error: cannot listen on the TCP port: listen tcp4 :18091: bind: address already in use',
		'[FAILED] timeout waiting for Gateway health check (tried http://localhost:28080/readyz for 2m0s)',
	];
	const target = mb * 1024 * 1024;
	const fd = openSync(path, 'w');
	let written = 0;
	const every = Math.floor(target / (symptoms.length + 1));
	let next = every;
	let si = 0;
	let buf = [];
	let bufLen = 0;
	while (written < target) {
		let line = pick(templates)();
		if (written >= next && si < symptoms.length) {
			line = symptoms[si++];
			next += every;
		}
		buf.push(line);
		bufLen += line.length + 1;
		written += line.length + 1;
		if (bufLen > 1 << 20) {
			writeSync(fd, buf.join('\n') + '\n');
			buf = [];
			bufLen = 0;
		}
	}
	if (buf.length) writeSync(fd, buf.join('\n') + '\n');
	closeSync(fd);
}

/**
 * The synthetic noise of makeLog, with every tenth line a near miss: a line an E2E run really prints that holds a KB
 * literal and matches no pattern (waiting for a pod, a build step, a pulled image), or a KB literal in benign words.
 */
function makeDenseLog(path, mb, literals) {
	makeLog(path + '.base', mb);
	const rand = rng(7);
	const pick = (a) => a[Math.floor(rand() * a.length)];
	const near = [
		() => `waiting for pod gateway-${Math.floor(rand() * 1e6)} to be ready`,
		() => `STEP ${Math.floor(rand() * 9) + 1}/9: RUN go build -o /out/gateway ./cmd/gateway`,
		() =>
			`  Normal  Pulled  ${Math.floor(rand() * 59)}s  kubelet  Successfully pulled image "quay.io/jordigilh/gateway:v${Math.floor(rand() * 9)}" in 1.2s`,
		() => `  Normal  Pulled  3s  kubelet  Container image "localhost/gateway:kd-${Math.floor(rand() * 1e8)}" already present on machine`,
		() => `  Warning  Unhealthy  ${Math.floor(rand() * 59)}s  kubelet  Readiness probe succeeded after restart`,
		() => `level=info msg="connection to server at \\"postgresql\\" (10.96.3.4), port 5432 ok"`,
		() => `Step ${Math.floor(rand() * 12) + 1}/12 : RUN npm ci && npm run build`,
		() => `Creating cluster "gateway-e2e" ...`,
		() => `kind load image-archive /tmp/gw.tar --name gateway-e2e`,
		() => `I1223 14:02:11.384 controller.go:117] Reconciler finished, no error, requeue after 30s`,
	];
	const lits = literals.filter((l) => l.length >= 3);
	const text = readFileSync(path + '.base', 'utf8').split('\n');
	const outLines = text.map((line, i) =>
		i % 10 === 5 ? (rand() < 0.5 ? pick(near)() : `INFO note: ${pick(lits)} is mentioned in the release notes`) : line,
	);
	writeFileSync(path, outLines.join('\n'));
	spawnSync('rm', ['-f', path + '.base']);
}

/** JS regex → POSIX ERE for GNU grep; patterns grep cannot express (lookaround) are left out and counted. */
function toEre(src) {
	if (/\(\?<?[=!]/.test(src)) return undefined;
	return src.replace(/\(\?:/g, '(').replace(/\\d/g, '[0-9]').replace(/\*\?/g, '*').replace(/\+\?/g, '+').replace(/\\\//g, '/');
}

function timeCmd(cmd, args, timeoutMs = 0) {
	const hasTime = existsSync('/usr/bin/time');
	const argv = hasTime ? ['-f', '%e %M', cmd, ...args] : args;
	const t0 = process.hrtime.bigint();
	const r = spawnSync(hasTime ? '/usr/bin/time' : cmd, argv, {
		encoding: 'utf8',
		maxBuffer: 1 << 28,
		timeout: timeoutMs || undefined,
		killSignal: 'SIGKILL',
	});
	const wall = Number(process.hrtime.bigint() - t0) / 1e9;
	let rssMiB = null;
	if (hasTime) {
		const m = /(\d+\.\d+) (\d+)\s*$/.exec(r.stderr.trim());
		if (m) rssMiB = Math.round(Number(m[2]) / 1024);
	}
	return {wall, rssMiB, status: r.status, stdout: r.stdout, timedOut: r.error?.code === 'ETIMEDOUT' || r.signal === 'SIGKILL'};
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// 1. Throughput and memory on a large synthetic log, side by side with grep -E -f.
const logPath = `${out}/synthetic-${SIZE_MB}mb.log`;
if (!existsSync(logPath) || statSync(logPath).size < SIZE_MB * 1024 * 1024) makeLog(logPath, SIZE_MB);
const bytes = statSync(logPath).size;
const patterns = kb.text.flatMap((s) => [s.signal.pattern, s.signal.followedBy?.pattern]).filter(Boolean);
const ere = patterns.map(toEre).filter(Boolean);
writeFileSync(`${out}/patterns.ere`, ere.join('\n') + '\n');
// GNU grep with hundreds of -i patterns is very slow, so it is capped. Its fastest mode, fixed strings, is
// also run over the KB's required literals: the same first-stage job as kdoctor's automaton, and less work.
writeFileSync(`${out}/literals.txt`, kb.automaton.literals.join('\n') + '\n');
const GREP_CAP_MS = 60_000;
spawnSync('cat', [logPath], {stdio: ['ignore', 'ignore', 'ignore']});
const kd = [];
const gr = [];
const gr2 = [];
let grepCapped = false;
let kdRss = 0;
let found = [];
for (let i = 0; i < 3; i++) {
	const k = timeCmd(process.execPath, [CLI, 'diagnose', '--json', logPath]);
	if (k.status !== 1 && k.status !== 0) throw new Error(`kdoctor failed on the synthetic log (exit ${k.status})`);
	kd.push(k.wall);
	kdRss = Math.max(kdRss, k.rssMiB ?? 0);
	found = JSON.parse(k.stdout).findings.map((f) => `${f.id} ${f.confidence}`);
	if (i === 0) {
		const g = timeCmd('grep', ['-E', '-i', '-c', '-f', `${out}/patterns.ere`, logPath], GREP_CAP_MS);
		gr.push(g.wall);
		grepCapped = g.timedOut;
	}
	gr2.push(timeCmd('grep', ['-F', '-i', '-c', '-f', `${out}/literals.txt`, logPath]).wall);
}
const mbs = (t) => Math.round(bytes / 1024 / 1024 / t);
results.throughput = {
	file: `${(bytes / 1024 / 1024).toFixed(0)} MiB synthetic E2E log with ${7} real symptom lines`,
	kdoctorSeconds: median(kd),
	kdoctorMiBps: mbs(median(kd)),
	kdoctorPeakRssMiB: kdRss || null,
	grepSeconds: grepCapped ? null : median(gr),
	grepMiBps: grepCapped ? null : mbs(median(gr)),
	grepCappedAtSeconds: grepCapped ? GREP_CAP_MS / 1000 : null,
	grepPatterns: `${ere.length} of ${patterns.length} KB patterns (the rest use lookaround, which ERE lacks)`,
	grepBestSeconds: median(gr2),
	grepBestMiBps: mbs(median(gr2)),
	grepBestPatterns: `fixed strings: the KB's ${kb.automaton.literals.length} required literals`,
	ratioKdoctorToGrep: grepCapped ? null : +(median(kd) / median(gr)).toFixed(2),
	ratioKdoctorToGrepBest: +(median(kd) / median(gr2)).toFixed(2),
	findings: found,
};

// 1b. The prefilter's worst realistic case: the same noise, but every tenth line a near miss that holds one of the
// KB's literals without completing its pattern (a candidate line for the automaton every time), beside grep -F.
const densePath = `${out}/dense-${SIZE_MB}mb.log`;
if (!existsSync(densePath) || statSync(densePath).size < SIZE_MB * 1024 * 1024) makeDenseLog(densePath, SIZE_MB, kb.automaton.literals);
const denseBytes = statSync(densePath).size;
spawnSync('cat', [densePath], {stdio: ['ignore', 'ignore', 'ignore']});
const dk = [];
const dg = [];
let denseRss = 0;
let denseCandidates = 0;
for (let i = 0; i < 3; i++) {
	const k = timeCmd(process.execPath, [CLI, 'diagnose', '--json', densePath]);
	if (k.status !== 1 && k.status !== 0) throw new Error(`kdoctor failed on the dense log (exit ${k.status})`);
	dk.push(k.wall);
	denseRss = Math.max(denseRss, k.rssMiB ?? 0);
	const g = timeCmd('grep', ['-F', '-i', '-c', '-f', `${out}/literals.txt`, densePath]);
	dg.push(g.wall);
	denseCandidates = Number(g.stdout.trim());
}
const dmbs = (t) => Math.round(denseBytes / 1024 / 1024 / t);
results.dense = {
	file: `${(denseBytes / 1024 / 1024).toFixed(0)} MiB: the same noise with every tenth line a near miss holding a KB literal`,
	linesHoldingALiteral: denseCandidates,
	kdoctorSeconds: median(dk),
	kdoctorMiBps: dmbs(median(dk)),
	kdoctorPeakRssMiB: denseRss || null,
	grepLiteralsSeconds: median(dg),
	grepLiteralsMiBps: dmbs(median(dg)),
	ratioKdoctorToGrepLiterals: +(median(dk) / median(dg)).toFixed(2),
};

// 2. Pathological single lines of 1 MiB.
const M = 1 << 20;
const patho = {
	'a×1M': 'a'.repeat(M),
	'spaces×1M': ' '.repeat(M),
	'quotes×1M': '"'.repeat(M),
	'"Container image \\"" repeated': 'Container image "'.repeat(M / 17),
	'"fatal error: " repeated': 'fatal error: '.repeat(M / 13),
	'"timeout waiting for health " repeated': 'timeout waiting for health '.repeat(M / 27),
	'"bind: address " repeated': 'bind: address '.repeat(M / 14),
	'random printable': (() => {
		const r = rng(3);
		return Array.from({length: M}, () => String.fromCharCode(32 + Math.floor(r() * 95))).join('');
	})(),
};
results.pathological = Object.entries(patho).map(([name, text]) => {
	const t0 = performance.now();
	diagnoseText(kb, text);
	return {input: name, ms: Math.round(performance.now() - t0)};
});

// 3. Start-up latency of diagnose --json on a small file (process start included).
const small = `${root}examples/gateway-e2e-failed-run.log`;
const lat = [];
for (let i = 0; i < 15; i++) lat.push(timeCmd(process.execPath, [CLI, 'diagnose', '--json', small]).wall);
const nodeOnly = [];
for (let i = 0; i < 15; i++) nodeOnly.push(timeCmd(process.execPath, ['-e', '0']).wall);
// A small file no signal explains: the case library is read and indexed (the slow path of a look).
const unexplained = join(tmpdir(), `kdoctor-bench-unexplained-${process.pid}.log`);
writeFileSync(
	unexplained,
	'webapi_1   | 2019-08-16 08:14:10 | WARN  | LiveCore | Redis-Server not running. Please start the Redis-Server.\n',
);
const latLib = [];
for (let i = 0; i < 15; i++) latLib.push(timeCmd(process.execPath, [CLI, 'diagnose', '--json', unexplained]).wall);
rmSync(unexplained, {force: true});
results.latency = {
	kdoctorMedianMs: Math.round(median(lat) * 1000),
	kdoctorNoSignalMedianMs: Math.round(median(latLib) * 1000),
	kdoctorMaxMs: Math.round(Math.max(...lat) * 1000),
	bareNodeMedianMs: Math.round(median(nodeOnly) * 1000),
};

// 4. Corpus accuracy.
const expected = parse(readFileSync(`${root}test/fixtures/corpus/expected.yaml`, 'utf8'));
const rows = readFileSync(`${root}test/fixtures/corpus/kubernaut-dev.jsonl`, 'utf8')
	.split('\n')
	.filter(Boolean)
	.map((l) => JSON.parse(l));
const ev = evaluateKb(
	kb,
	rows.map((r) => ({id: r.id, text: r.symptom, negative: r.is_negative, expected: r.is_negative ? undefined : expected[r.category]})),
);
results.corpus = {
	positives: ev.positives,
	negatives: ev.negatives,
	top1: ev.top1,
	top3: ev.top3,
	top1Confident: ev.top1Confident,
	falseAlarms: ev.falseAlarms,
	misses: ev.outcomes
		.filter((o) => !o.negative && o.rank !== 1)
		.map((o) => `${o.id} → expected ${o.expected}, got ${o.ranked[0]?.id ?? 'nothing'} (rank ${o.rank ?? '-'})`),
};
results.holdouts = {};
const {parseCases} = await import(`${root}dist/core/kb/evaluate.js`);
for (const name of [
	'holdout',
	'holdout2',
	'holdout3',
	'holdout4',
	'public-dev',
	'public-dev2',
	'blind-2026-12',
	'blind-c',
	'blind-d',
	'blind-e',
]) {
	const path = existsSync(`${root}knowledge/cases/${name}.jsonl`)
		? `${root}knowledge/cases/${name}.jsonl`
		: `${root}test/fixtures/${name}/cases.jsonl`;
	if (!existsSync(path)) continue;
	const r = evaluateKb(kb, parseCases(readFileSync(path, 'utf8')));
	results.holdouts[name] = {positives: r.positives, negatives: r.negatives, top1: r.top1, top3: r.top3, falseAlarms: r.falseAlarms};
}

// 5. Scheduler simulation on the reference flow: kdoctor's plan vs the best possible, all-parallel, all-sequential.
const {planSchedule, optimalSchedule, serialSchedule, topologicalOrder} = await import(`${root}dist/core/provision/schedule.js`);
const {REFERENCE_FLOW} = await import(`${root}dist/core/provision/reference-flow.js`);
results.scheduler = [2048, 3072, 4096, 8192].map((budget) => {
	const plan = planSchedule(REFERENCE_FLOW, budget);
	const best = optimalSchedule(REFERENCE_FLOW, budget);
	const parallel = serialSchedule(topologicalOrder(REFERENCE_FLOW), Number.MAX_SAFE_INTEGER);
	const sequential = REFERENCE_FLOW.reduce((t, s) => t + s.durationMs, 0);
	return {
		budgetMiB: budget,
		planS: plan.makespan / 1000,
		bestS: best.makespan / 1000,
		planPeakMiB: plan.peakMemoryMiB,
		parallelS: parallel.makespan / 1000,
		parallelPeakMiB: parallel.peakMemoryMiB,
		sequentialS: sequential / 1000,
	};
});

writeFileSync(`${out}/results.json`, JSON.stringify(results, null, 2) + '\n');
const t = results.throughput;
console.log(`## kdoctor bench — ${results.date}
machine: ${results.machine}

| diagnosis of ${t.file} | seconds (median of 3) | MiB/s | peak RSS |
|---|---|---|---|
| kdoctor diagnose --json (full KB, ${patterns.length} patterns) | ${t.kdoctorSeconds.toFixed(2)} | ${t.kdoctorMiBps} | ${t.kdoctorPeakRssMiB ?? 'n/a'} MiB |
| grep -E -i -c -f (${t.grepPatterns}), one run | ${t.grepSeconds === null ? `> ${t.grepCappedAtSeconds} (stopped)` : t.grepSeconds.toFixed(2)} | ${t.grepMiBps ?? `< ${Math.round(bytes / 1024 / 1024 / t.grepCappedAtSeconds)}`} | |
| grep -F -i -c -f (${t.grepBestPatterns}) | ${t.grepBestSeconds.toFixed(2)} | ${t.grepBestMiBps} | |
ratio kdoctor/grep -E time: ${t.ratioKdoctorToGrep ?? 'grep stopped'}; kdoctor/grep -F literals: ${t.ratioKdoctorToGrepBest}; findings: ${t.findings.join(', ')}

| ${results.dense.file} (${results.dense.linesHoldingALiteral.toLocaleString('en-US')} lines hold a literal) | seconds (median of 3) | MiB/s | peak RSS |
|---|---|---|---|
| kdoctor diagnose --json | ${results.dense.kdoctorSeconds.toFixed(2)} | ${results.dense.kdoctorMiBps} | ${results.dense.kdoctorPeakRssMiB ?? 'n/a'} MiB |
| grep -F -i -c -f (the same literals) | ${results.dense.grepLiteralsSeconds.toFixed(2)} | ${results.dense.grepLiteralsMiBps} | |
ratio kdoctor/grep -F literals on the dense log: ${results.dense.ratioKdoctorToGrepLiterals}

| pathological 1 MiB single line | ms |
|---|---|
${results.pathological.map((p) => `| ${p.input} | ${p.ms} |`).join('\n')}

diagnose --json on a small file: median ${results.latency.kdoctorMedianMs} ms, max ${results.latency.kdoctorMaxMs} ms; one no signal explains (the case library indexed): median ${results.latency.kdoctorNoSignalMedianMs} ms (bare node -e 0: ${results.latency.bareNodeMedianMs} ms)

| VM budget | kdoctor plan (s) | best possible (s) | kdoctor peak MiB | all-parallel (s, peak MiB) | all-sequential (s) |
|---|---|---|---|---|---|
${results.scheduler.map((r) => `| ${r.budgetMiB} MiB | ${r.planS} | ${r.bestS} | ${r.planPeakMiB} | ${r.parallelS}, ${r.parallelPeakMiB}${r.parallelPeakMiB > r.budgetMiB ? ' (over budget)' : ''} | ${r.sequentialS} |`).join('\n')}

corpus (68 real cases): top-1 ${ev.top1}/${ev.positives}, top-3 ${ev.top3}/${ev.positives}, confident top-1 ${ev.top1Confident}/${ev.positives}, false alarms ${ev.falseAlarms}/${ev.negatives}
${Object.entries(results.holdouts)
	.map(([n, r]) => `${n}: top-1 ${r.top1}/${r.positives}, top-3 ${r.top3}/${r.positives}, false alarms ${r.falseAlarms}/${r.negatives}`)
	.join('\n')}
${results.corpus.misses.map((m) => `  miss: ${m}`).join('\n')}`);

// Real Podman builds under a memory budget: kdoctor's schedule vs all-parallel vs all-sequential (same run).
if (process.env.BENCH_SKIP_PROVISION !== '1') spawnSync(process.execPath, [`${root}bench/provision.mjs`], {stdio: 'inherit'});
// Cold and warm `kdoctor up` of the demo on the local cluster (skips with one line when the cluster is not up).
spawnSync(process.execPath, [`${root}bench/setup.mjs`], {stdio: 'inherit'});
if (process.env.BENCH_SKIP_CLUSTER !== '1') spawnSync(process.execPath, [`${root}bench/up-cluster.mjs`], {stdio: 'inherit'});
if (process.env.BENCH_SKIP_CLUSTER !== '1') spawnSync(process.execPath, [`${root}bench/up-kind.mjs`], {stdio: 'inherit'});
// Live triage: fault → finding on screen, 1,000 pods, memory (skips with one line when the cluster is not up).
if (process.env.BENCH_SKIP_CLUSTER !== '1') spawnSync(process.execPath, [`${root}bench/triage.mjs`], {stdio: 'inherit'});
