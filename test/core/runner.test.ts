import {describe, expect, it} from 'vitest';
import type {PlannedStep, RunEvent} from '../../src/core/provision/events.js';
import {runGraph, StepFailure, type StepContext, type StepOutcome} from '../../src/core/provision/runner.js';
import {planSchedule} from '../../src/core/provision/schedule.js';

const step = (id: string, deps: string[], memoryMiB: number, estimateMs = 1000, residentMiB = 0): PlannedStep => ({
	id,
	title: id,
	kind: id.startsWith('build') ? 'build' : id === 'cluster' ? 'cluster' : 'deploy',
	deps,
	memoryMiB,
	memorySource: 'default',
	residentMiB,
	estimateMs,
});

/** A handler the test drives by hand: each started step waits until the test settles it. */
function manual() {
	const pending = new Map<string, {resolve(o: StepOutcome): void; reject(e: unknown): void; ctx: StepContext}>();
	const started: string[] = [];
	let clock = 0;
	const handler = (s: PlannedStep, ctx: StepContext) =>
		new Promise<StepOutcome>((resolve, reject) => {
			started.push(s.id);
			pending.set(s.id, {resolve, reject, ctx});
			ctx.signal.addEventListener('abort', () => reject(new StepFailure('stopped')));
		});
	const flush = () => new Promise((r) => setImmediate(r));
	return {
		handler,
		started,
		pending,
		now: () => clock,
		tick: (ms: number) => (clock += ms),
		flush,
		async done(id: string, outcome: StepOutcome = {state: 'done'}) {
			const p = pending.get(id);
			if (!p) throw new Error(`${id} is not running (running: ${[...pending.keys()].join(', ')})`);
			pending.delete(id);
			p.resolve(outcome);
			await flush();
		},
		async fail(id: string, failure: StepFailure) {
			const p = pending.get(id)!;
			pending.delete(id);
			p.reject(failure);
			await flush();
		},
		running: () => [...pending.keys()].sort(),
	};
}

function run(
	steps: PlannedStep[],
	budgetMiB: number,
	m: ReturnType<typeof manual>,
	extra: {signal?: AbortSignal; onOom?: (s: PlannedStep) => number; maxBuilds?: number} = {},
) {
	const events: RunEvent[] = [];
	const promise = runGraph({
		steps,
		schedule: planSchedule(
			steps.map((s) => ({
				id: s.id,
				deps: s.deps,
				durationMs: s.estimateMs,
				memoryMiB: Math.min(s.memoryMiB, budgetMiB - s.residentMiB),
				residentMiB: s.residentMiB,
			})),
			budgetMiB,
		),
		budgetMiB,
		handler: m.handler,
		emit: (e) => events.push(e),
		now: m.now,
		signal: extra.signal ?? new AbortController().signal,
		onOom: extra.onOom ?? ((s) => s.memoryMiB * 2),
		maxBuilds: extra.maxBuilds,
	});
	return {events, promise};
}

describe('runGraph: memory-aware execution', () => {
	it('--build-jobs 1 runs one build at a time even when the budget would allow three, and other steps beside it', async () => {
		const steps = [step('build:a', [], 100), step('build:b', [], 100), step('build:c', [], 100), step('pull:x', [], 0)];
		const m = manual();
		const r = run(steps, 8192, m, {maxBuilds: 1});
		await m.flush();
		expect(m.running()).toEqual(['build:a', 'pull:x']);
		await m.done('build:a');
		expect(m.running().filter((id) => id.startsWith('build:'))).toHaveLength(1);
		await m.done(m.running().find((id) => id.startsWith('build:'))!);
		await m.done(m.running().find((id) => id.startsWith('build:'))!);
		await m.done('pull:x');
		expect((await r.promise).ok).toBe(true);
	});

	it('runs two builds one after the other when both do not fit, and side by side when they do', async () => {
		const steps = [step('build:a', [], 1400), step('build:b', [], 1400), step('deploy', ['build:a', 'build:b'], 100)];
		const small = manual();
		const r1 = run(steps, 2048, small);
		await small.flush();
		expect(small.running()).toHaveLength(1);
		await small.done(small.running()[0]!);
		expect(small.running()).toHaveLength(1);
		await small.done(small.running()[0]!);
		expect(small.running()).toEqual(['deploy']);
		await small.done('deploy');
		expect((await r1.promise).ok).toBe(true);

		const big = manual();
		const r2 = run(steps, 4096, big);
		await big.flush();
		expect(big.running()).toEqual(['build:a', 'build:b']);
		await big.done('build:a');
		await big.done('build:b');
		await big.done('deploy');
		expect((await r2.promise).ok).toBe(true);
	});

	it('does not start the cluster (memory it keeps) before the builds planned ahead of it on a small VM', async () => {
		const steps = [
			step('build:a', [], 1400, 150_000),
			step('build:b', [], 1400, 170_000),
			step('cluster', [], 400, 15_000, 700),
			step('load', ['build:a', 'build:b', 'cluster'], 300),
		];
		const m = manual();
		const r = run(steps, 2048, m);
		await m.flush();
		expect(m.running()).toEqual(['build:b']);
		await m.done('build:b');
		expect(m.running()).toEqual(['build:a']);
		await m.done('build:a');
		expect(m.running()).toEqual(['cluster']);
		await m.done('cluster');
		await m.done('load');
		expect((await r.promise).ok).toBe(true);
	});

	it('re-runs a build killed for memory alone, with the memory onOom returns, after what runs beside it ends', async () => {
		const steps = [
			step('build:a', [], 900),
			step('build:b', [], 900),
			step('build:c', [], 900),
			step('deploy', ['build:a', 'build:b', 'build:c'], 100),
		];
		const m = manual();
		const ooms: string[] = [];
		const r = run(steps, 2048, m, {onOom: (s) => (ooms.push(s.id), 1600)});
		await m.flush();
		expect(m.running()).toEqual(['build:a', 'build:b']);
		await m.fail('build:a', new StepFailure('killed', {oomKilled: true}));
		expect(ooms).toEqual(['build:a']);
		const retry = r.events.find((e) => e.type === 'step-retry');
		expect(retry).toMatchObject({id: 'build:a', attempt: 2, memoryMiB: 1600});
		// build:c fits beside build:b, but a build waiting to re-run alone holds every other build back.
		expect(m.running()).toEqual(['build:b']);
		await m.done('build:b');
		expect(m.running()).toEqual(['build:a']);
		expect(m.pending.get('build:a')!.ctx).toMatchObject({attempt: 2, memoryMiB: 1600});
		await m.done('build:a');
		expect(m.running()).toEqual(['build:c']);
		await m.done('build:c');
		await m.done('deploy');
		const res = await r.promise;
		expect(res.ok).toBe(true);
		expect(res.results.get('build:a')!.attempts).toBe(2);
	});

	it('gives up on a build that is killed for memory more often than allowed', async () => {
		const m = manual();
		const r = run([step('build:a', [], 500)], 2048, m);
		for (let i = 0; i < 3; i++) {
			await m.flush();
			await m.fail('build:a', new StepFailure('killed', {oomKilled: true}));
		}
		const res = await r.promise;
		expect(res.ok).toBe(false);
		expect(res.failed).toMatchObject({id: 'build:a', state: 'failed', attempts: 3});
	});

	it('fails fast: a failed deploy stops the waits, lets running builds finish (they are the cache) and starts nothing new', async () => {
		const steps = [
			step('build:a', [], 500),
			step('deploy:x', [], 100),
			step('deploy:y', ['deploy:x'], 100),
			step('build:b', ['build:a'], 500),
		];
		const m = manual();
		const r = run(steps, 4096, m);
		await m.flush();
		expect(m.running()).toEqual(['build:a', 'deploy:x']);
		await m.fail('deploy:x', new StepFailure('ErrImageNeverPull'));
		expect(m.running()).toEqual(['build:a']);
		await m.done('build:a');
		const res = await r.promise;
		expect(res.ok).toBe(false);
		expect(res.failed!.id).toBe('deploy:x');
		expect(res.results.get('build:a')!.state).toBe('done');
		expect(res.results.get('build:b')!.state).toBe('cancelled');
		expect(res.results.get('deploy:y')!.state).toBe('cancelled');
		expect(m.started).not.toContain('build:b');
	});

	it('stops every running step on cancel and reports the run as cancelled', async () => {
		const ac = new AbortController();
		const m = manual();
		const r = run([step('build:a', [], 500), step('build:b', [], 500), step('deploy', ['build:a', 'build:b'], 100)], 4096, m, {
			signal: ac.signal,
		});
		await m.flush();
		expect(m.running()).toEqual(['build:a', 'build:b']);
		const signals = [...m.pending.values()].map((p) => p.ctx.signal);
		ac.abort();
		const res = await r.promise;
		expect(signals.every((s) => s.aborted)).toBe(true);
		expect(res.cancelled).toBe(true);
		expect([...res.results.values()].map((x) => x.state).sort()).toEqual(['cancelled', 'cancelled', 'cancelled']);
		expect(r.events.filter((e) => e.type === 'step-end').map((e) => (e as {state: string}).state)).toEqual(['cancelled', 'cancelled']);
	});

	it('runs a step larger than the whole budget alone instead of never', async () => {
		const m = manual();
		const r = run([step('build:a', [], 3000), step('build:b', [], 200)], 2048, m);
		await m.flush();
		expect(m.running()).toHaveLength(1);
		await m.done(m.running()[0]!);
		await m.done(m.running()[0]!);
		expect((await r.promise).ok).toBe(true);
	});

	it('reports skipped (cached) steps and lets their dependents run', async () => {
		const m = manual();
		const r = run([step('build:a', [], 500), step('deploy', ['build:a'], 100)], 2048, m);
		await m.flush();
		await m.done('build:a', {state: 'skipped', note: 'cached'});
		await m.done('deploy');
		const res = await r.promise;
		expect(res.results.get('build:a')).toMatchObject({state: 'skipped', note: 'cached'});
		expect(r.events.find((e) => e.type === 'step-end' && e.id === 'build:a')).toMatchObject({state: 'skipped', note: 'cached'});
	});
});
