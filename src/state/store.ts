import {createStore, type StoreApi} from 'zustand/vanilla';
import type {Diagnosis} from '../core/diagnose/diagnose.js';
import type {Finding} from '../core/diagnose/score.js';
import type {RunEvent} from '../core/provision/events.js';
import {emptyTimeline, reduceTimeline, type RunTimeline} from '../core/provision/timeline.js';
export {
	UP_TAIL_KEEP,
	type UpDiagnosis,
	type UpEnd,
	type UpLine,
	type UpRun,
	type UpSpan,
	type UpStep,
	type UpTail,
} from '../core/provision/timeline.js';
import type {TriageSnapshot} from '../core/cluster/engine.js';
import type {KubeFixPlan, VerifyResult} from '../core/remediate/kube-fix.js';
import type {RemediationPlan} from '../core/remediate/plan.js';
import type {CheckEvent} from '../core/setup/checks.js';
import type {CheckGroup, CheckResult} from '../core/setup/types.js';

/** `draft`: asking whether to hand the failure to `kdoctor kb new` (nothing matched). */
export type View = 'list' | 'detail' | 'help' | 'preview' | 'search' | 'entry' | 'draft';
export type Message = {kind: 'ok' | 'error' | 'info'; text: string};

export type InputResult = {file: string; diagnosis?: Diagnosis; error?: string};

/** A finding as the screen lists it: with the file it came from. */
export type Row = {file: string; finding: Finding};

/** How long step-line events wait to be applied together: output floods cost one update per tick. */
export const UP_COALESCE_MS = 100;
/** A flood is applied early rather than held: memory stays bounded whatever the rate. */
const UP_PENDING_MAX = 5000;

/** What `kdoctor up` shows: the run's timeline, and what the screen adds (the step picked, the panes shown). */
export type UpSlice = RunTimeline & {
	/** The user asked to stop; the runner is stopping its children. */
	cancelling: boolean;
	/** The step the user picked; undefined follows the running step. */
	selected?: string;
	tail: boolean;
	help: boolean;
};

export function emptyUp(): UpSlice {
	return {...emptyTimeline(), cancelling: false, tail: false, help: false};
}

/** The timeline's reducer; a new run also resets what the screen had picked. */
export function reduceUp(up: UpSlice, events: readonly RunEvent[]): UpSlice {
	const next = reduceTimeline(up, events);
	return events.some((e) => e.type === 'run-start') ? {...next, cancelling: false, selected: undefined} : next;
}

export type TriageView = 'list' | 'detail' | 'logs' | 'events' | 'describe' | 'help';

/** A live fix from the triage screen, from the key press to the verified rollout. */
export type TriageFix = {
	workload: string;
	key: string;
	state: 'asking' | 'planning' | 'preview' | 'applying' | 'verified' | 'failed';
	/** What to type when the fix needs a value (an env var's value, a probe path), and what was typed so far. */
	ask?: string;
	input: string;
	plan?: KubeFixPlan;
	/** u: taking back the journal's newest change still in place (any kind, made anywhere), previewed first. */
	undo?: {id: string; title: string; change: string; diff?: string};
	verify?: VerifyResult;
	message?: string;
};

/** What `kdoctor triage` shows: the engine's latest snapshot and where the user is in it. */
export type TriageSlice = {
	snapshot?: TriageSnapshot;
	/** The selected workload's key (namespace/kind/name); kept across updates, so a re-sort does not move the cursor. */
	selected?: string;
	view: TriageView;
	filter: string;
	filtering: boolean;
	readOnly: boolean;
	where: string;
	fix?: TriageFix;
};

/** A setup fix from the key press to the re-check. */
export type SetupFixState = {
	resultId: string;
	state: 'preview' | 'applying' | 'done' | 'failed';
	lines: string[];
	ready: boolean;
	message?: string;
};

/** What `kdoctor setup` shows: each check as it starts and ends, in the checks' order. */
export type SetupSlice = {
	checks: {id: string; group: CheckGroup; title: string}[];
	/** Results by check id; a check that has not ended has none. */
	results: Record<string, CheckResult[]>;
	startedAt?: number;
	selected: number;
	detail: boolean;
	help: boolean;
	fix?: SetupFixState;
};

export type DoctorState = {
	inputs: InputResult[];
	rows: Row[];
	selected: number;
	view: View;
	filter: string;
	filtering: boolean;
	plan?: RemediationPlan;
	/** A fix is being applied: a second key press must not apply it twice. */
	busy: boolean;
	message?: Message;
	search: string;
	setInputs(inputs: InputResult[]): void;
	/** Selects a row; the screen clamps the index to what it shows. */
	select(index: number): void;
	setView(view: View): void;
	setFilter(filter: string): void;
	setFiltering(on: boolean): void;
	setSearch(text: string): void;
	showPlan(plan: RemediationPlan | undefined): void;
	setBusy(busy: boolean): void;
	say(message: Message | undefined): void;
	up: UpSlice;
	/** Feeds one runner event; step-line events are applied together every UP_COALESCE_MS, the rest at once. */
	upEvent(event: RunEvent): void;
	/** Applies step-line events still waiting for their tick (tests, and before the screen goes away). */
	upFlush(): void;
	upSelect(id: string | undefined): void;
	upTail(on: boolean): void;
	upHelp(on: boolean): void;
	upCancelling(): void;
	triage: TriageSlice;
	triageSnapshot(snapshot: TriageSnapshot): void;
	triageSet(patch: Partial<TriageSlice>): void;
	triageFix(fix: TriageFix | undefined): void;
	setup: SetupSlice;
	setupEvent(event: CheckEvent, at?: number): void;
	setupSet(patch: Partial<SetupSlice>): void;
};

export type DoctorStore = StoreApi<DoctorState>;

function rowsOf(inputs: InputResult[]): Row[] {
	return inputs.flatMap((i) => (i.diagnosis ? i.diagnosis.findings.map((finding) => ({file: i.file, finding})) : []));
}

/** One store per session; engines report into it through these actions, screens only read it. */
export function createDoctorStore(
	initial: Partial<Pick<DoctorState, 'inputs' | 'view'>> = {},
	opts: {coalesceMs?: number} = {},
): DoctorStore {
	const coalesceMs = opts.coalesceMs ?? UP_COALESCE_MS;
	let pending: RunEvent[] = [];
	let timer: ReturnType<typeof setTimeout> | undefined;
	return createStore<DoctorState>()((set) => {
		const flush = () => {
			if (timer) clearTimeout(timer);
			timer = undefined;
			if (pending.length === 0) return;
			const batch = pending;
			pending = [];
			set((s) => ({up: reduceUp(s.up, batch)}));
		};
		return {
			inputs: initial.inputs ?? [],
			rows: rowsOf(initial.inputs ?? []),
			selected: 0,
			view: initial.view ?? 'list',
			filter: '',
			filtering: false,
			busy: false,
			search: '',
			setInputs: (inputs) => set({inputs, rows: rowsOf(inputs), selected: 0}),
			select: (index) => set({selected: Math.max(0, index)}),
			setView: (view) => set({view}),
			setFilter: (filter) => set({filter, selected: 0}),
			setFiltering: (filtering) => set({filtering}),
			setSearch: (search) => set({search, selected: 0}),
			showPlan: (plan) => set({plan, view: plan ? 'preview' : 'detail'}),
			setBusy: (busy) => set({busy}),
			say: (message) => set({message}),
			up: emptyUp(),
			upEvent: (event) => {
				pending.push(event);
				if (event.type !== 'step-line' || coalesceMs <= 0 || pending.length >= UP_PENDING_MAX) return flush();
				if (!timer) {
					timer = setTimeout(flush, coalesceMs);
					timer.unref?.();
				}
			},
			upFlush: flush,
			upSelect: (selected) => set((s) => ({up: {...s.up, selected}})),
			upTail: (tail) => set((s) => ({up: {...s.up, tail}})),
			upHelp: (help) => set((s) => ({up: {...s.up, help}})),
			upCancelling: () => set((s) => ({up: {...s.up, cancelling: true}})),
			triage: {view: 'list', filter: '', filtering: false, readOnly: false, where: ''},
			triageSnapshot: (snapshot) => set((s) => ({triage: {...s.triage, snapshot}})),
			triageSet: (patch) => set((s) => ({triage: {...s.triage, ...patch}})),
			triageFix: (fix) => set((s) => ({triage: {...s.triage, fix}})),
			setup: {checks: [], results: {}, selected: 0, detail: false, help: false},
			setupEvent: (e, at = Date.now()) =>
				set((s) => {
					if (e.type === 'start') {
						const checks = s.setup.checks.some((c) => c.id === e.id)
							? s.setup.checks
							: [...s.setup.checks, {id: e.id, group: e.group, title: e.title}];
						const results = {...s.setup.results};
						delete results[e.id];
						return {setup: {...s.setup, checks, results, startedAt: s.setup.startedAt ?? at}};
					}
					return {setup: {...s.setup, results: {...s.setup.results, [e.id]: e.results}}};
				}),
			setupSet: (patch) => set((s) => ({setup: {...s.setup, ...patch}})),
		};
	});
}
