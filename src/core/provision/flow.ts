import type {Diagnosis} from '../diagnose/diagnose.js';
import type {Facts, Finding} from '../diagnose/score.js';
import {changeWaiter} from '../cluster/changes.js';
import type {TriageSnapshot} from '../cluster/engine.js';
import {current, finalEventProblem, finalProblem, similarImages, simpleFacts} from '../cluster/evidence.js';
import type {PlannedStep} from './events.js';
import {certificateObjects} from './certificates.js';
import {addCoverage, configMapFrom, containerImages, parseManifests, renderTemplate, type K8sObject} from './manifests.js';
import {DEFAULTS, type RunPlan} from './plan.js';
import type {CertPort, ClusterProvider, ClusterSpec, EngineInfo, EnginePort, ExecPort, HostPort, KubePort, PodFacts} from './ports.js';
import type {Profile} from './profile.js';
import {StepFailure, type StepContext, type StepHandler, type StepOutcome} from './runner.js';

/** Everything the flow's steps touch, passed in so tests can give recorded or real parts. */
export type FlowDeps = {
	engine: EnginePort;
	engineInfo: EngineInfo;
	provider: ClusterProvider;
	/** The API client, created once the cluster (and its kubeconfig) exists. */
	kube(): Promise<KubePort>;
	host: HostPort;
	exec: ExecPort;
	/** Makes the certificates a deploy step asks for (openssl in the adapter). */
	certs: CertPort;
	diagnose(text: string, facts?: Facts): Diagnosis;
	/** One look at the namespace through the one live engine (what triage and diagnose -n see), no grace periods. */
	snapshot(namespace: string): Promise<TriageSnapshot>;
	/** Status code of a GET, or the reason it failed ("connection refused"). */
	httpStatus(url: string, timeoutMs: number, signal: AbortSignal): Promise<number | string>;
	/** Waits between polls of the API server; resolves early (and throws) when the signal aborts. */
	sleep(ms: number, signal: AbortSignal): Promise<void>;
	now(): number;
	readText(path: string): string;
	listFiles(dir: string, glob: string): string[];
	mkdirp(path: string): void;
	remove(path: string): void;
};

export type FlowOptions = {
	plan: RunPlan;
	profile: Profile;
	cluster: ClusterSpec;
	/** Folder the profile's relative paths resolve against (kdoctor's own, or the --source checkout). */
	sourceDir: string;
	runDir: string;
	rebuild: boolean;
	recreate: boolean;
	reuse: boolean;
	/** Host folder that holds the node's /coverdata. */
	coverdataDir: string;
	/** Rewrites a profile URL for the provider (the existing provider reaches NodePorts directly). */
	healthUrl(url: string): string;
	pollMs?: number;
	join(...parts: string[]): string;
	/** A profile path as a file: relative to the source folder, or `kdoctor:…` for kdoctor's own files. */
	resolvePath(p: string): string;
	/** A deploy `files` entry as the files it names, in order (a `*.yaml` glob expands). */
	expandFiles(p: string): string[];
};

/** A failure that carries the KB's diagnosis of it. */
function diagnosed(message: string, d: Diagnosis | undefined): StepFailure {
	return new StepFailure(message, {findings: d?.findings.filter((f) => f.confidence >= 0.15) ?? []});
}

const OOM_ID = 'build-oom-killed';

/** The step handler for a run: one function per kind of step. */
export function createFlow(deps: FlowDeps, opts: FlowOptions): StepHandler {
	const {plan, profile} = opts;
	const pollMs = opts.pollMs ?? 1000;
	let nodeImagesCache: string[] | undefined;
	const nodeImages = async (fresh = false) => {
		if (fresh || !nodeImagesCache) nodeImagesCache = await deps.provider.nodeImages(opts.cluster);
		return nodeImagesCache;
	};
	const path = opts.resolvePath;

	/** Every host port the cluster maps must be free before it is created; a held one names its holder. */
	const checkPorts = async (ctx: StepContext): Promise<string> => {
		const held: string[] = [];
		const ports: number[] = [];
		for (const p of profile.cluster.ports) {
			const holder = await deps.host.portHolder(p.hostPort);
			if (!holder) continue;
			ports.push(p.hostPort);
			held.push(
				`listen tcp4 :${p.hostPort}: bind: address already in use (held by ` +
					`${holder.pid ? `pid ${holder.pid}` : 'another process'}${holder.command ? `, ${holder.command}` : ''})`,
			);
		}
		if (held.length > 0) {
			for (const h of held) ctx.line(h, 'stderr');
			const d = deps.diagnose(held.join('\n'), simpleFacts({'port.inUse': [held.length]}, 'host'));
			throw diagnosed(
				`host port${ports.length > 1 ? 's' : ''} ${ports.join(', ')} already in use: ` +
					`free ${held.length > 1 ? 'them' : 'it'} or change the profile's cluster.ports`,
				d,
			);
		}
		return `${profile.cluster.ports.length} host ports free`;
	};

	const preflight = async (_s: PlannedStep, ctx: StepContext): Promise<StepOutcome> => {
		const notes: string[] = [];
		ctx.line(
			`engine: ${deps.engineInfo.engine} ${deps.engineInfo.version}, ${deps.engineInfo.arch}, ${deps.engineInfo.cpus} CPUs, ` +
				`${deps.engineInfo.memTotalMiB} MiB (budget ${deps.engineInfo.budgetMiB} MiB from ${deps.engineInfo.budgetSource})`,
		);
		// With --recreate the old cluster's own node holds these ports until the cluster step deletes it: checked there.
		if (!opts.reuse && !opts.recreate && !plan.imagesOnly) notes.push(await checkPorts(ctx));
		try {
			const free = await deps.host.freeDiskGiB(opts.runDir);
			ctx.line(`free disk: ${free.toFixed(1)} GiB`);
			if (free < 5) ctx.note(`only ${free.toFixed(1)} GiB free on disk: builds may fail with "no space left on device"`);
		} catch {
			ctx.line('free disk: could not check');
		}
		return {state: 'done', note: notes.join(', ') || undefined};
	};

	const build = async (s: PlannedStep, ctx: StepContext, name: string): Promise<StepOutcome> => {
		const img = plan.images.get(name)!;
		if (!opts.rebuild && (await deps.engine.imageExists(img.ref)))
			return {state: 'skipped', note: `cached: ${img.ref} already built from the same inputs`};
		const r = await deps.engine.build({
			image: img.ref,
			dockerfile: path(img.spec.dockerfile!),
			context: path(img.spec.context!),
			buildArgs: img.buildArgs,
			platform: img.spec.platform,
			noCache: opts.rebuild,
			timeoutMs: DEFAULTS.buildTimeoutMs,
			key: s.id.replace(':', '-'),
			onLine: (l, stream) => ctx.line(l, stream),
			signal: ctx.signal,
		});
		if (r.ok) return {state: 'done', peakMiB: r.peakMiB && r.peakMiB > 0 ? Math.round(r.peakMiB) : undefined};
		if (r.cancelled) throw new StepFailure('stopped');
		const d = deps.diagnose(r.tail.join('\n'), simpleFacts({'engine.memoryMiB': [deps.engineInfo.budgetMiB]}, 'engine'));
		const oom = d.findings.find((f) => f.id === OOM_ID && f.confidence >= 0.5);
		if (oom)
			throw new StepFailure(`killed for lack of memory (${ctx.memoryMiB} MiB assumed)`, {
				oomKilled: true,
				peakMiB: r.peakMiB,
				findings: d.findings,
			});
		const last = r.tail.filter((l) => l.trim()).at(-1) ?? `exit code ${r.exitCode}`;
		if (r.timedOut)
			throw diagnosed(
				`the build did not finish in ${DEFAULTS.buildTimeoutMs / 60_000} minutes` +
					(r.peakMiB
						? ` (peak ${Math.round(r.peakMiB)} MiB of a ${deps.engineInfo.budgetMiB} MiB budget: ` +
							'builds near the memory limit thrash rather than fail)'
						: ''),
				d,
			);
		throw diagnosed(`the build failed: ${last}`, d);
	};

	const pull = async (_s: PlannedStep, ctx: StepContext, name: string): Promise<StepOutcome> => {
		const img = plan.images.get(name)!;
		if (await deps.engine.imageExists(img.ref)) return {state: 'skipped', note: `cached: ${img.ref} is already in ${deps.engine.name}`};
		const r = await deps.exec.run({
			argv: [deps.engine.name, 'pull', '--quiet', img.ref],
			onLine: (l, st) => ctx.line(l, st),
			signal: ctx.signal,
		});
		if (r.cancelled) throw new StepFailure('stopped');
		if (r.exitCode !== 0)
			throw diagnosed(
				`could not pull ${img.ref}: ${(r.stderr.trim().split('\n').at(-1) ?? '').slice(0, 300)}`,
				deps.diagnose(`${r.stdout}\n${r.stderr}`),
			);
		return {state: 'done'};
	};

	const cluster = async (_s: PlannedStep, ctx: StepContext): Promise<StepOutcome> => {
		if (opts.recreate && (await deps.provider.exists(opts.cluster))) {
			ctx.note(`deleting the existing cluster ${opts.cluster.name} (--recreate)`);
			await deps.provider.delete(opts.cluster, ctx.signal);
		}
		if (opts.recreate) ctx.line(await checkPorts(ctx));
		try {
			await deps.provider.create(opts.cluster, (l, st) => ctx.line(l, st), ctx.signal);
		} catch (error) {
			if (ctx.signal.aborted) throw new StepFailure('stopped');
			const message = (error as Error).message;
			throw diagnosed(message, deps.diagnose(message));
		}
		await deps.provider.kubeconfig(opts.cluster);
		return {state: 'done', note: `kubeconfig ${opts.cluster.kubeconfigPath}`};
	};

	const load = async (_s: PlannedStep, ctx: StepContext, name: string): Promise<StepOutcome> => {
		const img = plan.images.get(name)!;
		if ((await nodeImages()).includes(img.ref)) return {state: 'skipped', note: `the node already holds ${img.ref}`};
		const dir = opts.join(opts.runDir, 'images');
		deps.mkdirp(dir);
		const tar = opts.join(dir, `${name}.tar`);
		try {
			ctx.line(`${deps.engine.name} save -o ${tar} ${img.ref}`);
			await deps.engine.save(img.ref, tar, ctx.signal);
			await deps.provider.loadArchive(opts.cluster, tar, (l, st) => ctx.line(l, st), ctx.signal);
		} catch (error) {
			if (ctx.signal.aborted) throw new StepFailure('stopped');
			throw diagnosed((error as Error).message, deps.diagnose((error as Error).message));
		} finally {
			deps.remove(tar);
		}
		const held = await nodeImages(true);
		if (!held.includes(img.ref)) {
			const similar = similarImages(held, img.ref);
			throw diagnosed(
				`${img.ref} is not in the node after the import${similar.length ? ` (it holds ${similar.join(', ')})` : ''}`,
				deps.diagnose(
					`image ${img.ref} not present in node after import\n${held.join('\n')}`,
					simpleFacts({'image.nodeHasSimilar': [similar.length > 0]}, 'cluster'),
				),
			);
		}
		return {state: 'done', note: `node holds ${img.ref}`};
	};

	const objectsOf = (id: string): K8sObject[] => {
		const d = plan.deploys.get(id)!;
		const values = {images: new Map([...plan.images].map(([n, i]) => [n, i.ref])), namespace: profile.namespace, pullPolicy: 'Never'};
		let objects = d.files
			.flatMap((entry) => opts.expandFiles(entry).map((f) => ({f, text: deps.readText(f)})))
			.flatMap(({f, text}) => parseManifests(renderTemplate(text, values, f), f));
		if (d.configMapFrom) {
			const files = deps
				.listFiles(path(d.configMapFrom.dir), d.configMapFrom.glob)
				.map((f) => ({name: f.split('/').at(-1)!, text: deps.readText(opts.join(path(d.configMapFrom!.dir), f))}));
			objects = [configMapFrom(d.configMapFrom.name, profile.namespace, files, d.configMapFrom.gooseUpOnly), ...objects];
		}
		if (plan.coverage) objects = addCoverage(objects, d.coverage);
		return objects;
	};

	/**
	 * Diagnoses the namespace as it is now through the one live engine, so `up`, `triage` and `diagnose -n` name the
	 * same cause for the same fault: the workload of the pods the step waited for, else the namespace's first failing one.
	 */
	const diagnoseNamespace = async (_kube: KubePort, pods: PodFacts[]): Promise<Diagnosis> => {
		const snap = await deps.snapshot(profile.namespace);
		const names = new Set(pods.map((p) => p.name));
		const pick = snap.failing.find((w) => w.troubled.some((p) => names.has(p.name))) ?? snap.failing[0];
		let findings = pick?.findings ?? [];
		// A pod the scheduler holds for an unbound claim waits on the claim: the claim's own finding (no StorageClass,
		// no provisioner) is the cause, the scheduling the symptom.
		const waitsOnClaim = findings[0]?.evidence.some((e) => /unbound immediate PersistentVolumeClaims/.test(e.text));
		const claims = snap.failing.filter((w) => w.kind === 'PersistentVolumeClaim' && w.findings.length > 0);
		if (waitsOnClaim && claims.length > 0) findings = [...claims.flatMap((c) => c.findings), ...findings];
		return {status: 'ok', findings, stats: {bytes: 0, lines: 0}};
	};

	const deploy = async (_s: PlannedStep, ctx: StepContext, id: string): Promise<StepOutcome> => {
		const d = plan.deploys.get(id)!;
		let objects = objectsOf(id);
		// Before anything is applied: every local image a container asks for must be in the node, by exact name.
		const held = await nodeImages();
		for (const c of containerImages(objects)) {
			if (c.pullPolicy !== 'Never' || held.includes(c.image)) continue;
			const similar = similarImages(held, c.image);
			const text =
				`kdoctor pre-deploy check: ${c.object} container ${c.container} asks for "${c.image}" with imagePullPolicy Never, ` +
				`which the node does not hold: it would wait in ErrImageNeverPull\nimages in the node:\n${held.join('\n')}`;
			throw diagnosed(
				`${c.object} asks for ${c.image}, which the node does not hold${similar.length ? ` (it holds ${similar.join(', ')})` : ''}`,
				deps.diagnose(
					text,
					simpleFacts({'pod.waitingReason': ['ErrImageNeverPull'], 'image.nodeHasSimilar': [similar.length > 0]}, 'cluster'),
				),
			);
		}
		const kube = await deps.kube();
		// A Job that completed before a pod it depends on started (a database pod replaced, its emptyDir data gone) did
		// its work against something that no longer exists: it runs again, or the next step finds an empty schema.
		for (const job of d.wait?.jobs ?? []) {
			const doneAt = await kube.jobCompletedAt(profile.namespace, job);
			if (!doneAt) continue;
			const selectors = d.after.flatMap((a) => plan.deploys.get(a)?.wait?.pods ?? []);
			const newer = (await Promise.all(selectors.map((sel) => kube.pods(profile.namespace, sel))))
				.flat()
				.find((p) => !p.terminating && p.createdAt > doneAt);
			if (!newer) continue;
			ctx.line(`job ${job} completed at ${doneAt}, before ${newer.name} started (${newer.createdAt}): running it again`);
			await kube.deleteJob(profile.namespace, job, ctx.signal);
		}
		let applied;
		try {
			if (d.certificates) {
				// Before the manifests, so the pods that mount them find them; the lines name certificates, never keys.
				const made = await certificateObjects(d.certificates, profile.namespace, kube, deps.certs, deps.now(), ctx.signal);
				for (const l of made.lines) ctx.line(l);
				objects = [...made.objects, ...objects];
			}
			applied = await kube.apply(objects, profile.namespace, ctx.signal);
			for (const a of applied) ctx.line(`${a.kind.toLowerCase()}/${a.name} applied`);
			if (d.setStatus) {
				const {kind, status} = d.setStatus;
				for (const o of objects.filter((x) => x.kind === kind)) {
					const name = String(o.metadata?.name);
					await kube.patchStatus(
						{apiVersion: String(o.apiVersion), kind, namespace: o.metadata?.namespace ?? profile.namespace, name},
						status,
						ctx.signal,
					);
					ctx.line(`${kind.toLowerCase()}/${name} status set: ${Object.keys(status).join(', ')}`);
				}
			}
		} catch (error) {
			if (ctx.signal.aborted) throw new StepFailure('stopped');
			const message = (error as Error).message;
			throw diagnosed(message, deps.diagnose(message));
		}
		const wait = d.wait;
		if (!wait || (wait.pods.length === 0 && wait.jobs.length === 0)) return {state: 'done'};
		// A pod already crash-looping from before this run would be judged on its old crash (and sit out a back-off of
		// up to five minutes): start it afresh, so what is judged is this run's attempt.
		for (const sel of wait.pods) {
			for (const p of await kube.pods(profile.namespace, sel)) {
				if (p.terminating || p.stale || !p.containers.some((c) => c.waitingReason === 'CrashLoopBackOff')) continue;
				ctx.line(`pod ${p.name} was crash-looping before this run: starting it afresh`);
				await kube.deletePod(profile.namespace, p.name);
			}
		}
		// Until the controller has seen a changed template, the old ReplicaSet still looks current: its broken pods
		// from an earlier run must not fail this one.
		for (const a of applied.filter((x) => x.kind === 'Deployment')) {
			const until = deps.now() + 20_000;
			for (;;) {
				const dep = await kube.deployment(profile.namespace, a.name);
				if (!dep || dep.observedGeneration >= dep.generation || deps.now() > until) break;
				await deps.sleep(100, ctx.signal);
			}
		}
		const deadline = deps.now() + wait.timeoutSeconds * 1000;
		let lastSummary = '';
		// The wait wakes when the API server reports a change (a watch), and polls as a fallback.
		const changes = changeWaiter(kube, profile.namespace, ctx.signal, deps.sleep, pollMs);
		try {
			for (;;) {
				if (ctx.signal.aborted) throw new StepFailure('stopped');
				changes.reading();
				const podsBySelector = (await Promise.all(wait.pods.map((sel) => kube.pods(profile.namespace, sel)))).map((ps) =>
					ps.filter(current),
				);
				const pods = podsBySelector.flat();
				const running = pods.filter((p) => !p.ready && p.phase === 'Running');
				const problem =
					pods.map((p) => finalProblem(p, deps.now())).find(Boolean) ??
					(running.length ? finalEventProblem(await kube.events(profile.namespace).catch(() => []), running) : undefined);
				const jobs = await Promise.all(wait.jobs.map(async (j) => [j, await kube.jobStatus(profile.namespace, j)] as const));
				const failedJob = jobs.find(([, st]) => st === 'failed');
				if (problem || failedJob) {
					const all = [...pods, ...(failedJob ? await kube.pods(profile.namespace, `job-name=${failedJob[0]}`) : [])];
					throw diagnosed(problem ? `stopped waiting: ${problem}` : `job ${failedJob![0]} failed`, await diagnoseNamespace(kube, all));
				}
				const podsReady = podsBySelector.every((ps) => ps.length > 0 && ps.every((p) => p.ready || p.phase === 'Succeeded'));
				const jobsDone = jobs.every(([, st]) => st === 'complete');
				const parts = [
					...(wait.pods.length ? [`${pods.filter((p) => p.ready).length}/${pods.length} pods ready`] : []),
					...jobs.map(([j, st]) => `job ${j} ${st}`),
				];
				const summary = parts.join(', ');
				if (summary !== lastSummary) ctx.line(summary);
				lastSummary = summary;
				if (podsReady && jobsDone) return {state: 'done', note: summary};
				if (deps.now() > deadline)
					throw diagnosed(`not ready after ${wait.timeoutSeconds}s: ${summary}`, await diagnoseNamespace(kube, pods));
				await changes.next();
			}
		} finally {
			changes.stop();
		}
	};

	const health = async (_s: PlannedStep, ctx: StepContext): Promise<StepOutcome> => {
		for (const h of profile.health) {
			const url = opts.healthUrl(h.url);
			const deadline = deps.now() + h.timeoutSeconds * 1000;
			let last: number | string = '';
			for (let attempt = 1; ; attempt++) {
				if (ctx.signal.aborted) throw new StepFailure('stopped');
				last = await deps.httpStatus(url, 5000, ctx.signal);
				if (last === h.expectStatus) {
					ctx.line(`${url}: ${last} after ${attempt} attempt${attempt > 1 ? 's' : ''}`);
					break;
				}
				if (attempt === 1 || attempt % 5 === 0) ctx.line(`${url}: ${last}`);
				if (deps.now() > deadline) {
					const kube = await deps.kube();
					const pods = await kube.pods(profile.namespace).catch(() => []);
					const d = await diagnoseNamespace(kube, pods);
					throw diagnosed(`health check failed for ${url} after ${h.timeoutSeconds}s (last: ${last})`, d);
				}
				await deps.sleep(pollMs, ctx.signal);
			}
		}
		// A URL can answer through routes a Service change has not yet reached (the old endpoints): the Services
		// themselves must select their pods too, or the next request is the first to fail.
		if (profile.health.length > 0) {
			const snap = await deps.snapshot(profile.namespace);
			const broken = snap.failing.find((w) => w.kind === 'Service' && w.findings.length > 0);
			if (broken)
				throw diagnosed(`the health URLs answered, but service/${broken.name} does not reach its pods`, {
					status: 'ok',
					findings: broken.findings,
					stats: {bytes: 0, lines: 0},
				});
		}
		return {state: 'done'};
	};

	const coverage = async (_s: PlannedStep, ctx: StepContext): Promise<StepOutcome> => {
		const kube = await deps.kube();
		const names = [...plan.deploys.values()].flatMap((d) => d.coverage);
		// SIGTERM makes the Go runtime write its counters; scaling to zero is how Kubernaut triggers it.
		for (const n of names) await kube.scale(profile.namespace, n, 0);
		const deadline = deps.now() + 60_000;
		for (;;) {
			const left = (await kube.pods(profile.namespace)).filter((p) => names.some((n) => p.owner === n));
			if (left.length === 0) break;
			if (deps.now() > deadline) throw new StepFailure(`pods of ${names.join(', ')} did not stop within 60s`);
			await deps.sleep(pollMs, ctx.signal);
		}
		const files = deps.listFiles(opts.coverdataDir, '*');
		if (files.length === 0)
			throw new StepFailure(`no coverage data in ${opts.coverdataDir}: did the services run with GOCOVERDIR=/coverdata?`);
		const out = opts.join(opts.runDir, 'coverage');
		deps.mkdirp(out);
		const moduleDir = path([...plan.images.values()].find((i) => i.spec.context)!.spec.context!);
		const run = async (argv: string[]) => {
			const r = await deps.exec.run({argv, cwd: moduleDir, signal: ctx.signal});
			if (r.exitCode !== 0) throw new StepFailure(`${argv.slice(0, 4).join(' ')} failed: ${r.stderr.trim().split('\n')[0]}`);
			return r.stdout;
		};
		const profileOut = opts.join(out, 'coverage.out');
		await run(['go', 'tool', 'covdata', 'textfmt', `-i=${opts.coverdataDir}`, `-o=${profileOut}`]);
		const percent = await run(['go', 'tool', 'covdata', 'percent', `-i=${opts.coverdataDir}`]);
		for (const l of percent.trim().split('\n')) ctx.line(l);
		await run(['go', 'tool', 'cover', `-html=${profileOut}`, `-o=${opts.join(out, 'coverage.html')}`]);
		const func = await run(['go', 'tool', 'cover', `-func=${profileOut}`]);
		const total = /total:\s+\(statements\)\s+([\d.]+%)/.exec(func)?.[1];
		return {state: 'done', note: `${total ? `${total} of statements; ` : ''}reports in ${out}`};
	};

	return async (s, ctx) => {
		const [kind, name] = s.id.split(':') as [string, string | undefined];
		switch (kind) {
			case 'preflight':
				return preflight(s, ctx);
			case 'build':
				return build(s, ctx, name!);
			case 'pull':
				return pull(s, ctx, name!);
			case 'cluster':
				return cluster(s, ctx);
			case 'load':
				return load(s, ctx, name!);
			case 'deploy':
				return deploy(s, ctx, name!);
			case 'health':
				return health(s, ctx);
			case 'coverage':
				return coverage(s, ctx);
			default:
				throw new StepFailure(`unknown step ${s.id}`);
		}
	};
}

/** The top findings worth showing for a failed step. */
export function topFindings(findings: Finding[] | undefined): Finding[] {
	return (findings ?? []).filter((f) => f.confidence >= 0.15).slice(0, 5);
}
