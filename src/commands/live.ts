import {createKube} from '../adapters/kube.js';
import type {Diagnosis} from '../core/diagnose/diagnose.js';
import {REPORT_CONFIDENCE, type Finding} from '../core/diagnose/score.js';
import type {CompiledKb} from '../core/kb/compile.js';
import {displayTemplate, templateVars} from '../core/kb/template.js';
import type {TriageSnapshot, TriageWorkload} from '../core/cluster/engine.js';
import type {JournalEntry} from '../core/ports.js';
import type {KubePort, PodFacts} from '../core/provision/ports.js';
import {planKubeFix, type KubeFixPlan, type VerifyResult} from '../core/remediate/kube-fix.js';
import {offeredFixes, withheldReason} from '../core/remediate/plan.js';
import {InputError} from '../adapters/input.js';
import {diagnosisJson, diagnosisText, makePaint} from '../plain/format.js';
import {quoteArg} from '../plain/quote.js';
import {changeService} from './changes.js';
import {clusterSnapshot, type KbLoader} from './triage.js';

type Out = {write(s: string): void};

export type LiveOptions = {namespace: string; kubeconfig?: string; context?: string; containerdSocket?: string; kindCluster?: string};

/** The workload of a one-shot snapshot as diagnose -n and fix -n report it (its findings are the engine's). */
type LiveRow = {workload: string; kind: string; w: TriageWorkload};

/**
 * One look at the namespace through the one live engine (the same as `triage --json`, without grace periods):
 * every unhealthy workload, controller and object, diagnosed from the cluster.
 */
async function snapshotRows(c: KbLoader, opts: LiveOptions): Promise<{snap: TriageSnapshot; rows: LiveRow[]}> {
	const snap = await clusterSnapshot(c, {...opts, namespace: opts.namespace}, {settle: false, timeoutSeconds: 30});
	return {snap, rows: snap.failing.map((w) => ({workload: w.name, kind: w.kind, w}))};
}

/** `kdoctor diagnose --namespace NS`: every unhealthy workload of the namespace, diagnosed from the live cluster. */
export async function diagnoseLiveCommand(
	c: KbLoader,
	opts: LiveOptions & {json?: boolean; verbose?: boolean; color?: boolean},
	out: Out,
): Promise<number> {
	const {snap, rows} = await snapshotRows(c, opts);
	const diagnosis = (w: TriageWorkload): Diagnosis => ({status: 'ok', findings: w.findings, stats: {bytes: 0, lines: 0}});
	if (opts.json) {
		for (const r of rows)
			out.write(
				JSON.stringify({
					...diagnosisJson(`${opts.namespace}/${r.workload}`, diagnosis(r.w)),
					workload: r.workload,
					kind: r.kind,
					pods: r.w.troubled.map((p) => p.name),
				}) + '\n',
			);
		if (rows.length === 0)
			out.write(
				JSON.stringify({file: opts.namespace, status: snap.pods === 0 ? 'no-pods' : 'ok', workload: null, pods: snap.pods, findings: []}) +
					'\n',
			);
	} else if (rows.length === 0) {
		out.write(
			snap.pods === 0
				? `namespace ${opts.namespace} has no pods (does it exist? kdoctor looked with ` +
						`${opts.context ? `context ${opts.context}` : 'the current context'})\n`
				: `namespace ${opts.namespace}: all ${snap.pods} pods are ready\n`,
		);
	} else {
		const paint = makePaint(opts.color ?? false);
		out.write(
			rows
				.map((r) =>
					diagnosisText(
						`${opts.namespace}/${r.kind.toLowerCase()}/${r.workload}` +
							`${r.w.troubled.length ? ` (${r.w.troubled.length} pod${r.w.troubled.length === 1 ? '' : 's'} not ready)` : ''}`,
						diagnosis(r.w),
						paint,
						opts.verbose,
					),
				)
				.join('\n'),
		);
	}
	if (snap.couldNotLook.length > 0 && !opts.json) out.write(`could not look: ${snap.couldNotLook.join('; ')}\n`);
	return rows.some((r) => (r.w.findings[0]?.confidence ?? 0) >= REPORT_CONFIDENCE) ? 1 : 0;
}

export type LiveFixOptions = LiveOptions & {
	workload?: string;
	key?: string;
	value?: string;
	yes?: boolean;
	dryRun?: boolean;
	json?: boolean;
	timeoutSeconds?: number;
	signal?: AbortSignal;
};

/** `kdoctor fix ID --namespace NS`: finds ID live, previews the patch, and with --yes applies, verifies and journals it. */
export async function fixLiveCommand(c: CompiledKb, id: string, opts: LiveFixOptions, out: Out): Promise<number> {
	const entry = c.kb.byId.get(id);
	if (!entry) throw new Error(`no entry "${id}" (kdoctor kb list shows them)`);
	const {snap, rows} = await snapshotRows(c, opts);
	const hit = pickWorkload(rows, id, opts.workload);
	if (!hit) {
		const where = opts.workload ? `workload ${opts.workload} of namespace ${opts.namespace}` : `namespace ${opts.namespace}`;
		const seen = rows.length
			? ` (found: ${rows.map((r) => `${r.workload}: ${r.w.findings[0]?.id ?? 'nothing known'}`).join(', ')})`
			: snap.pods === 0
				? ': it has no pods'
				: ': every pod is ready';
		out.write(`${id} was not found in ${where}${seen}: nothing to fix\n`);
		return 1;
	}
	const {row, finding} = hit;
	const kube = await createKube({kubeconfig: opts.kubeconfig, context: opts.context});
	const images = await nodeImagesFor(opts, kube);
	const plan = await planLiveFix(c, kube, images, {
		namespace: opts.namespace,
		workload: row.workload,
		pods: row.w.troubled,
		finding,
		key: opts.key,
		value: opts.value,
	});
	const json: Record<string, unknown> = {finding: id, confidence: finding.confidence, workload: row.workload, plan: planJson(plan)};
	if (!opts.json) out.write(describeKubePlan(plan, finding.confidence));
	if (plan.status !== 'ready') {
		if (opts.json) out.write(JSON.stringify(json) + '\n');
		return 1;
	}
	if (opts.dryRun || !opts.yes) {
		if (opts.json) out.write(JSON.stringify(json) + '\n');
		else out.write(opts.dryRun ? 'dry run: nothing changed\n' : 'preview only: add --yes to apply\n');
		return 0;
	}
	if (finding.confidence < REPORT_CONFIDENCE)
		throw new Error(`${id} is only a possible finding here (${Math.round(finding.confidence * 100)}%): nothing was changed`);
	if (!opts.json) out.write(`applying; then watching the rollout of deployment/${plan.deployment}…\n`);
	const {record, verify: v} = await applyLiveFix(kube, plan, opts, {
		timeoutMs: (opts.timeoutSeconds ?? 120) * 1000,
		signal: opts.signal ?? new AbortController().signal,
	});
	json.applied = record.id;
	json.verify = v;
	if (opts.json) out.write(JSON.stringify(json) + '\n');
	else out.write(`${v.ok ? 'verified' : 'NOT verified'}: ${v.message} (${(v.ms / 1000).toFixed(1)}s)\nkdoctor undo reverts it\n`);
	return v.ok ? 0 : 1;
}

/** The node's own image list when kdoctor can reach it (what the kubelet will match), else as the node status reports it. */
async function nodeImagesFor(opts: LiveOptions, kube: KubePort): Promise<() => Promise<string[] | undefined>> {
	const {nodeImageSource} = await import('../adapters/kube-live.js');
	return (await nodeImageSource(opts)) ?? (() => kube.nodeImages());
}

/** The patch a finding's live fix would make to its workload's Deployment (nothing is changed). */
export async function planLiveFix(
	c: CompiledKb,
	kube: KubePort,
	nodeImages: () => Promise<string[] | undefined>,
	t: {namespace: string; workload: string; pods: PodFacts[]; finding: Finding; key?: string; value?: string},
): Promise<KubeFixPlan> {
	const entry = c.kb.byId.get(t.finding.id);
	if (!entry) throw new Error(`no entry "${t.finding.id}"`);
	const withheld = t.key ? withheldReason(entry, t.finding, t.key) : undefined;
	if (withheld) throw new InputError(withheld);
	const fixes = offeredFixes(entry, t.finding);
	const patchable = fixes.filter((r) => r.kind === 'kube-patch' && r.patch);
	const rem = t.key ? fixes.find((r) => r.key === t.key) : patchable[0];
	if (!rem)
		throw new Error(
			t.key
				? `${entry.id} has no fix on key "${t.key}" (kdoctor kb show ${entry.id})`
				: `${entry.id} has no fix kdoctor applies to a live cluster (kdoctor kb show ${entry.id} lists what to do)`,
		);
	const deployment = await kube.deployment(t.namespace, t.workload);
	if (!deployment) throw new Error(`${t.workload} is not a Deployment in ${t.namespace}: kdoctor patches Deployments only`);
	const vars = templateVars(rem, t.finding.captures);
	return planKubeFix(
		entry,
		{
			...rem,
			title: displayTemplate(rem.title, vars),
			patch: rem.patch && {...rem.patch, ask: rem.patch.ask && displayTemplate(rem.patch.ask, vars)},
		},
		{
			namespace: t.namespace,
			deployment,
			pods: t.pods,
			nodeImages: await nodeImages().catch(() => undefined),
			value: t.value,
			captures: t.finding.captures,
		},
	);
}

/** Applies a ready plan through the change service: journaled first, patched, then the rollout watched until healthy or not. */
export function applyLiveFix(
	kube: KubePort,
	plan: KubeFixPlan,
	where: {kubeconfig?: string; context?: string},
	o: {timeoutMs: number; signal: AbortSignal},
): Promise<{record: JournalEntry; verify: VerifyResult}> {
	return changeService().applyPatch(plan, kube, where, o);
}

function pickWorkload(rows: LiveRow[], id: string, workload?: string) {
	for (const row of rows) {
		if (workload && row.workload !== workload) continue;
		const finding = row.w.findings.find((f) => f.id === id);
		if (finding) return {row, finding};
	}
	return undefined;
}

function planJson(p: KubeFixPlan) {
	return {
		key: p.key,
		title: p.title,
		status: p.status,
		reason: p.reason,
		namespace: p.namespace,
		deployment: p.deployment,
		container: p.container,
		field: p.field,
		before: p.before,
		after: p.after,
		patch: p.patch,
	};
}

export function describeKubePlan(p: KubeFixPlan, confidence: number): string {
	let s = `[${p.key}] ${p.title} (kube-patch; finding at ${Math.round(confidence * 100)}%)\n`;
	if (p.diff) s += `\n${p.diff}\n  same as: ${p.kubectl!.map(quoteArg).join(' ')}\n`;
	if (p.status !== 'ready' && p.reason) s += `  ${p.status}: ${p.reason}\n`;
	return s;
}

/** Reverts a journaled live patch, refusing when the field was changed since (someone else's change is kept). */
/** The namespace a kubeconfig context names, as kubectl would use it; "default" when it names none. */
export async function contextNamespace(opts: {kubeconfig?: string; context?: string}): Promise<string> {
	// The light reader knows it when the kubeconfig is one it can read; else client-node reads it.
	const {restConfig} = await import('../adapters/kube-rest.js');
	const rc = restConfig(opts);
	if (rc) return rc.namespace;
	const {kubeconfigNamespace} = await import('../adapters/kube.js');
	return kubeconfigNamespace(opts);
}
