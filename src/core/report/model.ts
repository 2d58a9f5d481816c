import type {EvidenceItem, Finding} from '../diagnose/score.js';
import {shellLine} from '../text/quote.js';
import type {JournalEntry} from '../ports.js';
import type {PlannedStep, RunEvent, StepState} from '../provision/events.js';
import type {EngineInfo} from '../provision/ports.js';
import {emptyTimeline, reduceTimeline} from '../provision/timeline.js';
import {isSecretName, type Redactor} from './redact.js';

/** A step of run.json as the runner left it (StepResult, its error serialised to its details). */
export type RunStepRecord = {
	id: string;
	state: StepState;
	start?: number;
	end?: number;
	attempts?: number;
	note?: string;
	peakMiB?: number;
	error?: {details?: {findings?: Finding[]}};
};

/** run.json as `kdoctor up` writes it; older runs may lack the optional parts. */
export type RunRecord = {
	runId: string;
	profile: string;
	/** The kdoctor version that made the run. */
	kdoctor?: string;
	invocation?: string[];
	cwd?: string;
	provider?: string;
	cluster?: string;
	kubeconfig?: string;
	namespace?: string;
	engine?: EngineInfo;
	budgetMiB?: number;
	coverage?: boolean;
	images?: Record<string, string>;
	steps: RunStepRecord[];
	ok: boolean;
	cancelled?: boolean;
	failedStep?: string;
	findings?: Finding[];
	bundle?: string;
	startedAt: string;
	durationMs: number;
};

/** What is wrong with a run.json, in one line; undefined when it is one kdoctor up wrote. */
export function runRecordProblem(value: unknown): string | undefined {
	if (!value || typeof value !== 'object' || Array.isArray(value)) return 'not a JSON object';
	const r = value as Partial<RunRecord>;
	if (typeof r.runId !== 'string') return 'no runId';
	if (!Array.isArray(r.steps)) return 'no steps';
	if (typeof r.startedAt !== 'string' || Number.isNaN(Date.parse(r.startedAt))) return 'no startedAt';
	if (typeof r.ok !== 'boolean') return 'no result (ok)';
	return undefined;
}

export type ReportInputs = {
	/** Where the run folder is now (it may have been copied from another machine). */
	runDir: string;
	run: RunRecord;
	events: RunEvent[];
	/** Lines of events.jsonl that could not be read. */
	damagedEvents: number;
	/** Every journal entry kdoctor can see; the model keeps those that belong to the run. */
	journal: JournalEntry[];
	/** When the next run into the same namespace started (ISO): later live patches belong to that one. */
	until?: string;
	/** The failed step's own output, last lines first to last. */
	failedLog?: {file: string; lines: string[]; total: number};
	bundle?: {dir: string; files: {path: string; bytes: number}[]; truncated: boolean};
	/** The kdoctor writing the report. */
	kdoctorVersion: string;
	/** Where the run's secret values came from, said in the report so a reader knows what was looked for. */
	secretSources: string[];
	/** What could not be looked at (the profile's manifests on another machine). */
	notes: string[];
};

export type ReportSpan = {startMs: number; endMs: number; state: StepState; attempt: number; retried: boolean};

export type ReportStep = {
	id: string;
	title: string;
	state: StepState;
	/** Skipped because the image or cluster was already there ("cached: …", "the node already holds …"). */
	cached: boolean;
	/** From the run's start, ms; undefined for a step that never started. */
	startMs?: number;
	durationMs?: number;
	note?: string;
	peakMiB?: number;
	attempts: number;
	spans: ReportSpan[];
	retries: {atMs: number; attempt: number; reason: string}[];
	/** The step the run failed at. */
	failed: boolean;
};

export type ReportEvidence = {source: string; line?: number; text: string};
export type ReportFinding = {
	id: string;
	title: string;
	confidence: number;
	layer: string;
	summary: string;
	step?: string;
	recovered: boolean;
	evidence: ReportEvidence[];
	fixes: {key: string; title: string; kind: string}[];
};

export type ReportFix = {
	at: string;
	finding: string;
	key: string;
	title: string;
	kind: JournalEntry['kind'];
	/** What it changed: a Deployment's field, files, a command. */
	target: string;
	change?: string;
	result: string;
	verified?: boolean;
	undone?: string;
};

export type ReportModel = {
	runId: string;
	profile: string;
	result: 'ok' | 'failed' | 'cancelled';
	failedStep?: string;
	message?: string;
	startedAt: string;
	durationMs: number;
	resume?: string;
	/** The axis of the chart: from the run's start to its end, ms. */
	spanMs: number;
	steps: ReportStep[];
	findings: ReportFinding[];
	fixes: ReportFix[];
	environment: {label: string; value: string}[];
	images: {name: string; ref: string}[];
	bundle?: {dir: string; files: {path: string; bytes: number}[]; truncated: boolean};
	failedLog?: {step: string; file: string; lines: string[]; total: number};
	runDir: string;
	secretSources: string[];
	notes: string[];
};

/** Cache hits end as skipped with a note saying why; they are drawn apart from steps skipped for other reasons. */
export function isCached(state: StepState, note: string | undefined): boolean {
	return state === 'skipped' && note !== undefined && /^(cached\b|the node already holds)/.test(note);
}

/**
 * The steps on the run's time axis. The spans come from the same reducer the `up` screen draws its Gantt
 * from, so a retried build shows the same two segments here; run.json fills in steps without events.
 */
function reportSteps(inputs: ReportInputs, t0: number, redact: Redactor): ReportStep[] {
	const up = reduceTimeline(emptyTimeline(), inputs.events);
	const planned = new Map<string, PlannedStep>(
		(inputs.events.find((e) => e.type === 'run-start') as Extract<RunEvent, {type: 'run-start'}> | undefined)?.steps.map((s) => [
			s.id,
			s,
		]) ?? [],
	);
	const records = new Map(inputs.run.steps.map((s) => [s.id, s]));
	const ids = [...new Set([...up.order, ...inputs.run.steps.map((s) => s.id)])];
	const steps = ids.map((id): ReportStep => {
		const live = up.steps[id];
		const rec = records.get(id);
		let spans: ReportSpan[] = (live?.spans ?? []).map((sp, i, all) => ({
			startMs: sp.start - t0,
			endMs: (sp.end ?? sp.start) - t0,
			state: sp.state,
			attempt: sp.attempt,
			retried: i < all.length - 1,
		}));
		if (spans.length === 0 && rec?.start !== undefined)
			spans = [{startMs: rec.start - t0, endMs: (rec.end ?? rec.start) - t0, state: rec.state, attempt: rec.attempts ?? 1, retried: false}];
		const state = rec?.state ?? live?.state ?? 'waiting';
		const note = rec?.note ?? live?.note;
		return {
			id,
			title: planned.get(id)?.title ?? live?.title ?? id,
			state,
			cached: isCached(state, note),
			startMs: spans[0]?.startMs,
			durationMs: live?.durationMs ?? (rec?.start !== undefined && rec.end !== undefined ? rec.end - rec.start : undefined),
			note: note === undefined ? undefined : redact.text(note),
			peakMiB: rec?.peakMiB ?? live?.peakMiB,
			attempts: Math.max(rec?.attempts ?? 0, live?.attempt ?? 0),
			spans,
			retries: (live?.retries ?? []).map((r) => ({atMs: r.at - t0, attempt: r.attempt, reason: redact.text(r.reason)})),
			failed: id === inputs.run.failedStep,
		};
	});
	// Start order; steps that never started keep their plan order after them.
	const started = steps.filter((s) => s.startMs !== undefined).sort((a, b) => a.startMs! - b.startMs!);
	return [...started, ...steps.filter((s) => s.startMs === undefined)];
}

function evidenceSource(e: EvidenceItem, step: string | undefined): string {
	if (e.source !== 'text') return e.source;
	if (e.file) return e.file;
	return step ? `output of ${step}` : 'run output';
}

function reportFinding(f: Finding, step: string | undefined, recovered: boolean, redact: Redactor): ReportFinding {
	return {
		id: f.id,
		title: f.title,
		confidence: f.confidence,
		layer: f.layer,
		summary: redact.text(f.summary),
		step,
		recovered,
		evidence: f.evidence.map((e) => ({source: evidenceSource(e, step), line: e.line ?? undefined, text: redact.text(e.text)})),
		fixes: f.remediations.map((r) => ({key: r.key, title: redact.text(r.title), kind: r.kind})),
	};
}

/** The run's findings: what it failed on, then what a retry recovered from (an OOM-killed build run again). */
function reportFindings(inputs: ReportInputs, redact: Redactor): ReportFinding[] {
	const {run, events} = inputs;
	const diagnosis = events.find((e) => e.type === 'diagnosis') as Extract<RunEvent, {type: 'diagnosis'}> | undefined;
	const failedStep = run.failedStep ?? diagnosis?.step;
	const main = (run.findings && run.findings.length > 0 ? run.findings : (diagnosis?.findings ?? [])).map((f) =>
		reportFinding(f, failedStep, false, redact),
	);
	const retried = events
		.filter((e): e is Extract<RunEvent, {type: 'step-retry'}> => e.type === 'step-retry' && e.finding !== undefined)
		.map((e) => reportFinding(e.finding!, e.id, true, redact));
	const seen = new Set<string>();
	return [...main, ...retried].filter((f) => {
		const k = `${f.step}/${f.id}`;
		if (seen.has(k)) return false;
		seen.add(k);
		return true;
	});
}

/** "verified in 4.2s", "did not verify: …", "not verified (no check)": what the journal says a fix achieved. */
export function fixResult(entry: JournalEntry, formatMs: (ms: number) => string): {text: string; verified?: boolean} {
	const v = entry.verify;
	if (v)
		return v.ok
			? {text: v.ms !== undefined ? `verified in ${formatMs(v.ms)}` : 'verified', verified: true}
			: {text: `did not verify: ${v.message}`, verified: false};
	if (entry.kind === 'kube-patch') return {text: 'not recorded (made before kdoctor journaled the rollout check)'};
	return {text: 'not verified (no check)'};
}

/** Whether a path names a file of this run: in its folder now, or in the folder it had where it was made. */
function inRun(path: string, runDir: string, runId: string): boolean {
	const dir = runDir.replace(/\/+$/, '');
	return path.startsWith(`${dir}/`) || path.includes(`/runs/${runId}/`);
}

/**
 * The journal entries that belong to the run: live patches of its namespace made after it started (and before
 * the next run into that namespace), and fixes whose evidence was one of its files (`fix --from RUN/steps/…`).
 */
export function runJournal(run: RunRecord, runDir: string, journal: JournalEntry[], until?: string): JournalEntry[] {
	const start = Date.parse(run.startedAt);
	const end = until ? Date.parse(until) : Infinity;
	return journal
		.filter((e) => {
			const at = Date.parse(e.at);
			if (e.from?.some((p) => inRun(p, runDir, run.runId))) return true;
			return e.kind === 'kube-patch' && e.kube?.namespace === run.namespace && at >= start && at < end;
		})
		.sort((a, b) => a.at.localeCompare(b.at) || a.id.localeCompare(b.id));
}

function reportFix(e: JournalEntry, redact: Redactor, formatMs: (ms: number) => string): ReportFix {
	const r = fixResult(e, formatMs);
	let target: string;
	let change: string | undefined;
	if (e.kube) {
		const k = e.kube;
		target = `deployment/${k.deployment} (container ${k.container}, namespace ${k.namespace})`;
		if (k.field === 'restart') change = 'rollout restart';
		else {
			// An env var's value is the secret when its name says so: neither side is shown.
			const hidden = k.field.startsWith('env ') && isSecretName(k.field.slice(4));
			const show = (v: string | undefined) => (v === undefined ? 'unset' : hidden ? redact.hide(v) : redact.text(v));
			change = `${k.field}: ${show(k.before)} → ${show(k.after)}`;
		}
	} else if (e.files.length > 0) target = e.files.map((f) => f.path).join(', ');
	else target = e.kind === 'command' ? 'a command' : '—';
	return {
		at: e.at,
		finding: e.finding,
		key: e.remediation,
		title: redact.text(e.title),
		kind: e.kind,
		target: redact.text(target),
		change,
		result: redact.text(r.text),
		verified: r.verified,
		undone: e.undone,
	};
}

function environment(inputs: ReportInputs, redact: Redactor): {label: string; value: string}[] {
	const {run} = inputs;
	const e = run.engine;
	const rows: {label: string; value: string}[] = [];
	const add = (label: string, value: string | number | undefined) => {
		if (value !== undefined && value !== '') rows.push({label, value: redact.text(String(value))});
	};
	add(
		'kdoctor',
		run.kdoctor
			? `${run.kdoctor} (made the run); report by ${inputs.kdoctorVersion}`
			: `report by ${inputs.kdoctorVersion} (the run did not record its version)`,
	);
	if (e) {
		add('engine', `${e.engine} ${e.version}${e.rootless ? ' (rootless)' : ''}`);
		add('architecture', e.arch);
		add('OS', e.os);
		add('CPUs', e.cpus || undefined);
		add('memory', e.memTotalMiB ? `${e.memTotalMiB} MiB` : undefined);
		add('peak memory measured', e.measuresPeak ? 'yes (cgroup accounting)' : 'no');
		if (e.machine)
			add(
				'podman machine',
				`${e.machine.name}: ${e.machine.cpus} CPUs, ${e.machine.memoryMiB} MiB, ${e.machine.diskGiB} ` +
					`GiB disk, ${e.machine.rootful ? 'rootful' : 'rootless'}, ${e.machine.state}`,
			);
	}
	add('budget', run.budgetMiB !== undefined ? `${run.budgetMiB} MiB${e?.budgetSource ? ` (${e.budgetSource})` : ''}` : undefined);
	add('provider', run.provider);
	add('cluster', run.cluster);
	add('namespace', run.namespace);
	add('kubeconfig', run.kubeconfig);
	add('coverage', run.coverage ? 'on (GOFLAGS=-cover)' : undefined);
	add('command', run.invocation ? shellLine(['kdoctor', ...run.invocation]) : undefined);
	add('working folder', run.cwd);
	return rows;
}

/** The whole report as data: every text from the run has been through the redactor. */
export function buildReportModel(inputs: ReportInputs, redact: Redactor, formatMs: (ms: number) => string): ReportModel {
	const {run, events} = inputs;
	const start = events.find((e) => e.type === 'run-start');
	const end = events.find((e) => e.type === 'run-end') as Extract<RunEvent, {type: 'run-end'}> | undefined;
	const t0 = start?.at ?? Date.parse(run.startedAt);
	const steps = reportSteps(inputs, t0, redact);
	const lastEnd = Math.max(0, ...steps.flatMap((s) => s.spans.map((sp) => sp.endMs)));
	const durationMs = run.durationMs ?? end?.durationMs ?? lastEnd;
	return {
		runId: run.runId,
		profile: run.profile,
		result: run.ok ? 'ok' : run.cancelled ? 'cancelled' : 'failed',
		failedStep: run.failedStep,
		message: end?.message === undefined ? undefined : redact.text(end.message),
		startedAt: run.startedAt,
		durationMs,
		resume: end?.resume === undefined ? undefined : redact.text(end.resume),
		spanMs: Math.max(durationMs, lastEnd, 1),
		steps,
		findings: reportFindings(inputs, redact),
		fixes: runJournal(run, inputs.runDir, inputs.journal, inputs.until).map((e) => reportFix(e, redact, formatMs)),
		environment: environment(inputs, redact),
		images: Object.entries(run.images ?? {}).map(([name, ref]) => ({name, ref})),
		bundle: inputs.bundle,
		failedLog:
			inputs.failedLog && run.failedStep
				? {
						step: run.failedStep,
						file: inputs.failedLog.file,
						total: inputs.failedLog.total,
						lines: inputs.failedLog.lines.map((l) => redact.text(l)),
					}
				: undefined,
		runDir: inputs.runDir,
		secretSources: inputs.secretSources,
		notes: [
			...inputs.notes,
			...(inputs.damagedEvents > 0
				? [
						`events.jsonl: ${inputs.damagedEvents} ` +
							`line${inputs.damagedEvents === 1 ? ' could not be read and was' : 's could not be read and were'} left out`,
					]
				: []),
		],
	};
}
