import {readFileSync} from 'node:fs';
import {afterEach, beforeAll, describe, expect, it} from 'vitest';
import type {HomeState} from '../../src/commands/home.js';
import type {TriageSnapshot} from '../../src/core/cluster/engine.js';
import {diagnoseText} from '../../src/core/diagnose/diagnose.js';
import type {RunEvent} from '../../src/core/provision/events.js';
import {createDoctorStore, type DoctorStore} from '../../src/state/store.js';
import {clampOffset, keyHints, ruleLine} from '../../src/ui/components/frame.js';
import {DiagnoseScreen} from '../../src/ui/screens/diagnose-screen.js';
import {HomeScreen} from '../../src/ui/screens/home-screen.js';
import {SetupScreen} from '../../src/ui/screens/setup-screen.js';
import {TriageScreen} from '../../src/ui/screens/triage-screen.js';
import {UpScreen} from '../../src/ui/screens/up-screen.js';
import {StoreProvider} from '../../src/ui/store-context.js';
import {KEYS, press, tick} from '../helpers/ink.js';
import {expectFits, renderSized, screenLines} from '../helpers/ink-sized.js';
import {realKb} from '../helpers/kb.js';
import {jobPod} from '../helpers/live-pod.js';
import {engineSnapshot} from '../helpers/triage-snapshot.js';
import {recordedMacCheckout, recordedMacSetup} from '../helpers/recorded-mac.js';
import {end, FAILED_END, FINDING, line, runStart, s, start} from '../helpers/up-events.js';

// Each screen at the three sizes the issue names: the header, the selected row and the footer in view, nothing wider.
const SIZES: [number, number][] = [
	[60, 20],
	[80, 24],
	[200, 60],
];
const PGDN = '\u001B[6~';
const PGUP = '\u001B[5~';
const kb = realKb();
const LOG = readFileSync(new URL('../../examples/gateway-e2e-failed-run.log', import.meta.url), 'utf8');
const {checkout} = recordedMacCheckout('sizes');
let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

type App = ReturnType<typeof renderSized>;
const mount = (app: App) => ((cleanup = app.unmount), app);
/** The rule above the footer says "12–31 of 80" once the body scrolls. */
const shown = (lines: string[]) => lines.map((l) => /── (\d+)–(\d+) of (\d+)/.exec(l)).find(Boolean);

function diagnoseScreen(columns: number, rows: number, inputs = [{file: 'run.log', diagnosis: diagnoseText(kb, LOG)}]) {
	const store = createDoctorStore({inputs});
	const intents = {preview: () => store.getState().say({kind: 'info', text: 'previewed'}), apply() {}, undo() {}};
	return mount(
		renderSized(
			<StoreProvider store={store}>
				<DiagnoseScreen entries={kb.kb.byId} intents={intents} />
			</StoreProvider>,
			columns,
			rows,
		),
	);
}

describe('the diagnose screen fits the terminal it is given', () => {
	for (const [columns, rows] of SIZES)
		it(`${columns}×${rows}: the list, the details, the KB search and the help`, async () => {
			const app = diagnoseScreen(columns, rows);
			await tick();
			let lines = expectFits(app.lastFrame(), columns, rows);
			expect(lines[0]).toContain('kdoctor diagnose');
			expect(lines.filter((l) => l.startsWith('› '))).toHaveLength(1);
			expect(lines.at(-1)).toContain('q quit');
			for (const keys of [[KEYS.ENTER], [KEYS.ESC, 's'], [KEYS.ESC, '?']]) {
				await press(app.stdin, ...keys);
				lines = expectFits(app.lastFrame(), columns, rows);
				expect(lines[0]).toContain('kdoctor diagnose');
				expect(lines.at(-1)).toMatch(/q quit|esc back/);
			}
		});

	it('the details scroll with ↓, PgDn and G and back with PgUp and g; ↓ no longer changes the finding', async () => {
		const app = diagnoseScreen(80, 24);
		await tick();
		await press(app.stdin, KEYS.ENTER);
		let lines = screenLines(app.lastFrame());
		const first = shown(lines)!;
		expect(first.slice(1, 3)).toEqual(['1', String(Number(first[2]))]);
		const total = Number(first[3]);
		expect(total).toBeGreaterThan(24);
		const title = lines[2];
		await press(app.stdin, KEYS.DOWN);
		expect(shown(screenLines(app.lastFrame()))![1]).toBe('2');
		await press(app.stdin, PGDN);
		const paged = Number(shown(screenLines(app.lastFrame()))![1]);
		expect(paged).toBeGreaterThan(10);
		await press(app.stdin, 'G');
		lines = expectFits(app.lastFrame(), 80, 24);
		expect(shown(lines)![2]).toBe(String(total));
		expect(lines.join('\n')).toContain('Fixes');
		await press(app.stdin, PGUP, 'g');
		lines = screenLines(app.lastFrame());
		expect(shown(lines)![1]).toBe('1');
		// Still the same finding: the first body line is its title.
		expect(lines[2]).toBe(title);
	});

	it('a long list keeps the selected row in view as it moves, and PgDn/G move the selection a page/to the end', async () => {
		// Twelve files, each with its findings: more rows than a 60×20 terminal holds.
		const inputs = Array.from({length: 12}, (_, i) => ({file: `run-${i}.log`, diagnosis: diagnoseText(kb, LOG)}));
		const app = diagnoseScreen(60, 20, inputs);
		await tick();
		for (let i = 0; i < 20; i++) await press(app.stdin, KEYS.DOWN);
		let lines = expectFits(app.lastFrame(), 60, 20);
		expect(lines.filter((l) => l.startsWith('› '))).toHaveLength(1);
		await press(app.stdin, 'G');
		lines = expectFits(app.lastFrame(), 60, 20);
		expect(lines.filter((l) => l.startsWith('› '))).toHaveLength(1);
		expect(lines.join('\n')).toMatch(/run-11\.log/);
		await press(app.stdin, 'g');
		lines = screenLines(app.lastFrame());
		expect(lines[2]).toMatch(/^› /);
	});

	it('a resize redraws at the new size', async () => {
		const app = diagnoseScreen(200, 60);
		await tick();
		expect(screenLines(app.lastFrame()).length).toBeLessThan(40);
		app.stdout.resize(60, 20);
		await tick();
		const lines = expectFits(app.lastFrame(), 60, 20);
		expect(lines[0]).toContain('kdoctor diagnose');
		expect(lines.at(-1)).toContain('q quit');
		app.stdout.resize(80, 24);
		await tick();
		expectFits(app.lastFrame(), 80, 24);
	});
});

const pod = jobPod;

/** A real snapshot from the engine: thirty crash-looping jobs, each with a long log. */
async function triageSnapshot(): Promise<TriageSnapshot> {
	const log = Array.from(
		{length: 60},
		(_, i) => `2026-11-23T10:00:${String(i % 60).padStart(2, '0')}.000Z line ${i} of the job's own output`,
	)
		.concat(['2026-11-23T10:01:00.000Z {"level":"fatal","msg":"KUBERNAUT_CONTROLLER_NAMESPACE environment variable is required"}'])
		.join('\n');
	const pods = Array.from({length: 30}, (_, i) =>
		pod(`worker-${i}-1`, `worker-${i}`, {
			name: 'worker',
			image: 'localhost/demo/worker:kd-1',
			ready: false,
			restartCount: 3,
			waitingReason: 'CrashLoopBackOff',
			lastTerminatedReason: 'Error',
			lastExitCode: 1,
		}),
	);
	return engineSnapshot(kb, pods, () => log);
}

describe('the triage screen fits the terminal it is given', () => {
	let snap: TriageSnapshot;
	beforeAll(async () => {
		snap = await triageSnapshot();
	}, 30_000);
	const triage = (columns: number, rows: number) => {
		const store = createDoctorStore();
		store.getState().triageSet({readOnly: false, where: 'namespace demo'});
		store.getState().triageSnapshot(snap);
		return mount(
			renderSized(
				<StoreProvider store={store}>
					<TriageScreen onIntent={() => {}} color={false} />
				</StoreProvider>,
				columns,
				rows,
			),
		);
	};
	for (const [columns, rows] of SIZES)
		it(`${columns}×${rows}: thirty workloads, the selection followed to the bottom, a long log scrolled`, async () => {
			const app = triage(columns, rows);
			await tick();
			let lines = expectFits(app.lastFrame(), columns, rows);
			expect(lines[0]).toContain('kdoctor triage');
			expect(lines.at(-1)).toContain('q quit');
			for (let i = 0; i < 29; i++) await press(app.stdin, 'j');
			lines = expectFits(app.lastFrame(), columns, rows);
			expect(lines.find((l) => l.startsWith('›'))).toContain('job/worker-');
			expect(lines[0]).toContain('kdoctor triage');
			await press(app.stdin, 'l');
			lines = expectFits(app.lastFrame(), columns, rows);
			expect(lines.at(-1)).toContain('q quit');
			await press(app.stdin, 'G');
			lines = expectFits(app.lastFrame(), columns, rows);
			expect(lines.join('\n')).toContain('environment variable is required');
			expect(lines[0]).toContain('kdoctor triage');
		});
});

describe('the up screen fits the terminal it is given', () => {
	const events: RunEvent[] = [
		runStart(),
		start('build-gateway', 0),
		...Array.from({length: 40}, (_, i) =>
			line('build-gateway', 1 + i, `STEP ${i}: a build line that is long enough to wrap on a narrow terminal, and then some`),
		),
		end('build-gateway', 150, 150),
		start('deploy-gateway', 150),
		line('deploy-gateway', 160, 'deployment "gateway" exceeded its progress deadline', 'stderr'),
		end('deploy-gateway', 180, 30, 'failed', {note: 'rollout timed out'}),
		{type: 'diagnosis', at: s(181), step: 'deploy-gateway', findings: [FINDING]},
		FAILED_END,
	];
	const up = async (columns: number, rows: number) => {
		const store: DoctorStore = createDoctorStore();
		const app = mount(
			renderSized(
				<StoreProvider store={store}>
					<UpScreen onCancel={() => {}} onIntent={() => {}} clock={() => 0} tickMs={0} />
				</StoreProvider>,
				columns,
				rows,
			),
		);
		for (const ev of events) store.getState().upEvent(ev);
		store.getState().upFlush();
		await tick();
		return app;
	};
	for (const [columns, rows] of SIZES)
		it(`${columns}×${rows}: the chart, a step's output and the diagnosis`, async () => {
			const app = await up(columns, rows);
			let lines = expectFits(app.lastFrame(), columns, rows);
			expect(lines[0]).toContain('kdoctor up');
			expect(lines.find((l) => l.startsWith('›'))).toContain('Deploy Gateway');
			expect(lines.at(-1)).toContain('q quit');
			await press(app.stdin, 'k', 'k', 'k', 'k', 't');
			lines = expectFits(app.lastFrame(), columns, rows);
			expect(lines.find((l) => l.startsWith('›'))).toContain('Build gateway');
			expect(lines.at(-1)).toContain('q quit');
			await press(app.stdin, PGDN, PGDN, PGDN);
			lines = expectFits(app.lastFrame(), columns, rows);
			expect(lines[0]).toContain('kdoctor up');
			expect(lines.at(-1)).toContain('q quit');
		});
});

describe('the setup and home screens fit the terminal they are given', () => {
	for (const [columns, rows] of SIZES)
		it(`${columns}×${rows}: every check of the recorded Mac, the selection followed, a fix's preview`, {timeout: 30_000}, async () => {
			const {store, intents} = await recordedMacSetup(checkout);
			const app = mount(
				renderSized(
					<StoreProvider store={store}>
						<SetupScreen onIntent={intents.onIntent} heading="kdoctor setup — kubernaut-gateway" color={false} />
					</StoreProvider>,
					columns,
					rows,
				),
			);
			await intents.run();
			for (let i = 0; i < 100 && !app.lastFrame().includes('Not ready'); i++) await tick();
			let lines = expectFits(app.lastFrame(), columns, rows);
			expect(lines[0]).toContain('kdoctor setup');
			expect(lines.at(-1)).toContain('q quit');
			expect(lines.filter((l) => l.startsWith('› ['))).toHaveLength(1);
			for (let i = 0; i < 40; i++) await press(app.stdin, 'j');
			lines = expectFits(app.lastFrame(), columns, rows);
			expect(lines.filter((l) => l.startsWith('› ['))).toHaveLength(1);
			expect(lines[0]).toContain('kdoctor setup');
			await press(app.stdin, 'm');
			for (let i = 0; i < 100 && !app.lastFrame().includes('y apply'); i++) await tick();
			lines = expectFits(app.lastFrame(), columns, rows);
			expect(lines.join('\n')).toContain('y apply (journaled)');
			expect(lines.at(-1)).toContain('q quit');
		});

	const home: HomeState = {
		firstRun: false,
		profiles: Array.from({length: 30}, (_, i) => ({
			name: `team-${i}`,
			description: `the team's profile number ${i}`,
			origin: 'kdoctor.yaml',
		})),
	};
	for (const [columns, rows] of SIZES)
		it(`${columns}×${rows}: home with thirty profiles follows the one chosen`, async () => {
			const app = mount(renderSized(<HomeScreen state={home} onChoose={() => {}} color={false} />, columns, rows));
			await tick();
			for (let i = 0; i < 29; i++) await press(app.stdin, 'j');
			const lines = expectFits(app.lastFrame(), columns, rows);
			expect(lines[0]).toBe('kdoctor');
			expect(lines.find((l) => l.startsWith('› '))).toContain('team-29');
			expect(lines.at(-1)).toContain('q quit');
		});
});

describe('the frame arithmetic', () => {
	it('moves the view as little as the focus needs, lets a tall focus be scrolled through, stays in the content', () => {
		const h = {body: 10, content: 50};
		expect(clampOffset(0, h, 4)).toBe(0);
		expect(clampOffset(0, h, 12)).toBe(3);
		expect(clampOffset(20, h, 12)).toBe(12);
		expect(clampOffset(0, h, 30, 25)).toBe(30);
		expect(clampOffset(50, h, 30, 25)).toBe(40);
		expect(clampOffset(99, h)).toBe(40);
		expect(clampOffset(-5, h)).toBe(0);
	});
	it('keeps the footer hints that fit, the last ones always, and says where the body is', () => {
		expect(keyHints(30, ['↑↓ move', 'enter details', 'letters: fixes'], ['? help', 'q quit'])).toBe('↑↓ move  ? help  q quit');
		expect(ruleLine(40, {from: 1, to: 10, of: 30})).toMatch(/^── 1–10 of 30 · PgDn more ─+$/);
		expect(ruleLine(40, {from: 21, to: 30, of: 30})).not.toContain('PgDn');
	});
});
