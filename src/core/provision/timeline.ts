/**
 * A `kdoctor up` run as a timeline: its steps, each attempt's span, the tail of each step's output, the diagnosis
 * and the end, folded from the runner's events. The up screen, the report and its Gantt chart all read this one
 * reducer (pure: no terminal, no store).
 */
import type {PlannedStep, RunEvent, StepState} from './events.js';

/** Output lines kept per step: a tail and a failure excerpt fit, however much a build prints. */
export const UP_TAIL_KEEP = 200;
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

/** The timeline of one run, as the reducer builds it from the events. */
export type RunTimeline = {
	run?: UpRun;
	/** Step ids in plan order. */
	order: string[];
	steps: Record<string, UpStep>;
	tails: Record<string, UpTail>;
	diagnosis?: UpDiagnosis;
	end?: UpEnd;
	/** Time of the latest event other than a step-line: the screen's clock never runs behind it. */
	lastAt: number;
};

const ANSI = /\u001B(?:\[[0-9;?]*[ -/]*[@-~]|\][^\u0007\u001B]*(?:\u0007|\u001B\\)|[@-Z\\-_])/g;
const CONTROL = /[\u0000-\u0008\u000B-\u001F\u007F]/g;

/** A build's own colours and carriage returns would break a screen's layout or a log file: keep the text only. */
export function cleanLine(line: string, max = 2000): string {
	const s = line
		.replace(ANSI, '')
		.replace(/\r+$/, '')
		.replace(/^[^]*\r/, '')
		.replace(/\t/g, '    ')
		.replace(CONTROL, '');
	return s.length > max ? s.slice(0, max - 1) + '…' : s;
}

export function emptyTimeline(): RunTimeline {
	return {order: [], steps: {}, tails: {}, lastAt: 0};
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
export function reduceTimeline<T extends RunTimeline>(up: T, events: readonly RunEvent[]): T {
	if (events.length === 0) return up;
	const s: T = {...up};
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
				Object.assign(s, {
					...emptyTimeline(),
					run,
					lastAt: ev.at,
					order: steps.map((p) => p.id),
					steps: Object.fromEntries(steps.map((p) => [p.id, newStep(p)])),
				});
				stepsOwned = true;
				tailsOwned = true;
				ownedTails.clear();
				break;
			}
			case 'step-start': {
				const st = step(ev.id);
				closeSpan(st, ev.at, 'failed');
				Object.assign(st, {
					state: 'running',
					attempt: ev.attempt,
					startedAt: ev.at,
					durationMs: undefined,
					spans: [...st.spans, {start: ev.at, state: 'running', attempt: ev.attempt}],
				});
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
				if (!closeSpan(st, ev.at, ev.state))
					st.spans = [
						...st.spans,
						{start: ev.at - Math.max(0, ev.durationMs), end: ev.at, state: ev.state, attempt: Math.max(1, st.attempt)},
					];
				Object.assign(st, {
					state: ev.state,
					durationMs: ev.durationMs,
					peakMiB: ev.peakMiB ?? st.peakMiB,
					note: ev.note ?? st.retries.at(-1)?.reason,
				});
				break;
			}
			case 'step-retry': {
				const st = step(ev.id);
				closeSpan(st, ev.at, 'failed');
				Object.assign(st, {
					state: 'waiting',
					memoryMiB: ev.memoryMiB,
					note: ev.reason,
					retries: [...st.retries, {at: ev.at, attempt: ev.attempt, reason: ev.reason}],
				});
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
