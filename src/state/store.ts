import {createStore, type StoreApi} from 'zustand/vanilla';
import type {Diagnosis} from '../core/diagnose/diagnose.js';
import type {Finding} from '../core/diagnose/score.js';
import type {PlannedStep, RunEvent, StepState} from '../core/provision/events.js';
import type {TriageSnapshot} from '../core/cluster/engine.js';
import type {KubeFixPlan, VerifyResult} from '../core/remediate/kube-fix.js';
import type {RemediationPlan} from '../core/remediate/plan.js';
import type {CheckEvent} from '../core/setup/checks.js';
import type {CheckGroup, CheckResult} from '../core/setup/types.js';
import {cleanLine} from '../plain/up-lines.js';

export type View = 'list' | 'detail' | 'help' | 'preview' | 'search';
export type Message = {kind: 'ok' | 'error' | 'info'; text: string};

export type InputResult = {file: string; diagnosis?: Diagnosis; error?: string};

/** A finding as the screen lists it: with the file it came from. */
export type Row = {file: string; finding: Finding};

/** Output lines kept per step: a tail and a failure excerpt fit, however much a build prints. */
export const UP_TAIL_KEEP = 200;
/** How long step-line events wait to be applied together: output floods cost one update per tick. */
export const UP_COALESCE_MS = 100;
/** A flood is applied early rather than held: memory stays bounded whatever the rate. */
const UP_PENDING_MAX = 5000;

/** One attempt of a step on the time axis; no end while it runs. */
export type UpSpan = {start: number; end?: number; state: StepState; attempt: number};

/** A planned step and what has happened to it so far (memoryMiB is raised by a retry). */
export type UpStep = PlannedStep & {
	state: StepState;
	attempt: number;
	spans: UpSpan[];
	/** Start of the current attempt. */
	startedAt?: number;
	durationMs?: number;
	peakMiB?: number;
	/** The latest note or retry reason while it runs; once it ends, its end note ("cached") or why it was retried. */
	note?: string;
	retries: {at: number; attempt: number; reason: string}[];
};

export type UpLine = {at: number; line: string; stream: 'stdout' | 'stderr'};
/** The last UP_TAIL_KEEP lines of a step's output and how many it printed in all. */
export type UpTail = {lines: UpLine[]; total: number};
export type UpRun = Omit<Extract<RunEvent, {type: 'run-start'}>, 'type' | 'steps'>;
export type UpDiagnosis = Extract<RunEvent, {type: 'diagnosis'}>;
export type UpEnd = Extract<RunEvent, {type: 'run-end'}>;

/** What `kdoctor up` shows. Output lines live in `tails`, apart from `steps`, so a line never redraws the chart. */
export type UpSlice = {
	run?: UpRun;
	/** Step ids in plan order. */
	order: string[];
	steps: Record<string, UpStep>;
	tails: Record<string, UpTail>;
	diagnosis?: UpDiagnosis;
	end?: UpEnd;
	/** Time of the latest event other than a step-line: the screen's clock never runs behind it. */
	lastAt: number;
	/** The user asked to stop; the runner is stopping its children. */
	cancelling: boolean;
	/** The step the user picked; undefined follows the running step. */
	selected?: string;
	tail: boolean;
	help: boolean;
};

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
export type SetupFixState = {resultId: string; state: 'preview' | 'applying' | 'done' | 'failed'; lines: string[]; ready: boolean; message?: string};

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

export function emptyUp(): UpSlice {
	return {order: [], steps: {}, tails: {}, lastAt: 0, cancelling: false, tail: false, help: false};
}

function newStep(plan: PlannedStep): UpStep {
	return {...plan, state: 'waiting', attempt: 0, spans: [], retries: []};
}

/** A step the plan did not announce still gets a row rather than being dropped. */
function unplanned(id: string): UpStep {
	return newStep({id, title: id, kind: 'check', deps: [], memoryMiB: 0, memorySource: 'default', residentMiB: 0, estimateMs: 0});
}

function closeSpan(st: UpStep, at: number, state: StepState): boolean {
	const last = st.spans[st.spans.length - 1];
	if (!last || last.end !== undefined) return false;
	st.spans = [...st.spans.slice(0, -1), {...last, end: Math.max(at, last.start), state}];
	return true;
}

/** Applies a batch of runner events in order, copying only what they touch (selectors compare by reference). */
export function reduceUp(up: UpSlice, events: readonly RunEvent[]): UpSlice {
	if (events.length === 0) return up;
	const s: UpSlice = {...up};
	let stepsOwned = false;
	let tailsOwned = false;
	const ownedTails = new Set<string>();
	const step = (id: string): UpStep => {
		if (!stepsOwned) {
			s.steps = {...s.steps};
			stepsOwned = true;
		}
		const cur = s.steps[id];
		if (!cur) s.order = [...s.order, id];
		const st = {...(cur ?? unplanned(id))};
		s.steps[id] = st;
		return st;
	};
	const tail = (id: string): UpTail => {
		if (!tailsOwned) {
			s.tails = {...s.tails};
			tailsOwned = true;
		}
		if (!ownedTails.has(id)) {
			const t = s.tails[id];
			s.tails[id] = {lines: t ? t.lines.slice() : [], total: t?.total ?? 0};
			ownedTails.add(id);
		}
		return s.tails[id]!;
	};
	for (const ev of events) {
		if (ev.type !== 'step-line') s.lastAt = Math.max(s.lastAt, ev.at);
		switch (ev.type) {
			case 'run-start': {
				const {type: _type, steps, ...run} = ev;
				Object.assign(s, {...emptyUp(), tail: s.tail, help: s.help, run, lastAt: ev.at, order: steps.map((p) => p.id), steps: Object.fromEntries(steps.map((p) => [p.id, newStep(p)]))});
				stepsOwned = true;
				tailsOwned = true;
				ownedTails.clear();
				break;
			}
			case 'step-start': {
				const st = step(ev.id);
				closeSpan(st, ev.at, 'failed');
				Object.assign(st, {state: 'running', attempt: ev.attempt, startedAt: ev.at, durationMs: undefined, spans: [...st.spans, {start: ev.at, state: 'running', attempt: ev.attempt}]});
				break;
			}
			case 'step-line': {
				const t = tail(ev.id);
				t.lines.push({at: ev.at, line: cleanLine(ev.line), stream: ev.stream});
				t.total++;
				if (t.lines.length >= 2 * UP_TAIL_KEEP) t.lines.splice(0, t.lines.length - UP_TAIL_KEEP);
				break;
			}
			case 'step-note':
				step(ev.id).note = ev.text;
				break;
			case 'step-end': {
				const st = step(ev.id);
				if (!closeSpan(st, ev.at, ev.state)) st.spans = [...st.spans, {start: ev.at - Math.max(0, ev.durationMs), end: ev.at, state: ev.state, attempt: Math.max(1, st.attempt)}];
				Object.assign(st, {state: ev.state, durationMs: ev.durationMs, peakMiB: ev.peakMiB ?? st.peakMiB, note: ev.note ?? st.retries.at(-1)?.reason});
				break;
			}
			case 'step-retry': {
				const st = step(ev.id);
				closeSpan(st, ev.at, 'failed');
				Object.assign(st, {state: 'waiting', memoryMiB: ev.memoryMiB, note: ev.reason, retries: [...st.retries, {at: ev.at, attempt: ev.attempt, reason: ev.reason}]});
				break;
			}
			case 'diagnosis':
				s.diagnosis = ev;
				break;
			case 'run-end':
				s.end = ev;
				// A runner that forgot a step-end must not leave a spinner turning after the run is over.
				for (const id of s.order) {
					if (s.steps[id]?.state !== 'running') continue;
					const st = step(id);
					closeSpan(st, ev.at, 'cancelled');
					st.state = 'cancelled';
					st.durationMs = ev.at - (st.startedAt ?? ev.at);
				}
				break;
		}
	}
	for (const id of ownedTails) {
		const t = s.tails[id]!;
		if (t.lines.length > UP_TAIL_KEEP) t.lines.splice(0, t.lines.length - UP_TAIL_KEEP);
	}
	return s;
}

/** One store per session; engines report into it through these actions, screens only read it. */
export function createDoctorStore(initial: Partial<Pick<DoctorState, 'inputs' | 'view'>> = {}, opts: {coalesceMs?: number} = {}): DoctorStore {
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
						const checks = s.setup.checks.some((c) => c.id === e.id) ? s.setup.checks : [...s.setup.checks, {id: e.id, group: e.group, title: e.title}];
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
