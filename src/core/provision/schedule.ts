/**
 * Memory-aware scheduling of the provisioning graph (groundwork for `kdoctor up`): steps start as soon as
 * their inputs are ready, but never so many memory-hungry steps at once that the engine VM's budget is
 * exceeded. A step may also keep memory after it finishes (the Kind node holds its memory until the end).
 */
export type StepSpec = {
	id: string;
	deps: string[];
	/** Expected duration (learned from earlier runs, or a default). */
	durationMs: number;
	/** Peak memory while the step runs, in MiB. */
	memoryMiB: number;
	/** Memory the step leaves held until the end of the run (a cluster node), in MiB. */
	residentMiB?: number;
};

export type ScheduledStep = {id: string; start: number; end: number};

export type Schedule = {steps: ScheduledStep[]; makespan: number; peakMemoryMiB: number};

export class ScheduleError extends Error {}

/** Checks the graph once: unknown dependencies, cycles, and steps that can never fit the budget. */
export function validateSteps(steps: StepSpec[], budgetMiB: number): void {
	const ids = new Set(steps.map((s) => s.id));
	if (ids.size !== steps.length) throw new ScheduleError('two steps share an id');
	for (const s of steps) {
		for (const d of s.deps) if (!ids.has(d)) throw new ScheduleError(`step ${s.id} depends on unknown step ${d}`);
		if (s.memoryMiB + (s.residentMiB ?? 0) > budgetMiB)
			throw new ScheduleError(
				`step ${s.id} needs ${s.memoryMiB + (s.residentMiB ?? 0)} MiB, more than the whole budget of ${budgetMiB} MiB`,
			);
	}
	topologicalOrder(steps);
}

/** Steps in an order where every dependency comes first; throws on a cycle. */
export function topologicalOrder(steps: StepSpec[]): StepSpec[] {
	const byId = new Map(steps.map((s) => [s.id, s]));
	const state = new Map<string, 'visiting' | 'done'>();
	const out: StepSpec[] = [];
	const visit = (s: StepSpec, path: string[]) => {
		const st = state.get(s.id);
		if (st === 'done') return;
		if (st === 'visiting') throw new ScheduleError(`dependency cycle: ${[...path, s.id].join(' → ')}`);
		state.set(s.id, 'visiting');
		for (const d of s.deps) visit(byId.get(d)!, [...path, s.id]);
		state.set(s.id, 'done');
		out.push(s);
	};
	for (const s of steps) visit(s, []);
	return out;
}

/** Longest remaining path (in time) from the start of each step to the end of the run: the usual priority. */
export function criticalPath(steps: StepSpec[]): Map<string, number> {
	const order = topologicalOrder(steps);
	const dependents = new Map<string, string[]>(steps.map((s) => [s.id, []]));
	for (const s of steps) for (const d of s.deps) dependents.get(d)!.push(s.id);
	const byId = new Map(steps.map((s) => [s.id, s]));
	const tail = new Map<string, number>();
	for (const s of [...order].reverse()) {
		const after = Math.max(0, ...dependents.get(s.id)!.map((d) => tail.get(d)!));
		tail.set(s.id, byId.get(s.id)!.durationMs + after);
	}
	return tail;
}

/**
 * Serial schedule generation: steps in `order` (dependencies first) each start at the earliest time their
 * inputs are done and the memory in use (running peaks plus resident memory) stays within the budget.
 */
export function serialSchedule(order: StepSpec[], budgetMiB: number): Schedule {
	const placed: (ScheduledStep & {memoryMiB: number; residentMiB: number})[] = [];
	const endOf = new Map<string, number>();
	for (const s of order) {
		const ready = Math.max(0, ...s.deps.map((d) => endOf.get(d) ?? Number.NaN));
		if (Number.isNaN(ready)) throw new ScheduleError(`step ${s.id} comes before one of its dependencies`);
		const candidates = [ready, ...placed.map((p) => p.end).filter((t) => t > ready)].sort((a, b) => a - b);
		let start = -1;
		for (const t of candidates) {
			if (fits(placed, t, t + s.durationMs, s.memoryMiB, s.residentMiB ?? 0, budgetMiB)) {
				start = t;
				break;
			}
		}
		if (start < 0) throw new ScheduleError(`step ${s.id} never fits the memory budget of ${budgetMiB} MiB`);
		placed.push({id: s.id, start, end: start + s.durationMs, memoryMiB: s.memoryMiB, residentMiB: s.residentMiB ?? 0});
		endOf.set(s.id, start + s.durationMs);
	}
	const makespan = Math.max(0, ...placed.map((p) => p.end));
	return {steps: placed.map(({id, start, end}) => ({id, start, end})), makespan, peakMemoryMiB: peakMemory(placed)};
}

type Placed = {start: number; end: number; memoryMiB: number; residentMiB: number};

/** Memory in use at time t: steps running at t plus everything resident from steps started by t. */
function usageAt(placed: Placed[], t: number): number {
	let use = 0;
	for (const p of placed) {
		if (p.start <= t && t < p.end) use += p.memoryMiB;
		if (p.start <= t) use += p.residentMiB;
	}
	return use;
}

function fits(placed: Placed[], start: number, end: number, memoryMiB: number, residentMiB: number, budgetMiB: number): boolean {
	// Usage only changes at step boundaries: check the new step's start and every boundary inside its span.
	const points = [start, ...placed.flatMap((p) => [p.start, p.end]).filter((t) => t > start && t < end)];
	if (points.some((t) => usageAt(placed, t) + memoryMiB + residentMiB > budgetMiB)) return false;
	// Its resident memory stays after it ends: later steps already placed must still fit.
	const later = placed.flatMap((p) => [p.start, p.end]).filter((t) => t >= end);
	return later.every((t) => usageAt(placed, t) + residentMiB <= budgetMiB);
}

function peakMemory(placed: Placed[]): number {
	const points = placed.flatMap((p) => [p.start, p.end]);
	return Math.max(0, ...points.map((t) => usageAt(placed, t)));
}

/**
 * kdoctor's schedule: dependencies first, then the longest remaining path, then the larger memory need. If
 * memory a step keeps (a cluster node) would leave no room for a later step, steps that keep memory are
 * started as late as possible instead (the "build before the cluster" order on a small VM).
 */
export function planSchedule(steps: StepSpec[], budgetMiB: number): Schedule {
	validateSteps(steps, budgetMiB);
	const tail = criticalPath(steps);
	const byPriority = (a: StepSpec, b: StepSpec) =>
		tail.get(b.id)! - tail.get(a.id)! || b.memoryMiB - a.memoryMiB || a.id.localeCompare(b.id);
	const residentLast = (a: StepSpec, b: StepSpec) =>
		Number((a.residentMiB ?? 0) > 0) - Number((b.residentMiB ?? 0) > 0) || byPriority(a, b);
	try {
		return serialSchedule(listOrder(steps, byPriority), budgetMiB);
	} catch (error) {
		if (!(error instanceof ScheduleError)) throw error;
		return serialSchedule(listOrder(steps, residentLast), budgetMiB);
	}
}

/** A dependency-respecting order that always takes the best ready step by `compare`. */
function listOrder(steps: StepSpec[], compare: (a: StepSpec, b: StepSpec) => number): StepSpec[] {
	const remaining = new Set(steps.map((s) => s.id));
	const done = new Set<string>();
	const order: StepSpec[] = [];
	while (remaining.size > 0) {
		const ready = steps.filter((s) => remaining.has(s.id) && s.deps.every((d) => done.has(d))).sort(compare);
		const next = ready[0]!;
		order.push(next);
		remaining.delete(next.id);
		done.add(next.id);
	}
	return order;
}

/**
 * The best makespan any schedule can reach, by trying every dependency-respecting order with the serial
 * generator (its active schedules include an optimal one). For the small graphs of a provisioning flow only.
 */
export function optimalSchedule(steps: StepSpec[], budgetMiB: number, limit = 2_000_000): Schedule {
	validateSteps(steps, budgetMiB);
	let best: Schedule | undefined;
	let tried = 0;
	const order: StepSpec[] = [];
	const done = new Set<string>();
	const search = () => {
		if (tried > limit) throw new ScheduleError(`more than ${limit} orders: the graph is too large for an exhaustive search`);
		if (order.length === steps.length) {
			tried++;
			let s: Schedule;
			try {
				s = serialSchedule(order, budgetMiB);
			} catch (error) {
				// Some orders cannot be scheduled at all (a resident step placed too early); others can.
				if (error instanceof ScheduleError) return;
				throw error;
			}
			if (!best || s.makespan < best.makespan) best = s;
			return;
		}
		for (const s of steps) {
			if (done.has(s.id) || !s.deps.every((d) => done.has(d))) continue;
			order.push(s);
			done.add(s.id);
			search();
			order.pop();
			done.delete(s.id);
		}
	};
	search();
	if (!best) throw new ScheduleError(`no order of the steps fits the memory budget of ${budgetMiB} MiB`);
	return best;
}
