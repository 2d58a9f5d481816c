import {render} from 'ink-testing-library';
import {afterEach, describe, expect, it, vi} from 'vitest';
import type {RunEvent} from '../../src/core/provision/events.js';
import {createDoctorStore, reduceUp, emptyUp, UP_TAIL_KEEP, type DoctorStore} from '../../src/state/store.js';
import {UpScreen, type UpIntent} from '../../src/ui/screens/up-screen.js';
import {StoreProvider} from '../../src/ui/store-context.js';
import {expectNoErrorFrames, KEYS, press, tick} from '../helpers/ink.js';
import {end, FAILED_END, FINDING, line, PLAN, runStart, s, start, SUCCESS} from '../helpers/up-events.js';

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

function setup(opts: {coalesceMs?: number} = {}) {
	const store = createDoctorStore({}, opts);
	const onCancel = vi.fn();
	const intents: UpIntent[] = [];
	const app = render(
		<StoreProvider store={store}>
			<UpScreen onCancel={onCancel} onIntent={(i) => intents.push(i)} clock={() => 0} tickMs={0} />
		</StoreProvider>,
	);
	cleanup = () => app.unmount();
	return {app, store, onCancel, intents};
}

async function feed(store: DoctorStore, events: RunEvent[]) {
	for (const ev of events) store.getState().upEvent(ev);
	store.getState().upFlush();
	await tick();
}

const frameOf = (app: {lastFrame(): string | undefined}) => app.lastFrame()!;
const rowOf = (frame: string, title: string) => frame.split('\n').find((l) => l.includes(title)) ?? '';
/** Columns a row's bar fills (any fill but the "still expected" shade), relative to the bar's left edge. */
function barColumns(row: string): number[] {
	const left = row.indexOf('│');
	const right = row.lastIndexOf('│');
	const out: number[] = [];
	[...row.slice(left + 1, right)].forEach((ch, i) => {
		if (/[█▓▒▏]/.test(ch)) out.push(i);
	});
	return out;
}

describe('UpScreen', () => {
	it('shows a parallel run as it goes: two builds side by side, live durations, then ready with the bundle', async () => {
		const {app, store} = setup();
		await feed(store, SUCCESS.slice(0, 4));
		let f = frameOf(app);
		expect(f).toContain('kdoctor up');
		expect(f).toContain('gateway-e2e · kind · podman · run r-0102-1000 · budget 4000 MiB (podman machine)');
		expect(f).toContain('3 running · 0/6 done · mem ~3800/4000 MiB');
		expect(rowOf(f, 'Build gateway image')).toMatch(/^› ▶ Build gateway image/);
		expect(rowOf(f, 'Build datastorage image')).toMatch(/^ {2}▶ /);
		expect(rowOf(f, 'Health check')).toMatch(/^ {2}· Health check/);
		expect(rowOf(f, 'Build gateway image')).toContain('est 1.4G');

		await feed(store, SUCCESS.slice(4, 6));
		f = frameOf(app);
		expect(f).toContain('2 running · 1/6 done · mem ~3500/4000 MiB');
		expect(rowOf(f, 'Create Kind cluster')).toMatch(/✓ Create Kind cluster.*15s peak 610M/);
		// live: a running step's duration follows the latest event
		expect(rowOf(f, 'Build gateway image')).toContain(' 15s ');
		// still expected: the estimate shows as a light shade ahead of the running bar
		expect(rowOf(f, 'Build datastorage image')).toContain('░');

		await feed(store, SUCCESS.slice(6));
		f = frameOf(app);
		const gw = rowOf(f, 'Build gateway image');
		const ds = rowOf(f, 'Build datastorage image');
		expect(gw).toMatch(/✓ Build gateway image +2m30s peak 1.3G/);
		expect(ds).toMatch(/✓ Build datastorage image +2m50s peak 1.3G/);
		const a = barColumns(gw);
		const b = barColumns(ds);
		expect(a[0]).toBe(0);
		expect(b[0]).toBe(0);
		// side by side: the two bars share columns; the later steps start after both builds
		expect(a.filter((c) => b.includes(c)).length).toBeGreaterThan(10);
		expect(barColumns(rowOf(f, 'Load images'))[0]).toBeGreaterThanOrEqual(b.at(-1)!);
		const barWidth = gw.lastIndexOf('│') - gw.indexOf('│') - 1;
		expect(barColumns(rowOf(f, 'Health check')).at(-1)).toBe(barWidth - 1);
		// one shared axis: 0s at the bars' left edge, the run's length at their right edge
		const axis = f.split('\n').find((l) => /^\s+0s\s/.test(l))!;
		expect(axis.indexOf('0s')).toBe(gw.indexOf('│') + 1);
		expect(axis.indexOf('3m20s') + '3m20s'.length).toBe(gw.lastIndexOf('│'));
		expect(f).toContain('✓ ready in 3m20s');
		expect(f).toContain('Gateway answers on http://localhost:8080');
		expect(f).toContain('bundle  /tmp/kdoctor/runs/r-0102-1000/bundle.tar.gz');
		expect(f).toContain('6/6 done');
		expect(f).toContain('q quit');
		expectNoErrorFrames(app.frames);
	});

	it('marks cached builds as skipped and charts only what ran', async () => {
		const {app, store} = setup();
		await feed(store, [
			runStart(),
			start('build-gateway', 0),
			end('build-gateway', 0.2, 0.2, 'skipped', {note: 'cached'}),
			start('build-datastorage', 0),
			end('build-datastorage', 0.2, 0.2, 'skipped', {note: 'cached'}),
			start('cluster', 0),
			end('cluster', 15, 15),
			start('load-images', 15),
			end('load-images', 40, 25),
			start('deploy-gateway', 40),
			end('deploy-gateway', 55, 15),
			start('health', 55),
			end('health', 60, 5),
			{type: 'run-end', at: s(60), ok: true, durationMs: 60_000, runDir: '/tmp/r', message: ''},
		]);
		const f = frameOf(app);
		const gw = rowOf(f, 'Build gateway image');
		expect(gw).toMatch(/↷ Build gateway image +0\.2s/);
		expect(gw).toContain('cached');
		expect(gw).not.toContain('est ');
		expect(rowOf(f, 'Build datastorage image')).toContain('cached');
		expect(barColumns(gw)).toEqual([0]);
		expect(f).toContain('6/6 done (2 cached)');
		expect(f).toContain('✓ ready in 1m00s');
		expectNoErrorFrames(app.frames);
	});

	it('shows an OOM retry: the killed attempt, the attempt count, the raised memory', async () => {
		const {app, store} = setup();
		await feed(store, [
			runStart(),
			start('build-gateway', 0),
			start('build-datastorage', 0),
			{type: 'step-retry', at: s(60), id: 'build-gateway', attempt: 2, reason: 'OOM-killed, re-running alone', memoryMiB: 2200},
		]);
		let f = frameOf(app);
		expect(rowOf(f, 'Build gateway image')).toMatch(/· Build gateway image ↻2 /);
		expect(rowOf(f, 'Build gateway image')).toContain('est 2.1G');
		expect(rowOf(f, 'Build gateway image')).toContain('OOM-killed');
		await feed(store, [
			end('build-datastorage', 170, 170),
			start('build-gateway', 170, 2),
			end('build-gateway', 320, 150, 'done', {peakMiB: 1900}),
		]);
		f = frameOf(app);
		const gw = rowOf(f, 'Build gateway image');
		expect(gw).toMatch(/✓ Build gateway image ↻2 +2m30s peak 1.9G/);
		const bar = gw.slice(gw.indexOf('│') + 1, gw.lastIndexOf('│'));
		expect(bar.indexOf('▒')).toBe(0);
		expect(bar.indexOf('█')).toBeGreaterThan(bar.lastIndexOf('▒'));
		expectNoErrorFrames(app.frames);
	});

	it('toggles the selected step output with t/enter, moves with j/k and arrows, and shows help', async () => {
		const {app, store} = setup();
		await feed(store, [runStart(), start('build-gateway', 0), start('cluster', 0)]);
		for (let i = 1; i <= 40; i++) store.getState().upEvent(line('build-gateway', i, `STEP ${i}/40: go build ./cmd/gateway`));
		store.getState().upEvent(line('cluster', 2, 'Creating cluster "kdoctor" ...', 'stderr'));
		await feed(store, []);
		expect(frameOf(app)).not.toContain('STEP 40/40');
		await press(app.stdin, 't');
		let f = frameOf(app);
		expect(f).toContain('output · Build gateway image · last 15 of 40 lines');
		expect(f).toContain('│ STEP 40/40: go build ./cmd/gateway');
		expect(f).toContain('│ STEP 26/40');
		expect(f).not.toContain('STEP 25/40');
		await press(app.stdin, 'j', 'j');
		f = frameOf(app);
		expect(rowOf(f, 'Create Kind cluster')).toMatch(/^› /);
		expect(f).toContain('output · Create Kind cluster · 1 line');
		expect(f).toContain('│ Creating cluster "kdoctor" ...');
		await press(app.stdin, KEYS.UP);
		expect(rowOf(frameOf(app), 'Build datastorage image')).toMatch(/^› /);
		expect(frameOf(app)).toContain('no output yet');
		await press(app.stdin, KEYS.ENTER);
		expect(frameOf(app)).not.toContain('output ·');
		await press(app.stdin, 'k', KEYS.ENTER, KEYS.ESC);
		expect(frameOf(app)).not.toContain('output ·');
		await press(app.stdin, '?');
		f = frameOf(app);
		expect(f).toContain('select a step');
		expect(f).toContain('↷ skipped (cached)');
		expect(f).not.toContain('Build gateway image');
		await press(app.stdin, KEYS.ESC);
		expect(frameOf(app)).toContain('Build gateway image');
		expectNoErrorFrames(app.frames);
	});

	it('shows a failure with its diagnosis; fix keys call onIntent, a colliding key moves to Shift', async () => {
		const {app, store, intents} = setup();
		await feed(store, [
			runStart(),
			start('build-gateway', 0),
			end('build-gateway', 150, 150),
			start('deploy-gateway', 150),
			line('deploy-gateway', 160, 'deployment "gateway" exceeded its progress deadline', 'stderr'),
			end('deploy-gateway', 180, 30, 'failed', {note: 'rollout timed out'}),
			{
				type: 'diagnosis',
				at: s(181),
				step: 'deploy-gateway',
				findings: [
					FINDING,
					{...FINDING, id: 'image-not-loaded', title: 'The image was never loaded into the node', confidence: 0.31, remediations: []},
				],
			},
			FAILED_END,
		]);
		let f = frameOf(app);
		expect(rowOf(f, 'Deploy Gateway')).toMatch(/^› ✗ Deploy Gateway +30s/);
		expect(rowOf(f, 'Deploy Gateway')).toContain('rollout timed');
		expect(f).toContain('✗ failed after 3m02s');
		expect(f).toContain('Diagnosis of Deploy Gateway');
		expect(f).toMatch(/✗ The manifest asks for an image name the node does not hold\s+image-name-mismatch · image · 85%/);
		expect(f).toContain('Container image "gateway:1a2b" is not present');
		expect(f).toContain('[p] Patch the deployment to localhost/gateway:1a2b');
		expect(f).toContain('[T] Tag the image as gateway:1a2b in the node');
		expect(f).toContain('image-not-loaded');
		expect(f).toContain('✗ Deploy Gateway failed: the manifest asks for an image name');
		expect(f).toContain('resume  kdoctor up --resume r-0102-1000');
		expect(f).toContain('bundle  /tmp/r/bundle.tar.gz');
		expect(f).toContain('letters: fixes');
		await press(app.stdin, 'p');
		expect(intents).toEqual([{type: 'remediation', findingId: 'image-name-mismatch', key: 'p'}]);
		await press(app.stdin, 't');
		f = frameOf(app);
		expect(intents).toHaveLength(1);
		expect(f).toContain('output · Deploy Gateway · 1 line');
		expect(f).toContain('exceeded its progress deadline');
		await press(app.stdin, 'T', 'x');
		expect(intents).toEqual([
			{type: 'remediation', findingId: 'image-name-mismatch', key: 'p'},
			{type: 'remediation', findingId: 'image-name-mismatch', key: 't'},
		]);
		expectNoErrorFrames(app.frames);
	});

	it('cancels on q: says stopping…, calls onCancel once, stays after run-end until q', async () => {
		const {app, store, onCancel} = setup();
		await feed(store, [runStart(), start('build-gateway', 0), start('cluster', 0), end('cluster', 15, 15)]);
		expect(frameOf(app)).toContain('q stop');
		await press(app.stdin, 'q');
		expect(onCancel).toHaveBeenCalledTimes(1);
		expect(frameOf(app)).toContain('stopping…');
		await press(app.stdin, 'q');
		expect(onCancel).toHaveBeenCalledTimes(1);
		await press(app.stdin, '\u0003');
		expect(onCancel).toHaveBeenCalledTimes(2);
		await feed(store, [
			end('build-gateway', 20, 20, 'cancelled'),
			{
				type: 'run-end',
				at: s(21),
				ok: false,
				durationMs: 21_000,
				runDir: '/tmp/r',
				message: 'Stopped: nothing is left running',
				resume: 'kdoctor up --resume r-0102-1000',
			},
		]);
		let f = frameOf(app);
		expect(rowOf(f, 'Build gateway image')).toMatch(/⊘ Build gateway image +20s/);
		expect(f).toContain('⊘ stopped after 21s');
		expect(f).toContain('✗ Stopped: nothing is left running');
		expect(f).toContain('resume  kdoctor up --resume r-0102-1000');
		expect(f).not.toContain('stopping…');
		expect(f).toContain('q quit');
		await press(app.stdin, 'q');
		expect(onCancel).toHaveBeenCalledTimes(2);
		// the screen has exited: the store changing draws no new frame
		const n = app.frames.length;
		store.getState().upSelect('health');
		await tick();
		expect(app.frames.length).toBe(n);
		f = frameOf(app);
		expectNoErrorFrames(app.frames);
	});

	it('ticks while the run goes on: a spinner, live durations and elapsed time from the clock; still once it ends', async () => {
		const store = createDoctorStore();
		let wall = s(0);
		const app = render(
			<StoreProvider store={store}>
				<UpScreen onCancel={() => {}} onIntent={() => {}} clock={() => wall} tickMs={20} />
			</StoreProvider>,
		);
		cleanup = () => app.unmount();
		await feed(store, [runStart(), start('build-gateway', 0)]);
		wall = s(42);
		await new Promise((r) => setTimeout(r, 80));
		const f = frameOf(app);
		expect(rowOf(f, 'Build gateway image')).toMatch(/^› [⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] Build gateway image +42s /);
		expect(f.split('\n')[0]).toMatch(/· 42s$/);
		await feed(store, [
			end('build-gateway', 50, 50),
			{type: 'run-end', at: s(50), ok: true, durationMs: 50_000, runDir: '/r', message: ''},
		]);
		const n = app.frames.length;
		await new Promise((r) => setTimeout(r, 80));
		expect(app.frames.length).toBe(n);
		expect(frameOf(app)).toContain('✓ ready in 50s');
		expectNoErrorFrames(app.frames);
	});

	it('coalesces a flood of output lines into a few frames and keeps only the last lines', async () => {
		const {app, store} = setup({coalesceMs: 50});
		await feed(store, [runStart(), start('build-gateway', 0)]);
		await press(app.stdin, 't');
		const before = app.frames.length;
		for (let i = 0; i < 4000; i++) store.getState().upEvent(line('build-gateway', 1, `line ${i}`));
		expect(store.getState().up.tails['build-gateway']).toBeUndefined();
		await new Promise((r) => setTimeout(r, 120));
		expect(app.frames.length - before).toBeLessThanOrEqual(2);
		expect(frameOf(app)).toContain('last 15 of 4,000 lines');
		expect(frameOf(app)).toContain('│ line 3999');
		const t = store.getState().up.tails['build-gateway']!;
		expect(t.lines).toHaveLength(UP_TAIL_KEEP);
		expect(t.lines[0]!.line).toBe(`line ${4000 - UP_TAIL_KEEP}`);
		expectNoErrorFrames(app.frames);
	});
});

describe('the up slice of the store', () => {
	it('keeps steps untouched by output lines, so the chart does not redraw for them', () => {
		const a = reduceUp(emptyUp(), [runStart(), start('build-gateway', 0)]);
		const b = reduceUp(a, [line('build-gateway', 1, '\u001B[31mred\u001B[0m text\r')]);
		expect(b.steps).toBe(a.steps);
		expect(b.lastAt).toBe(a.lastAt);
		expect(b.tails['build-gateway']!.lines[0]!.line).toBe('red text');
		expect(b.order).toEqual(PLAN.map((p) => p.id));
	});

	it('gives an unannounced step a row and stops a running step when the run ends', () => {
		const u = reduceUp(emptyUp(), [
			runStart(),
			start('build-gateway', 0),
			start('mystery', 1),
			{type: 'run-end', at: s(5), ok: false, durationMs: 5000, runDir: '/r', message: 'stopped'},
		]);
		expect(u.order.at(-1)).toBe('mystery');
		expect(u.steps['build-gateway']!.state).toBe('cancelled');
		expect(u.steps['build-gateway']!.spans).toEqual([{start: s(0), end: s(5), state: 'cancelled', attempt: 1}]);
	});

	it('leaves the diagnose screen state alone', () => {
		const store = createDoctorStore();
		store.getState().upEvent(runStart());
		expect(store.getState().view).toBe('list');
		expect(store.getState().rows).toEqual([]);
	});
});
