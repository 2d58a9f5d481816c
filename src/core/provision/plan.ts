import type {PlannedStep, StepKind} from './events.js';
import type {DeployStep, ImageSpec, Profile} from './profile.js';
import {planSchedule, type Schedule, type StepSpec} from './schedule.js';
import {learnedDuration, learnedPeak, type History} from './history.js';

/** First-run assumptions, used until a run has measured the real figure (the issue's "safe default"). */
export const DEFAULTS = {
	buildMiB: 1500,
	buildMs: 180_000,
	/** Kubernaut allows 15 minutes; a build that close to the memory limit can thrash instead of being killed. */
	buildTimeoutMs: 20 * 60_000,
	pullMiB: 300,
	pullMs: 30_000,
	clusterMiB: 400,
	clusterMs: 20_000,
	loadMiB: 300,
	loadMs: 15_000,
	deployMiB: 100,
	deployMs: 30_000,
	healthMs: 10_000,
	coverageMs: 20_000,
	checkMs: 1_000,
} as const;

/** An image of the run with the one reference build, save, load and deploy all use. */
export type PlannedImage = {
	spec: ImageSpec;
	/** Exactly what the engine and the node hold, e.g. localhost/kdoctor-demo/gateway:kd-3f2a9c1b0e4d. */
	ref: string;
	/** Content hash of Dockerfile + context + build args (builds) or of the pulled reference. */
	hash: string;
	buildArgs: Record<string, string>;
};

export type RunPlan = {
	profileName: string;
	runId: string;
	images: Map<string, PlannedImage>;
	steps: PlannedStep[];
	deploys: Map<string, DeployStep & {images: string[]}>;
	schedule: Schedule;
	budgetMiB: number;
	coverage: boolean;
	imagesOnly?: boolean;
};

export type PlanInput = {
	profileName: string;
	profile: Profile;
	runId: string;
	/** Content hashes per build image, computed by the adapter from the files. */
	hashes: Map<string, string>;
	/** Build args after --build-arg overrides and coverage. */
	buildArgs: Map<string, Record<string, string>>;
	/** The text of each deploy step's manifests, to find which images it uses. */
	manifestText: Map<string, string>;
	budgetMiB: number;
	history: History;
	coverage: boolean;
	/** The cluster already exists and will be reused: its node memory is already taken, no create step. */
	reuseCluster: boolean;
	/** Build (or find cached) the images and stop: no cluster, loads or deploys. */
	imagesOnly?: boolean;
};

/** A run id that sorts by time and is unique enough for one machine: 20261123-101500-3f2a. */
export function makeRunId(now: Date, random: () => number): string {
	const p = (n: number, w = 2) => String(n).padStart(w, '0');
	const stamp =
		`${now.getUTCFullYear()}${p(now.getUTCMonth() + 1)}${p(now.getUTCDate())}` +
		`-${p(now.getUTCHours())}${p(now.getUTCMinutes())}${p(now.getUTCSeconds())}`;
	return `${stamp}-${Math.floor(random() * 0x10000)
		.toString(16)
		.padStart(4, '0')}`;
}

/** The tag is the content hash: the same inputs give the same tag, so an existing image is a cache hit. */
export function imageRef(spec: ImageSpec, hash: string): string {
	if (spec.pull) return spec.pull;
	return `localhost/${spec.repository}:kd-${hash.slice(0, 12)}`;
}

/** Images a manifest names through ${image:NAME}. */
export function imagesIn(text: string): string[] {
	return [...new Set([...text.matchAll(/\$\{image:([a-z][a-z0-9-]*)\}/g)].map((m) => m[1]!))];
}

export class PlanError extends Error {}

/** The peak a build is assumed to need: what an earlier run measured, else the profile's estimate, else the default. */
export function buildMemory(
	profileName: string,
	image: string,
	spec: Pick<ImageSpec, 'memoryMiB'>,
	history: History,
): {miB: number; source: PlannedStep['memorySource']} {
	const learned = learnedPeak(history, `${profileName}/build:${image}`);
	if (learned) return {miB: learned, source: 'learned'};
	if (spec.memoryMiB) return {miB: spec.memoryMiB, source: 'profile'};
	return {miB: DEFAULTS.buildMiB, source: 'default'};
}

/** Turns a profile into the dependency graph of the run, with memory and duration estimates and a schedule. */
export function buildPlan(input: PlanInput): RunPlan {
	const {profile, profileName, history} = input;
	const images = new Map<string, PlannedImage>();
	for (const spec of profile.images) {
		if (images.has(spec.name)) throw new PlanError(`profile ${profileName}: two images are called ${spec.name}`);
		const hash = spec.pull ? `pull:${spec.pull}` : input.hashes.get(spec.name);
		if (!hash) throw new PlanError(`no content hash for image ${spec.name}`);
		images.set(spec.name, {spec, ref: imageRef(spec, hash), hash, buildArgs: input.buildArgs.get(spec.name) ?? spec.buildArgs});
	}
	const steps: PlannedStep[] = [];
	const key = (id: string) => `${profileName}/${id}`;
	const add = (
		id: string,
		title: string,
		kind: StepKind,
		deps: string[],
		memory: {miB: number; source: PlannedStep['memorySource']},
		estimate: number,
		resident = 0,
	) =>
		steps.push({
			id,
			title,
			kind,
			deps,
			memoryMiB: memory.miB,
			memorySource: memory.source,
			residentMiB: resident,
			estimateMs: learnedDuration(history, key(id)) ?? estimate,
		});

	add('preflight', 'Pre-flight checks', 'check', [], {miB: 0, source: 'default'}, DEFAULTS.checkMs);
	for (const [name, img] of images) {
		if (img.spec.pull) {
			add(`pull:${name}`, `Pull ${name} (${img.ref})`, 'pull', ['preflight'], {miB: DEFAULTS.pullMiB, source: 'default'}, DEFAULTS.pullMs);
		} else {
			add(
				`build:${name}`,
				`Build ${name} (${img.ref})`,
				'build',
				['preflight'],
				buildMemory(profileName, name, img.spec, history),
				DEFAULTS.buildMs,
			);
		}
	}
	if (input.imagesOnly) {
		const schedule = planSchedule(steps.map(toSpec(input.budgetMiB)), input.budgetMiB);
		return {
			profileName,
			runId: input.runId,
			images,
			steps,
			deploys: new Map(),
			schedule,
			budgetMiB: input.budgetMiB,
			coverage: input.coverage,
			imagesOnly: true,
		};
	}
	if (!input.reuseCluster)
		add(
			'cluster',
			`Create cluster ${profile.cluster.name}`,
			'cluster',
			['preflight'],
			{miB: DEFAULTS.clusterMiB, source: 'default'},
			DEFAULTS.clusterMs,
			profile.cluster.memoryMiB,
		);
	const clusterDep = input.reuseCluster ? 'preflight' : 'cluster';

	const deploys = new Map<string, DeployStep & {images: string[]}>();
	const used = new Set<string>();
	for (const d of profile.deploy) {
		const text = input.manifestText.get(d.id) ?? '';
		const names = imagesIn(text);
		for (const n of names)
			if (!images.has(n)) throw new PlanError(`deploy step ${d.id} uses \${image:${n}}, which the profile does not define`);
		for (const a of d.after)
			if (!profile.deploy.some((x) => x.id === a)) throw new PlanError(`deploy step ${d.id} comes after unknown step ${a}`);
		deploys.set(d.id, {...d, images: names});
		for (const n of names) used.add(n);
	}
	for (const [name, img] of images) {
		if (!used.has(name)) continue;
		const from = img.spec.pull ? `pull:${name}` : `build:${name}`;
		add(
			`load:${name}`,
			`Load ${name} into the node (${img.ref})`,
			'load',
			[from, clusterDep],
			{miB: DEFAULTS.loadMiB, source: 'default'},
			DEFAULTS.loadMs,
		);
	}
	for (const d of deploys.values()) {
		const deps = [clusterDep, ...d.images.map((n) => `load:${n}`), ...d.after.map((a) => `deploy:${a}`)];
		add(`deploy:${d.id}`, d.title ?? `Deploy ${d.id}`, 'deploy', deps, {miB: DEFAULTS.deployMiB, source: 'default'}, DEFAULTS.deployMs);
	}
	const deployIds = [...deploys.keys()].map((id) => `deploy:${id}`);
	if (profile.health.length > 0) add('health', 'Health checks', 'health', deployIds, {miB: 0, source: 'default'}, DEFAULTS.healthMs);
	if (input.coverage)
		add(
			'coverage',
			'Collect coverage',
			'coverage',
			profile.health.length > 0 ? ['health'] : deployIds,
			{miB: 0, source: 'default'},
			DEFAULTS.coverageMs,
		);

	const budget = input.budgetMiB - (input.reuseCluster ? profile.cluster.memoryMiB : 0);
	if (budget <= 0)
		throw new PlanError(
			`the engine's memory budget (${input.budgetMiB} MiB) is used up by the existing cluster node (${profile.cluster.memoryMiB} MiB)`,
		);
	const schedule = planSchedule(steps.map(toSpec(budget)), budget);
	return {profileName, runId: input.runId, images, steps, deploys, schedule, budgetMiB: budget, coverage: input.coverage};
}

/** A build bigger than the whole budget still runs — alone — so its estimate is clipped for planning. */
function toSpec(budget: number): (s: PlannedStep) => StepSpec {
	return (s) => ({
		id: s.id,
		deps: s.deps,
		durationMs: s.estimateMs,
		memoryMiB: Math.min(s.memoryMiB, budget - s.residentMiB),
		residentMiB: s.residentMiB,
	});
}

/** The plan as text for `kdoctor up --plan`: steps, dependencies, memory and the schedule it would follow. */
export function formatPlan(plan: RunPlan): string {
	const out: string[] = [];
	out.push(`profile ${plan.profileName}, run ${plan.runId}, memory budget ${plan.budgetMiB} MiB${plan.coverage ? ', coverage on' : ''}`);
	out.push('', 'images:');
	for (const [name, img] of plan.images) out.push(`  ${name.padEnd(14)} ${img.ref}`);
	out.push('', 'steps (start → end is the expected schedule):');
	const at = new Map(plan.schedule.steps.map((s) => [s.id, s]));
	const secs = (ms: number) => `${(ms / 1000).toFixed(0)}s`;
	const rows = [...plan.steps].sort((a, b) => at.get(a.id)!.start - at.get(b.id)!.start || a.id.localeCompare(b.id));
	for (const s of rows) {
		const t = at.get(s.id)!;
		const mem = s.memoryMiB > 0 ? `${s.memoryMiB} MiB (${s.memorySource})` : '';
		const res = s.residentMiB > 0 ? ` + keeps ${s.residentMiB} MiB` : '';
		out.push(
			`  ${`${secs(t.start)} → ${secs(t.end)}`.padEnd(13)} ${s.id.padEnd(22)} ${(mem + res).padEnd(30)} after: ${s.deps.join(', ') || '—'}`,
		);
	}
	out.push('', `expected: ${secs(plan.schedule.makespan)}, peak memory ${plan.schedule.peakMemoryMiB} of ${plan.budgetMiB} MiB`);
	return out.join('\n');
}
