import {OUTPUT_SCHEMA_VERSION} from '../core/output-schema.js';
import {createLivePort, type LiveOptions} from '../adapters/kube-live.js';
import {diagnoseText} from '../core/diagnose/diagnose.js';
import type {Facts, Finding} from '../core/diagnose/score.js';
import type {CompiledKb} from '../core/kb/compile.js';
import {createTriage, LIVE_KINDS, type TriageSnapshot, type TriageWorkload} from '../core/cluster/engine.js';
import type {LivePort, LiveSink} from '../core/cluster/ports.js';
import {findingJson, makePaint} from '../plain/format.js';

type Out = {write(s: string): void};

export type TriageOptions = LiveOptions & {namespace?: string; allNamespaces?: boolean};

/** What the engine needs from the world: the KB's diagnosis, the port's logs and node images, the clock. */
function triageDeps(c: CompiledKb, live: LivePort) {
	return {
		diagnose: (text: string, facts?: Facts) => diagnoseText(c, text, facts),
		logs: (ns: string, pod: string, container: string, o: {previous?: boolean; tailLines?: number}) => live.logs(ns, pod, container, o),
		nodeImages: live.nodeImages ? () => live.nodeImages!() : undefined,
		now: () => Date.now(),
		setTimer: (fn: () => void, ms: number) => setTimeout(fn, ms),
		clearTimer: (t: unknown) => clearTimeout(t as NodeJS.Timeout),
	};
}

/** Starts the live engine on a cluster: watches in, snapshots out (to the screen, or once for --json). */
export async function startTriage(
	c: CompiledKb,
	opts: TriageOptions,
	onUpdate: (s: TriageSnapshot) => void,
	signal: AbortSignal,
	port?: LivePort,
	engine: {settle?: boolean} = {},
) {
	const live = port ?? (await createLivePort(opts));
	const triage = createTriage(triageDeps(c, live), {
		namespace: opts.allNamespaces ? undefined : opts.namespace,
		onUpdate,
		settle: engine.settle,
	});
	live.subscribe(opts.allNamespaces ? undefined : opts.namespace, triage.sink, signal);
	signal.addEventListener('abort', () => triage.stop(), {once: true});
	return triage;
}

/** A sink that keeps what arrives until the engine is there, then hands it over in order and passes the rest through. */
function bufferedSink(): {sink: LiveSink; attach(to: LiveSink): void} {
	const held: ((s: LiveSink) => void)[] = [];
	let target: LiveSink | undefined;
	const via = (f: (s: LiveSink) => void) => (target ? f(target) : held.push(f));
	return {
		sink: {
			reset: (k, items) => via((s) => s.reset(k, items)),
			upsert: (k, item) => via((s) => s.upsert(k, item)),
			remove: (k, uid) => via((s) => s.remove(k, uid)),
			status: (st) => via((s) => s.status(st)),
		},
		attach(to) {
			target = to;
			for (const f of held.splice(0)) f(to);
		},
	};
}

/** A compiled KB, or how to get one: a one-look command starts reading the cluster while the KB loads. */
export type KbLoader = CompiledKb | (() => Promise<CompiledKb>);

/**
 * The first complete snapshot of the one live engine (every kind listed once, every troubled workload diagnosed), or
 * what it has at the timeout: what triage --json prints and what diagnose -n and fix -n act on.
 */
export async function clusterSnapshot(
	kb: KbLoader,
	opts: TriageOptions,
	o: {settle?: boolean; timeoutSeconds?: number} = {},
	port?: LivePort,
): Promise<TriageSnapshot> {
	const ac = new AbortController();
	let resolveDone: (s: TriageSnapshot) => void = () => undefined;
	const done = new Promise<TriageSnapshot>((r) => (resolveDone = r));
	// Every resource failed its first list: nothing will be complete soon, say so now rather than at the timeout.
	const unreachable = (s: TriageSnapshot) =>
		s.resources.length === LIVE_KINDS.length && s.resources.every((r) => r.state === 'retrying' && r.relists === 0);
	// One look: every kind listed once (over node:https where the kubeconfig allows), no watch; the requests go out
	// before the KB is loaded, so the two overlap.
	const namespace = opts.allNamespaces ? undefined : opts.namespace;
	const live = port ?? (await createLivePort(opts, {once: true}));
	const buffer = bufferedSink();
	live.subscribe(namespace, buffer.sink, ac.signal);
	let triage: ReturnType<typeof createTriage>;
	try {
		const c = typeof kb === 'function' ? await kb() : kb;
		triage = createTriage(triageDeps(c, live), {
			namespace,
			onUpdate: (s) => (s.complete || unreachable(s)) && resolveDone(s),
			settle: o.settle,
		});
	} catch (error) {
		ac.abort();
		throw error;
	}
	buffer.attach(triage.sink);
	const timeout = setTimeout(() => resolveDone(triage.snapshot()), (o.timeoutSeconds ?? 30) * 1000);
	const snap = await done;
	clearTimeout(timeout);
	ac.abort();
	triage.stop();
	if (unreachable(snap)) {
		const why = [...new Set(snap.resources.map((r) => r.message ?? r.state))];
		throw new Error(
			`${why.length === 1 ? why[0] : why.join('; ')}: nothing could be read (is the cluster running? kubectl cluster-info checks the same)`,
		);
	}
	return snap;
}

/** `kdoctor triage --json` (or plain, off a terminal): the first complete triage, printed once. */
export async function triageOnce(
	c: KbLoader,
	opts: TriageOptions & {json?: boolean; timeoutSeconds?: number; color?: boolean},
	out: Out,
): Promise<number> {
	const snap = await clusterSnapshot(c, opts, {timeoutSeconds: opts.timeoutSeconds});
	out.write(opts.json ? JSON.stringify(triageJson(snap)) + '\n' : triageText(snap, opts.color ?? false));
	if (!snap.complete || snap.couldNotLook.length > 0) return 2;
	return snap.failing.some((w) => (w.findings[0]?.confidence ?? 0) >= 0.5) ? 1 : 0;
}

/** The foundation's finding contract, per workload; every piece of evidence came from the cluster. */
export function triageJson(s: TriageSnapshot) {
	const row = (w: TriageWorkload) => ({
		workload: {kind: w.kind, name: w.name, namespace: w.namespace},
		state: w.state,
		...(w.final ? {final: w.final} : {}),
		pods: w.troubled.map((p) => ({name: p.name, phase: p.phase, containers: p.containers})),
		findings: w.findings.map((f: Finding) => {
			const j = findingJson(f);
			return {...j, evidence: j.evidence.map((e) => ({...e, source: 'cluster'}))};
		}),
		...(w.couldNotRead.length ? {couldNotRead: w.couldNotRead} : {}),
	});
	return {
		source: 'cluster',
		namespace: s.namespace ?? null,
		complete: s.complete,
		pods: s.pods,
		workloads: s.workloads,
		healthy: s.healthy,
		couldNotLook: s.couldNotLook,
		failing: s.failing.map(row),
		settling: s.settling.map(row),
		schemaVersion: OUTPUT_SCHEMA_VERSION,
	};
}

export function triageText(s: TriageSnapshot, color: boolean): string {
	const paint = makePaint(color);
	const where = s.namespace ? `namespace ${s.namespace}` : 'all namespaces';
	const lines = [
		`${where}: ${s.pods} pods in ${s.workloads} workloads; ${s.healthy} healthy, ${s.failing.length} failing, ` +
			`${s.settling.length} settling${s.complete ? '' : ' (incomplete: not everything could be read in time)'}`,
	];
	for (const c of s.couldNotLook) lines.push(paint.yellow(`could not look: ${c}`));
	for (const w of s.failing) {
		const f = w.findings[0];
		lines.push(
			'',
			`${paint.red('✗')} ` +
				`${paint.bold(`${w.kind.toLowerCase()}/${w.name}`)}` +
				`${f ? `  ${f.title}  ${paint.dim(`[${f.id} · ${Math.round(f.confidence * 100)}%]`)}` : '  no known cause'}`,
		);
		if (w.final) lines.push(`    ${w.final}`);
		for (const e of f?.evidence.slice(0, 4) ?? []) lines.push(`    ${paint.cyan('cluster')}  ${e.text.trim()}`);
		if (f?.remediations.length) lines.push(`    fixes: ${f.remediations.map((r) => `[${r.key}] ${r.title}`).join('  ')}`);
		for (const c of w.couldNotRead) lines.push(paint.yellow(`    could not read: ${c}`));
	}
	for (const w of s.settling)
		lines.push('', `${paint.yellow('…')} ${w.kind.toLowerCase()}/${w.name}: not ready yet, within its grace period`);
	return lines.join('\n') + '\n';
}
