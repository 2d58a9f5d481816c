import {describe, expect, it} from 'vitest';
import {REFERENCE_FLOW} from '../../src/core/provision/reference-flow.js';
import {
	optimalSchedule,
	planSchedule,
	ScheduleError,
	serialSchedule,
	topologicalOrder,
	type Schedule,
	type StepSpec,
} from '../../src/core/provision/schedule.js';

const FLOW = REFERENCE_FLOW;

function checkValid(s: Schedule, steps: StepSpec[], budget: number): void {
	const at = new Map(s.steps.map((x) => [x.id, x]));
	for (const step of steps) {
		const x = at.get(step.id)!;
		for (const d of step.deps) expect(x.start, `${step.id} after ${d}`).toBeGreaterThanOrEqual(at.get(d)!.end);
	}
	expect(s.peakMemoryMiB).toBeLessThanOrEqual(budget);
}

describe('planSchedule', () => {
	it.each([2048, 3072, 4096, 8192])('stays within a %i MiB budget and within 5 percent of the best possible makespan', (budget) => {
		const mine = planSchedule(FLOW, budget);
		const best = optimalSchedule(FLOW, budget);
		checkValid(mine, FLOW, budget);
		checkValid(best, FLOW, budget);
		expect(mine.makespan).toBeLessThanOrEqual(best.makespan * 1.05);
	});

	it('runs the two Go builds one after the other, before the cluster, on a 2 GiB VM (the December trap)', () => {
		const s = planSchedule(FLOW, 2048);
		const at = new Map(s.steps.map((x) => [x.id, x]));
		const [first, second] = [at.get('build-gateway')!, at.get('build-datastorage')!].sort((a, b) => a.start - b.start);
		expect(second!.start).toBeGreaterThanOrEqual(first!.end);
		expect(at.get('cluster')!.start).toBeGreaterThanOrEqual(second!.end);
	});

	it('runs both builds at once when the VM has room for them', () => {
		const at = new Map(planSchedule(FLOW, 8192).steps.map((x) => [x.id, x]));
		expect(at.get('build-gateway')!.start).toBe(0);
		expect(at.get('build-datastorage')!.start).toBe(0);
	});

	it('starts a memory-keeping step later when starting it first would leave a big step no room', () => {
		// The node has the longest remaining path, so it goes first by priority, and then the build never fits.
		const steps: StepSpec[] = [
			{id: 'node', deps: [], durationMs: 10, memoryMiB: 100, residentMiB: 700},
			{id: 'after-node', deps: ['node'], durationMs: 500, memoryMiB: 10},
			{id: 'build', deps: [], durationMs: 100, memoryMiB: 1400},
		];
		const s = planSchedule(steps, 2048);
		checkValid(s, steps, 2048);
		const at = new Map(s.steps.map((x) => [x.id, x]));
		expect(at.get('node')!.start).toBeGreaterThanOrEqual(at.get('build')!.end);
		expect(s.makespan).toBe(optimalSchedule(steps, 2048).makespan);
	});

	it('keeps resident memory counted after a step ends', () => {
		const steps: StepSpec[] = [
			{id: 'node', deps: [], durationMs: 10, memoryMiB: 100, residentMiB: 600},
			{id: 'build', deps: [], durationMs: 100, memoryMiB: 500},
		];
		const s = planSchedule(steps, 1000);
		checkValid(s, steps, 1000);
		expect(s.makespan).toBe(110);
	});

	it('rejects cycles, unknown dependencies and steps larger than the budget, each in one line', () => {
		expect(() =>
			planSchedule(
				[
					{id: 'a', deps: ['b'], durationMs: 1, memoryMiB: 1},
					{id: 'b', deps: ['a'], durationMs: 1, memoryMiB: 1},
				],
				10,
			),
		).toThrow(/dependency cycle: a → b → a/);
		expect(() => planSchedule([{id: 'a', deps: ['zz'], durationMs: 1, memoryMiB: 1}], 10)).toThrow(/unknown step zz/);
		expect(() => planSchedule([{id: 'a', deps: [], durationMs: 1, memoryMiB: 11}], 10)).toThrow(ScheduleError);
	});
});

describe('serialSchedule and optimalSchedule on random graphs', () => {
	it('always respects dependencies and the budget, and the optimum is never worse than the plan', () => {
		let seed = 7;
		const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
		for (let g = 0; g < 40; g++) {
			const n = 3 + Math.floor(rand() * 5);
			const steps: StepSpec[] = Array.from({length: n}, (_, i) => ({
				id: `s${i}`,
				deps: Array.from({length: i}, (_, j) => `s${j}`).filter(() => rand() < 0.3),
				durationMs: 1 + Math.floor(rand() * 100),
				memoryMiB: Math.floor(rand() * 600),
				residentMiB: rand() < 0.2 ? Math.floor(rand() * 200) : 0,
			}));
			const budget = 1000;
			const plan = planSchedule(steps, budget);
			const best = optimalSchedule(steps, budget);
			checkValid(plan, steps, budget);
			checkValid(best, steps, budget);
			expect(best.makespan).toBeLessThanOrEqual(plan.makespan);
			expect(serialSchedule(topologicalOrder(steps), budget).makespan).toBeGreaterThanOrEqual(best.makespan);
		}
	});
});
