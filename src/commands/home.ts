import {existsSync, readFileSync} from 'node:fs';
import {join} from 'node:path';
import {stateDir} from '../adapters/journal.js';
import {tryRunRecord} from './run-record.js';
import {isRunId, stepLogPath} from '../core/run-folder.js';
import {loadProfiles} from './profiles.js';

/** The newest `kdoctor up` run as its run.json tells it. */
export type LastRun = {
	runId: string;
	runDir: string;
	profile: string;
	ok: boolean;
	cancelled: boolean;
	failedStep?: string;
	finding?: {id: string; title: string; confidence: number};
	startedAt?: string;
	durationMs?: number;
	namespace?: string;
	kubeconfig?: string;
};

export type HomeState = {
	/** No run and nothing learned yet: a first day on this machine. */
	firstRun: boolean;
	last?: LastRun;
	/** The last run's cluster answers: triage is the useful next step. */
	cluster?: {healthy: boolean; detail: string};
	profiles: {name: string; description: string; origin: string}[];
};

export type HomeAction = {
	key: string;
	label: string;
	argv: string[];
	primary?: boolean;
	/** An action that changes the machine (builds, creates a cluster): what it will do, asked before it starts. */
	confirm?: string;
};

/** Reads runs/latest and its run.json; a damaged or half-written run counts as none. */
export function lastRun(dir = stateDir()): LastRun | undefined {
	try {
		const id = readFileSync(join(dir, 'runs', 'latest'), 'utf8').trim();
		if (!isRunId(id)) return undefined;
		const runDir = join(dir, 'runs', id);
		const j = tryRunRecord(runDir);
		if (!j) return undefined;
		const f = j.findings?.[0];
		return {
			runId: j.runId ?? id,
			runDir,
			profile: j.profile ?? '?',
			ok: j.ok === true,
			cancelled: j.cancelled === true,
			...(j.failedStep ? {failedStep: j.failedStep} : {}),
			...(f ? {finding: {id: f.id, title: f.title, confidence: f.confidence}} : {}),
			...(j.startedAt ? {startedAt: j.startedAt} : {}),
			...(j.durationMs !== undefined ? {durationMs: j.durationMs} : {}),
			...(j.namespace ? {namespace: j.namespace} : {}),
			...(j.kubeconfig ? {kubeconfig: j.kubeconfig} : {}),
		};
	} catch {
		return undefined;
	}
}

/** Whether the last run's cluster answers within a short time (the API server's /version), without failing the screen. */
async function clusterHealth(kubeconfig: string): Promise<{healthy: boolean; detail: string}> {
	if (!existsSync(kubeconfig)) return {healthy: false, detail: `no kubeconfig at ${kubeconfig}`};
	try {
		const {createKube} = await import('../adapters/kube.js');
		const kube = await createKube({kubeconfig});
		await Promise.race([
			kube.nodeImages(),
			new Promise((_, reject) => setTimeout(() => reject(new Error('no answer within 3s')), 3000).unref()),
		]);
		return {healthy: true, detail: 'the API server answers'};
	} catch (error) {
		return {healthy: false, detail: (error as Error).message.split('\n')[0]!};
	}
}

/** What the home screen knows: the last run, its cluster, the profiles, and whether this is a first day. */
export async function homeState(configPath?: string): Promise<HomeState> {
	const last = lastRun();
	const firstRun = !last && !existsSync(join(stateDir(), 'history.json'));
	let profiles: HomeState['profiles'] = [];
	try {
		profiles = [...loadProfiles(configPath).values()].map((p) => ({
			name: p.name,
			description: p.profile.description.trim().split('\n')[0]!.slice(0, 100),
			origin: p.origin,
		}));
	} catch {
		profiles = [];
	}
	const cluster = last?.kubeconfig && !last.cancelled ? await clusterHealth(last.kubeconfig) : undefined;
	return {firstRun, ...(last ? {last} : {}), ...(cluster ? {cluster} : {}), profiles};
}

/** The offers, the most useful first: a failed run's diagnosis, setup on a first day, triage of a live cluster. */
export function homeActions(s: HomeState, profile: string): HomeAction[] {
	const out: HomeAction[] = [];
	const last = s.last;
	if (last && !last.ok) {
		const step = stepLogPath(last.failedStep);
		const log = step ? join(last.runDir, step) : join(last.runDir, 'run.log');
		out.push({
			key: 'd',
			label: `diagnose the failed run (${last.failedStep ?? 'run'}${last.finding ? `: ${last.finding.id}` : ''})`,
			argv: ['diagnose', existsSync(log) ? log : join(last.runDir, 'run.log')],
			primary: true,
		});
		out.push({key: 'r', label: 'write the hand-off report of that run', argv: ['report', last.runDir]});
	}
	if (s.firstRun)
		out.push({key: 's', label: 'check this machine first (kdoctor setup)', argv: ['setup', '--profile', profile], primary: true});
	if (s.cluster?.healthy && last?.namespace)
		out.push({
			key: 't',
			label: `triage the live cluster (namespace ${last.namespace})`,
			argv: ['triage', '-n', last.namespace, '--kubeconfig', last.kubeconfig!],
			primary: !out.some((a) => a.primary),
		});
	if (!s.firstRun) out.push({key: 's', label: 'check this machine (kdoctor setup)', argv: ['setup', '--profile', profile]});
	if (last?.ok) out.push({key: 'r', label: 'write the report of the last run', argv: ['report', last.runDir]});
	out.push({
		key: 'u',
		label: `bring profile ${profile} up (kdoctor up)`,
		argv: ['up', '--profile', profile],
		primary: !out.some((a) => a.primary),
		confirm: `kdoctor up --profile ${profile} builds its images and creates (or asks to reuse) its cluster, then deploys into it`,
	});
	return out;
}
