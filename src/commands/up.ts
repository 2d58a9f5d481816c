import {appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, chmodSync} from 'node:fs';
import {homedir} from 'node:os';
import {join} from 'node:path';
import {createCerts} from '../adapters/certs.js';
import {contextHash} from '../adapters/context-hash.js';
import {createEngine} from '../adapters/engine.js';
import {createExec, killAllChildren} from '../adapters/exec.js';
import {createExistingProvider} from '../adapters/existing.js';
import {writeFileAtomic} from '../adapters/fs-port.js';
import {createHost} from '../adapters/host.js';
import {InputError} from '../adapters/input.js';
import {privateStateDir, stateDir} from '../adapters/state-dir.js';
import {createKindProvider, kindConfigYaml} from '../adapters/kind.js';
import {diagnoseText} from '../core/diagnose/diagnose.js';
import type {Finding} from '../core/diagnose/score.js';
import type {CompiledKb} from '../core/kb/compile.js';
import {collectBundle} from '../core/provision/bundle.js';
import type {RunEvent, RunListener} from '../core/provision/events.js';
import {createFlow, topFindings} from '../core/provision/flow.js';
import {parseHistory, recordDuration, recordOom, recordPeak, type History} from '../core/provision/history.js';
import {buildPlan, formatPlan, makeRunId, PlanError, type RunPlan} from '../core/provision/plan.js';
import type {ClusterProvider, ClusterSpec, EngineInfo, EngineName, KubePort} from '../core/provision/ports.js';
import {expandBuildArgs} from '../core/provision/profile.js';
import {runGraph, type RunGraphResult} from '../core/provision/runner.js';
import {ScheduleError} from '../core/provision/schedule.js';
import {filesMatching, kdoctorVersion, loadProfiles, pickProfile, profilePaths, profileSourceDir} from './profiles.js';
import {writeRunRecord} from './run-record.js';
import {sleep} from '../core/sleep.js';

export type UpOptions = {
	profile: string;
	source?: string;
	provider: string;
	engine?: string;
	context?: string;
	kubeconfig?: string;
	containerdSocket?: string;
	registry?: string;
	nodeAddress?: string;
	/** kind provider: the node image, in place of the profile's (kind's own `--image`). */
	nodeImage?: string;
	reuse?: boolean;
	recreate?: boolean;
	rebuild?: boolean;
	cleanup?: boolean;
	coverage?: boolean;
	plan?: boolean;
	imagesOnly?: boolean;
	json?: boolean;
	buildArg?: string[];
	memory?: string;
	/** At most this many builds at once (1: one build at a time). */
	buildJobs?: number;
	/** The arguments after `kdoctor`, recorded in run.json. */
	invocation?: string[];
};

export type UpIo = {
	write(s: string): void;
	/** A remark beside the output (stderr), so --json stays pure JSON on stdout. */
	note(s: string): void;
	/** The screen, the plain lines or JSON Lines: whatever shows the run to the user. */
	listener: RunListener;
	/** Asks reuse / recreate / abort when a cluster exists; undefined when nobody can answer (no TTY). */
	ask?: (question: string) => Promise<'reuse' | 'recreate' | 'abort'>;
	/** Registers what Ctrl-C does during the run. */
	onInterrupt(fn: () => void): void;
	/** Called once the run has ended, before the command returns (the screen waits for `q`). */
	done?: () => Promise<void>;
};

/** `--build-arg K=V` overrides, checked so a typo is an error and not a silently ignored flag. */
function parseBuildArgs(args: string[] = []): Record<string, string> {
	const out: Record<string, string> = {};
	for (const a of args) {
		const i = a.indexOf('=');
		if (i <= 0) throw new InputError(`--build-arg ${a}: expected NAME=VALUE`);
		out[a.slice(0, i)] = a.slice(i + 1);
	}
	return out;
}

function readOrFail(path: string, what: string): string {
	try {
		return readFileSync(path, 'utf8');
	} catch {
		throw new InputError(`${what} not found: ${path}`);
	}
}

/** Peak memory history lives with kdoctor's other state, written atomically. */
const historyPath = () => join(stateDir(), 'history.json');

export type UpContext = {plan: RunPlan; runDir: string; cluster: ClusterSpec; provider: ClusterProvider};

/** `kdoctor up`: plans the profile's flow, runs it, and keeps the evidence when it fails. Returns the exit code. */
export async function upCommand(kb: CompiledKb, opts: UpOptions, configPath: string | undefined, io: UpIo): Promise<number> {
	const loaded = pickProfile(loadProfiles(configPath), opts.profile);
	const profile = loaded.profile;
	const sourceDir = profileSourceDir(loaded, {source: opts.source, cwd: process.cwd()});

	if (opts.provider !== 'kind' && opts.provider !== 'existing')
		throw new InputError(`--provider ${opts.provider}: expected kind or existing`);
	// Every flag is checked before anything is asked of the engine or kind (validate, then run).
	const overrides = parseBuildArgs(opts.buildArg);
	if (opts.reuse && opts.recreate) throw new InputError('--reuse and --recreate exclude each other');
	if (opts.nodeImage !== undefined && opts.provider !== 'kind') throw new InputError('--node-image is for --provider kind');
	if (opts.nodeImage !== undefined && !/^[a-z0-9][a-z0-9._\/:@-]*$/i.test(opts.nodeImage))
		throw new InputError(`--node-image ${opts.nodeImage}: expected an image reference such as kindest/node:v1.33.1`);
	const exec = createExec();
	const engineName = (opts.engine ?? 'podman') as EngineName;
	if (engineName !== 'podman' && engineName !== 'docker') throw new InputError(`--engine ${opts.engine}: expected podman or docker`);
	const engine = createEngine(exec, engineName, {cgroupParent: process.env.KDOCTOR_ENGINE_CGROUP || undefined});
	let info: EngineInfo;
	try {
		info = await engine.info();
	} catch (error) {
		// A plan is still worth showing when the engine is down (a stopped podman machine); a run is not.
		if (!opts.plan) throw new InputError((error as Error).message);
		const why = (error as Error).message.split('\n')[0];
		info = {
			engine: engineName,
			version: '?',
			arch: process.arch === 'x64' ? 'amd64' : process.arch,
			os: process.platform,
			cpus: 0,
			memTotalMiB: 0,
			budgetMiB: 4096,
			budgetSource: `assumed: ${why}`,
			rootless: false,
			measuresPeak: false,
		};
	}
	if (opts.buildJobs !== undefined) {
		const n = Number(opts.buildJobs);
		if (!Number.isInteger(n) || n <= 0)
			throw new InputError(`--build-jobs ${opts.buildJobs}: expected a whole number of builds, 1 or more`);
		opts = {...opts, buildJobs: n};
	}
	if (opts.memory) {
		const m = Number(opts.memory);
		if (!Number.isInteger(m) || m <= 0) throw new InputError(`--memory ${opts.memory}: expected MiB as a whole number`);
		info = {...info, budgetMiB: m, budgetSource: '--memory'};
	}

	const clusterDir = join(stateDir(), 'clusters', profile.cluster.name);
	const runId = makeRunId(new Date(), Math.random);
	const runDir = join(stateDir(), 'runs', runId);
	const cluster: ClusterSpec = {
		name: profile.cluster.name,
		configPath: join(runDir, 'kind-config.yaml'),
		kubeconfigPath:
			opts.provider === 'existing'
				? (opts.kubeconfig ?? process.env.KUBECONFIG?.split(':')[0] ?? join(homedir(), '.kube', 'config'))
				: join(clusterDir, 'kubeconfig'),
		cwd: sourceDir,
		waitSeconds: profile.cluster.waitSeconds,
	};
	const provider: ClusterProvider =
		opts.provider === 'kind'
			? createKindProvider(exec, engineName)
			: createExistingProvider(exec, {
					kubeconfig: opts.kubeconfig,
					context: opts.context,
					containerdSocket: opts.containerdSocket,
					registry: opts.registry,
				});

	let reuse = opts.provider === 'existing';
	let recreate = false;
	if (opts.imagesOnly) {
		// No cluster is touched: nothing to reuse or recreate.
	} else if (opts.provider === 'kind') {
		let exists: boolean;
		try {
			exists = await provider.exists(cluster);
		} catch (error) {
			if (!opts.plan) throw new InputError((error as Error).message);
			// The plan still helps without kind: it assumes the cluster is created (or reused, with --reuse).
			exists = opts.reuse === true;
			io.note(`note: could not ask kind about existing clusters (${(error as Error).message.split('\n')[0]})\n`);
		}
		if (exists) {
			const choice = opts.reuse
				? 'reuse'
				: opts.recreate
					? 'recreate'
					: io.ask
						? await io.ask(`cluster ${cluster.name} already exists`)
						: undefined;
			if (!choice)
				throw new InputError(
					`cluster ${cluster.name} already exists: run again with --reuse to use it or --recreate to delete and create it`,
				);
			if (choice === 'abort') {
				io.write(`kdoctor: left cluster ${cluster.name} as it is\n`);
				return 2;
			}
			reuse = choice === 'reuse';
			recreate = choice === 'recreate';
		}
	} else if (!(await provider.exists(cluster).catch((e: Error) => Promise.reject(new InputError(e.message))))) {
		throw new InputError(
			`no context ${opts.context ?? '(current)'} in ${cluster.kubeconfigPath}: the existing provider needs a reachable cluster`,
		);
	}

	const {resolvePath, expandFiles} = profilePaths(sourceDir);
	const hashes = new Map<string, string>();
	const buildArgs = new Map<string, Record<string, string>>();
	for (const img of profile.images) {
		if (img.pull) continue;
		const args = {...expandBuildArgs(img.buildArgs, info.arch, img.platform), ...overrides, ...(opts.coverage ? {GOFLAGS: '-cover'} : {})};
		buildArgs.set(img.name, args);
		const dockerfile = resolvePath(img.dockerfile!);
		const context = resolvePath(img.context!);
		if (!existsSync(dockerfile)) throw new InputError(`image ${img.name}: Dockerfile not found: ${dockerfile}`);
		if (!existsSync(context) || !statSync(context).isDirectory())
			throw new InputError(`image ${img.name}: build context is not a folder: ${context}`);
		hashes.set(img.name, contextHash({dockerfile, context, buildArgs: args, platform: img.platform}));
	}
	const manifestText = new Map(
		profile.deploy.map((d) => [
			d.id,
			d.files
				.flatMap(expandFiles)
				.map((f) => readOrFail(f, `deploy step ${d.id}: manifest`))
				.join('\n---\n'),
		]),
	);
	let history: History = parseHistory(existsSync(historyPath()) ? readFileSync(historyPath(), 'utf8') : undefined);

	let plan: RunPlan;
	try {
		plan = buildPlan({
			profileName: loaded.name,
			profile,
			runId,
			hashes,
			buildArgs,
			manifestText,
			budgetMiB: info.budgetMiB,
			history,
			coverage: opts.coverage === true,
			reuseCluster: reuse,
			imagesOnly: opts.imagesOnly === true,
		});
	} catch (error) {
		if (error instanceof PlanError || error instanceof ScheduleError) throw new InputError(error.message);
		throw error;
	}
	if (opts.plan) {
		if (info.budgetSource.startsWith('assumed')) io.note(`note: budget ${info.budgetSource}\n`);
		if (opts.json)
			io.write(
				JSON.stringify({
					profile: loaded.name,
					budgetMiB: plan.budgetMiB,
					budgetSource: info.budgetSource,
					images: Object.fromEntries([...plan.images].map(([n, i]) => [n, i.ref])),
					steps: plan.steps,
					schedule: plan.schedule,
				}) + '\n',
			);
		else io.write(`${formatPlan(plan)}\n`);
		return 0;
	}

	// Runs hold Secrets and logs, clusters hold kubeconfigs: both owner-only, like the state dir.
	privateStateDir('runs');
	privateStateDir('clusters');
	mkdirSync(join(runDir, 'steps'), {recursive: true, mode: 0o700});
	mkdirSync(clusterDir, {recursive: true, mode: 0o700});
	const coverdataDir = opts.provider === 'kind' ? join(runDir, 'coverdata') : '/coverdata';
	if (opts.coverage) {
		mkdirSync(coverdataDir, {recursive: true});
		// The services run as root in the node, but the folder is the host user's: let them write.
		chmodSync(coverdataDir, 0o777);
	}
	if (opts.provider === 'kind')
		writeFileAtomic(
			cluster.configPath!,
			kindConfigYaml({
				nodeImage: opts.nodeImage ?? profile.cluster.nodeImage,
				ports: profile.cluster.ports,
				kubeadmConfigPatches: profile.cluster.kubeadmConfigPatches,
				coverdataHostPath: opts.coverage ? coverdataDir : undefined,
			}),
		);

	const started = Date.now();
	const events: RunEvent[] = [];
	const {createPlainUpRenderer} = await import('../plain/up-lines.js');
	const logLine = createPlainUpRenderer((s) => appendFileSync(join(runDir, 'run.log'), s), {color: false});
	const emit: RunListener = (ev) => {
		if (ev.type === 'step-line') appendFileSync(join(runDir, 'steps', `${ev.id.replace(':', '-')}.log`), `${ev.line}\n`);
		else {
			events.push(ev);
			appendFileSync(join(runDir, 'events.jsonl'), `${JSON.stringify(ev)}\n`);
		}
		logLine(ev);
		io.listener(ev);
	};
	const ac = new AbortController();
	io.onInterrupt(() => {
		ac.abort();
		void killAllChildren();
	});

	let kube: KubePort | undefined;
	const getKube = async (): Promise<KubePort> => {
		if (!kube) {
			const {createKube} = await import('../adapters/kube.js');
			kube = await createKube({kubeconfig: cluster.kubeconfigPath, context: opts.context});
		}
		return kube;
	};
	const portMap = new Map(profile.cluster.ports.map((p) => [p.hostPort, p.containerPort]));
	const diagnose = (text: string, facts?: Parameters<typeof diagnoseText>[2]) => diagnoseText(kb, text, facts);
	const host = createHost();
	const handler = createFlow(
		{
			engine,
			engineInfo: info,
			provider,
			kube: getKube,
			host,
			exec,
			certs: createCerts(exec),
			diagnose,
			snapshot: async (namespace) => {
				const {clusterSnapshot} = await import('./triage.js');
				return clusterSnapshot(
					kb,
					{
						namespace,
						kubeconfig: cluster.kubeconfigPath,
						context: opts.provider === 'existing' ? opts.context : undefined,
						containerdSocket: opts.containerdSocket,
						kindCluster: opts.provider === 'kind' ? cluster.name : undefined,
					},
					{settle: false, timeoutSeconds: 20},
				);
			},
			httpStatus,
			sleep,
			now: Date.now,
			readText: (p) => readFileSync(p, 'utf8'),
			listFiles: filesMatching,
			mkdirp: (p) => mkdirSync(p, {recursive: true}),
			remove: (p) => rmSync(p, {force: true}),
		},
		{
			plan,
			profile,
			cluster,
			sourceDir,
			runDir,
			rebuild: opts.rebuild === true,
			recreate,
			reuse,
			coverdataDir,
			join,
			resolvePath,
			expandFiles,
			// The existing provider has no Kind port mappings: a profile's host port is reached as its NodePort.
			healthUrl: (url) => {
				if (opts.provider === 'kind') return url;
				const u = new URL(url);
				const nodePort = portMap.get(Number(u.port));
				if (nodePort) {
					u.port = String(nodePort);
					u.hostname = opts.nodeAddress ?? u.hostname;
				}
				return u.toString();
			},
		},
	);

	emit({
		type: 'run-start',
		at: started,
		runId,
		runDir,
		profile: loaded.name,
		provider: opts.provider,
		engine: `${info.engine} ${info.version}`,
		budgetMiB: plan.budgetMiB,
		budgetSource: info.budgetSource,
		steps: plan.steps,
	});
	const saveHistory = () => writeFileAtomic(historyPath(), `${JSON.stringify(history, null, 2)}\n`);
	const result: RunGraphResult = await runGraph({
		maxBuilds: opts.buildJobs,
		steps: plan.steps,
		schedule: plan.schedule,
		budgetMiB: plan.budgetMiB,
		handler,
		emit: (ev) => {
			emit(ev);
			if (ev.type === 'step-end') {
				const key = `${loaded.name}/${ev.id}`;
				if (ev.state === 'done') history = recordDuration(history, key, ev.durationMs);
				if (ev.peakMiB && ev.state === 'done') history = recordPeak(history, key, ev.peakMiB, new Date(ev.at).toISOString());
				saveHistory();
			}
		},
		now: Date.now,
		signal: ac.signal,
		onOom: (step, failure) => {
			const r = recordOom(
				history,
				`${loaded.name}/${step.id}`,
				step.memoryMiB,
				failure.details.peakMiB,
				plan.budgetMiB,
				new Date().toISOString(),
			);
			history = r.history;
			saveHistory();
			return r.miB;
		},
	});

	let findings: Finding[] = [];
	let bundle: string | undefined;
	const clusterUp = reuse || result.results.get('cluster')?.state === 'done';
	if (result.failed) {
		findings = topFindings(result.failed.error?.details.findings);
		emit({type: 'diagnosis', at: Date.now(), step: result.failed.id, findings});
		if (clusterUp || result.failed.id === 'cluster') {
			const kubeNow = clusterUp ? await getKube().catch(() => undefined) : undefined;
			const b = await collectBundle(
				{kube: kubeNow, provider, cluster, engineInfo: info, write: writeFileAtomic, mkdirp: (p) => mkdirSync(p, {recursive: true}), join},
				join(runDir, 'bundle'),
				profile.namespace,
			).catch(() => undefined);
			bundle = b?.dir;
		}
		if (opts.cleanup && opts.provider === 'kind' && clusterUp && !reuse) await provider.delete(cluster).catch(() => undefined);
	}
	const took = Date.now() - started;
	const resumeFlags = [
		`--profile ${loaded.name}`,
		...(opts.source ? [`--source ${opts.source}`] : []),
		...(opts.provider !== 'kind' ? [`--provider ${opts.provider}`] : []),
		...(opts.imagesOnly ? ['--images-only'] : []),
		...(clusterUp && opts.provider === 'kind' && !opts.cleanup ? ['--reuse'] : []),
	].join(' ');
	const message =
		result.ok && opts.imagesOnly
			? `images of ${loaded.name} ready in ${Math.round(took / 1000)}s: ${[...plan.images.values()].map((i) => i.ref).join(', ')}`
			: result.ok
				? `${loaded.name} is up in ${Math.round(took / 1000)}s: namespace ${profile.namespace}, kubeconfig ${cluster.kubeconfigPath}`
				: result.cancelled
					? `stopped: every child process ended; built images are kept (the next run skips them)`
					: `${result.failed!.id} failed: ` +
						`${result.failed!.note ?? 'see the step output'}` +
						`${clusterUp && !opts.cleanup && opts.provider === 'kind' ? `; cluster ${cluster.name} kept for inspection` : ''}`;
	const resume = result.ok ? undefined : `kdoctor up ${resumeFlags}`;
	emit({type: 'run-end', at: Date.now(), ok: result.ok, durationMs: took, runDir, message, resume, bundle});
	writeRunRecord(runDir, {
		runId,
		profile: loaded.name,
		kdoctor: kdoctorVersion(),
		// The command as it was typed (after `kdoctor`), so a fix can re-run it exactly with changed settings.
		invocation: opts.invocation,
		cwd: process.cwd(),
		provider: opts.provider,
		cluster: cluster.name,
		kubeconfig: cluster.kubeconfigPath,
		namespace: profile.namespace,
		engine: info,
		budgetMiB: plan.budgetMiB,
		coverage: plan.coverage,
		images: Object.fromEntries([...plan.images].map(([n, i]) => [n, i.ref])),
		steps: [...result.results.values()],
		ok: result.ok,
		cancelled: result.cancelled,
		failedStep: result.failed?.id,
		findings,
		bundle,
		startedAt: new Date(started).toISOString(),
		durationMs: took,
	});
	writeFileAtomic(join(stateDir(), 'runs', 'latest'), `${runId}\n`);
	await io.done?.();
	return result.ok ? 0 : result.cancelled ? 130 : 1;
}

/** One GET with a timeout; a refused or reset connection is an answer ("connection refused"), not a throw. */
async function httpStatus(url: string, timeoutMs: number, signal: AbortSignal): Promise<number | string> {
	try {
		const r = await fetch(url, {signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]), redirect: 'manual'});
		await r.body?.cancel();
		return r.status;
	} catch (error) {
		const cause = (error as {cause?: {code?: string}}).cause?.code;
		if (cause === 'ECONNREFUSED') return 'connection refused';
		if (cause === 'ECONNRESET') return 'connection reset';
		if ((error as Error).name === 'TimeoutError') return `no answer within ${timeoutMs / 1000}s`;
		return (error as Error).message;
	}
}
