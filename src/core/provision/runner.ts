import type {Finding} from '../diagnose/score.js';
import type {PlannedStep, RunListener, StepState} from './events.js';
import type {Schedule} from './schedule.js';

/** What a step handler gets: cancellation, a way to report output, and the memory it was given. */
export type StepContext = {
	signal: AbortSignal;
	attempt: number;
	memoryMiB: number;
	line(text: string, stream?: 'stdout' | 'stderr'): void;
	note(text: string): void;
};

export type StepOutcome = {state: 'done' | 'skipped'; note?: string; peakMiB?: number};

/** A step failed; `oomKilled` asks the runner to run it again alone with more memory. */
export class StepFailure extends Error {
	constructor(
		message: string,
		readonly details: {oomKilled?: boolean; peakMiB?: number; findings?: Finding[]} = {},
	) {
		super(message);
	}
}

export type StepHandler = (step: PlannedStep, ctx: StepContext) => Promise<StepOutcome>;

export type RunGraphInput = {
	steps: PlannedStep[];
	schedule: Schedule;
	budgetMiB: number;
	handler: StepHandler;
	emit: RunListener;
	now: () => number;
	signal: AbortSignal;
	/** Called when a build was killed for memory; returns the memory to assume for the retry. */
	onOom(step: PlannedStep, failure: StepFailure): number;
	/** How many times one step may be re-run after an OOM kill. */
	maxOomRetries?: number;
	/** At most this many builds at once, whatever the memory budget allows (--build-jobs). */
	maxBuilds?: number;
};

export type StepResult = {
	id: string;
	state: StepState;
	start?: number;
	end?: number;
	attempts: number;
	note?: string;
	peakMiB?: number;
	error?: StepFailure;
};

export type RunGraphResult = {ok: boolean; cancelled: boolean; failed?: StepResult; results: Map<string, StepResult>};

/** Steps that keep running after another step failed, so what they produce (a built image) is not lost. */
const FINISH_ON_FAILURE = new Set(['build', 'pull']);

/**
 * Runs the graph: a step starts as soon as its dependencies are done and its memory fits beside what is
 * running (and what finished steps keep). The planned schedule orders the choice among ready steps, and a
 * step that keeps memory (the cluster) never overtakes a step planned before it — the order that lets a
 * small VM build first. A build killed for memory runs again alone. Nothing here sleeps: it reacts to steps
 * finishing.
 */
export async function runGraph(input: RunGraphInput): Promise<RunGraphResult> {
	const {steps, emit, now} = input;
	const maxRetries = input.maxOomRetries ?? 2;
	const planned = new Map(input.schedule.steps.map((s) => [s.id, s.start]));
	const order = [...steps].sort((a, b) => (planned.get(a.id) ?? 0) - (planned.get(b.id) ?? 0) || a.id.localeCompare(b.id));
	const results = new Map<string, StepResult>(steps.map((s) => [s.id, {id: s.id, state: 'waiting', attempts: 0}]));
	const memory = new Map(steps.map((s) => [s.id, s.memoryMiB]));
	const solo = new Set<string>();
	const running = new Map<string, AbortController>();
	let failed: StepResult | undefined;
	let cancelled = input.signal.aborted;

	return new Promise<RunGraphResult>((resolve) => {
		const onAbort = () => {
			cancelled = true;
			for (const c of running.values()) c.abort();
			pump();
		};
		input.signal.addEventListener('abort', onAbort, {once: true});

		const inUse = () => {
			let use = 0;
			for (const s of steps) {
				const r = results.get(s.id)!;
				if (r.state === 'running') use += memory.get(s.id)!;
				if (r.state === 'running' || r.state === 'done') use += s.residentMiB;
			}
			return use;
		};
		const hungryRunning = () => steps.some((s) => results.get(s.id)!.state === 'running' && memory.get(s.id)! > 0);
		const soloRunning = () => [...running.keys()].some((id) => solo.has(id));

		const finish = () => {
			input.signal.removeEventListener('abort', onAbort);
			for (const r of results.values()) {
				if (r.state === 'waiting') {
					r.state = 'cancelled';
					r.note = cancelled ? 'not started: the run was stopped' : 'not started: an earlier step failed';
				}
			}
			resolve({ok: !failed && !cancelled, cancelled, failed, results});
		};

		const pump = () => {
			if (!cancelled && !failed) {
				const ready = (s: PlannedStep) =>
					results.get(s.id)!.state === 'waiting' && s.deps.every((d) => ['done', 'skipped'].includes(results.get(d)!.state));
				// A build re-running alone after an OOM kill holds back every other memory-hungry step.
				const soloWaiting = order.some((s) => solo.has(s.id) && ready(s));
				for (const s of order) {
					if (!ready(s)) continue;
					if (soloRunning()) break;
					if (
						s.kind === 'build' &&
						input.maxBuilds !== undefined &&
						[...running.keys()].filter((id) => id.startsWith('build:')).length >= input.maxBuilds
					)
						continue;
					const need = memory.get(s.id)! + s.residentMiB;
					if (solo.has(s.id)) {
						if (hungryRunning()) continue;
					} else if (need > 0 && (soloWaiting || (hungryRunning() && inUse() + need > input.budgetMiB))) continue;
					if (
						s.residentMiB > 0 &&
						order.some((o) => (planned.get(o.id) ?? 0) < (planned.get(s.id) ?? 0) && results.get(o.id)!.state === 'waiting')
					)
						continue;
					start(s);
				}
			}
			if (running.size === 0) finish();
		};

		const start = (s: PlannedStep) => {
			const r = results.get(s.id)!;
			const controller = new AbortController();
			running.set(s.id, controller);
			r.state = 'running';
			r.attempts++;
			r.start = now();
			const attempt = r.attempts;
			emit({type: 'step-start', at: r.start, id: s.id, attempt});
			const ctx: StepContext = {
				signal: controller.signal,
				attempt,
				memoryMiB: memory.get(s.id)!,
				line: (text, stream = 'stdout') => emit({type: 'step-line', at: now(), id: s.id, line: text, stream}),
				note: (text) => emit({type: 'step-note', at: now(), id: s.id, text}),
			};
			void input.handler(s, ctx).then(
				(outcome) => settle(s, {state: outcome.state, note: outcome.note, peakMiB: outcome.peakMiB}),
				(error: unknown) => {
					const failure = error instanceof StepFailure ? error : new StepFailure((error as Error)?.message ?? String(error));
					settle(s, {state: controller.signal.aborted ? 'cancelled' : 'failed', failure});
				},
			);
		};

		const settle = (s: PlannedStep, o: {state: StepResult['state']; note?: string; peakMiB?: number; failure?: StepFailure}) => {
			running.delete(s.id);
			const r = results.get(s.id)!;
			r.end = now();
			r.peakMiB = o.peakMiB ?? o.failure?.details.peakMiB;
			const durationMs = r.end - (r.start ?? r.end);
			if (o.state === 'failed' && o.failure?.details.oomKilled && r.attempts <= maxRetries && !cancelled) {
				const miB = input.onOom(s, o.failure);
				memory.set(s.id, miB);
				solo.add(s.id);
				r.state = 'waiting';
				const finding = o.failure.details.findings?.[0];
				emit({
					type: 'step-retry',
					at: r.end,
					id: s.id,
					attempt: r.attempts + 1,
					reason: o.failure.message,
					memoryMiB: miB,
					...(finding ? {finding} : {}),
				});
				pump();
				return;
			}
			r.state = o.state;
			r.note = o.note ?? o.failure?.message;
			r.error = o.failure;
			emit({
				type: 'step-end',
				at: r.end,
				id: s.id,
				state: o.state as Exclude<StepState, 'waiting' | 'running'>,
				durationMs,
				note: r.note,
				peakMiB: r.peakMiB,
			});
			if (o.state === 'failed' && !failed) {
				failed = r;
				const stepKind = new Map(steps.map((x) => [x.id, x.kind]));
				for (const [id, c] of running) if (!FINISH_ON_FAILURE.has(stepKind.get(id)!)) c.abort();
			}
			pump();
		};

		pump();
	});
}
