import {mkdtempSync, readFileSync, writeFileSync, mkdirSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {render} from 'ink-testing-library';
import {afterEach, describe, expect, it} from 'vitest';
import {createFsPort} from '../../src/adapters/fs-port.js';
import {createJournal} from '../../src/adapters/journal.js';
import {createRemediationIntents} from '../../src/commands/remediation-intents.js';
import {diagnoseText} from '../../src/core/diagnose/diagnose.js';
import {createDoctorStore} from '../../src/state/store.js';
import {DiagnoseScreen} from '../../src/ui/screens/diagnose-screen.js';
import {StoreProvider} from '../../src/ui/store-context.js';
import {realKb} from '../helpers/kb.js';
import {expectNoErrorFrames, KEYS, press, tick} from '../helpers/ink.js';

const kb = realKb();
const LOG = readFileSync(new URL('../../examples/gateway-e2e-failed-run.log', import.meta.url), 'utf8');
let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

function setup(text = LOG) {
	const dir = mkdtempSync(join(tmpdir(), 'kdoctor-ui-'));
	mkdirSync(join(dir, 'manifests'));
	writeFileSync(join(dir, 'manifests', 'gateway.yaml'), 'containers:\n  - name: gateway\n    image: gateway:gateway-1a2b3c4d\n');
	const store = createDoctorStore({inputs: [{file: 'run.log', diagnosis: diagnoseText(kb, text)}]});
	const intents = createRemediationIntents(kb, store, {
		fs: createFsPort(),
		journal: createJournal(join(dir, 'journal')),
		clock: {now: () => new Date()},
		cwd: dir,
	});
	const app = render(
		<StoreProvider store={store}>
			<DiagnoseScreen entries={kb.kb.byId} intents={intents} />
		</StoreProvider>,
	);
	cleanup = () => app.unmount();
	return {app, store, dir};
}

describe('DiagnoseScreen: + hands a failure no known cause explains to kdoctor kb new', () => {
	it('offers + when there is no confident cause, asks, and on y hands the file over; n goes back', async () => {
		const text = 'ERROR frobnicator handshake rejected by upstream broker "alpha-7"\n';
		const store = createDoctorStore({inputs: [{file: 'fail.log', diagnosis: diagnoseText(kb, text)}]});
		const drafted: string[] = [];
		const intents = {preview() {}, apply() {}, undo() {}, draft: (f: string) => void drafted.push(f)};
		const app = render(
			<StoreProvider store={store}>
				<DiagnoseScreen entries={kb.kb.byId} intents={intents} />
			</StoreProvider>,
		);
		cleanup = () => app.unmount();
		await tick();
		expect(app.lastFrame()).toContain('+ draft your own');
		await press(app.stdin, '+');
		expect(app.lastFrame()).toContain('Draft a team entry from fail.log: kdoctor kb new --from fail.log');
		expect(app.lastFrame()).toContain('y draft it  n/esc cancel');
		await press(app.stdin, 'n');
		expect(app.lastFrame()).not.toContain('Draft a team entry');
		expect(drafted).toEqual([]);
		await press(app.stdin, '+');
		await press(app.stdin, 'y');
		expect(drafted).toEqual(['fail.log']);
	});

	it('does not offer + where a confident cause was found', async () => {
		const {app} = setup();
		await tick();
		expect(app.lastFrame()).not.toMatch(/draft your own/);
		await press(app.stdin, '+');
		expect(app.lastFrame()).not.toContain('Draft a team entry');
	});
});

describe('DiagnoseScreen', () => {
	it('ranks the image problem above the health-check timeout and shows its evidence', async () => {
		const {app} = setup();
		await tick();
		const frame = app.lastFrame()!;
		expect(frame).toMatch(/1 likely cause|2 likely causes/);
		const lines = frame.split('\n');
		const first = lines.findIndex((l) => l.startsWith('› '));
		expect(lines[first]).toContain('image-name-mismatch');
		expect(frame).toContain('Container image "gat');
		expect(frame).toMatch(/healthcheck-timeout/);
		expect(frame.indexOf('image-name-mismatch')).toBeLessThan(frame.indexOf('healthcheck-timeout'));
		expect(frame).toContain('[m] Add the localhost/ prefix to gateway:gateway-1a2b3c4d');
		expectNoErrorFrames(app.frames);
	});

	it('moves, opens details with why-this-confidence, and goes back', async () => {
		const {app} = setup();
		await press(app.stdin, KEYS.DOWN);
		expect(
			app
				.lastFrame()!
				.split('\n')
				.find((l) => l.startsWith('› ')),
		).not.toContain('image-name-mismatch');
		await press(app.stdin, KEYS.UP, KEYS.ENTER);
		expect(app.lastFrame()).toMatch(/Why \d+%/);
		expect(app.lastFrame()).toContain('not image-not-loaded?');
		await press(app.stdin, KEYS.ESC);
		expect(app.lastFrame()).not.toMatch(/Why \d+%/);
		expectNoErrorFrames(app.frames);
	});

	it('reads a line feed as Enter (a key typed before the screen took the terminal arrives as \\n)', async () => {
		const {app} = setup();
		await press(app.stdin, '\n');
		expect(app.lastFrame()).toMatch(/Why \d+%/);
		expectNoErrorFrames(app.frames);
	});

	it('filters findings with / and shows help with ?', async () => {
		const {app} = setup();
		await press(app.stdin, '/', 'n', 'o', 't', ' ', 'l', 'o', 'a', 'd');
		expect(app.lastFrame()).toMatch(/\/not load/);
		expect(
			app
				.lastFrame()!
				.split('\n')
				.find((l) => l.startsWith('› ')),
		).toContain('image-not-loaded');
		await press(app.stdin, KEYS.ESC, '?');
		expect(app.lastFrame()).toContain("undo what kdoctor undo would (this screen's change first): preview, then y");
		await press(app.stdin, KEYS.ESC);
		expectNoErrorFrames(app.frames);
	});

	it('takes a burst of keys (typed fast, pasted) one key at a time: a filter, then the knowledge-base search', async () => {
		const {app} = setup();
		await press(app.stdin, '/not load\r');
		expect(
			app
				.lastFrame()!
				.split('\n')
				.find((l) => l.startsWith('› ')),
		).toContain('image-not-loaded');
		await press(app.stdin, KEYS.ESC, 'slfstack');
		expect(app.lastFrame()).toContain('go-runtime-lfstack-crash');
		expectNoErrorFrames(app.frames);
	});

	it('searches the knowledge base fuzzily', async () => {
		const {app} = setup();
		await press(app.stdin, 's', ...'lfstack'.split(''));
		expect(app.lastFrame()).toContain('go-runtime-lfstack-crash');
		await press(app.stdin, KEYS.ESC);
		expect(app.lastFrame()).toContain('image-name-mismatch');
		expectNoErrorFrames(app.frames);
	});

	it('enter on a knowledge-base search result opens the entry; esc goes back to the search', async () => {
		const {app} = setup();
		await press(app.stdin, 's', ...'lfstack'.split(''));
		const hits = app.lastFrame()!.split('\n');
		const selected = hits.find((l) => l.startsWith('› '))!;
		const id = selected.slice(2).trim().split(/\s+/)[0]!;
		await press(app.stdin, KEYS.ENTER);
		const frame = app.lastFrame()!;
		expect(frame).toContain(`[${id} · `);
		expect(frame).toContain(kb.kb.byId.get(id)!.title);
		expect(frame).toContain('Recognised by');
		expect(frame).toContain('esc back to the search');
		await press(app.stdin, KEYS.ESC);
		expect(app.lastFrame()).toContain('search KB: lfstack');
		expectNoErrorFrames(app.frames);
	});

	it('previews a file fix as a diff, applies it on y, and undoes it on u after its own preview and y', async () => {
		const {app, dir} = setup();
		const manifest = join(dir, 'manifests', 'gateway.yaml');
		await press(app.stdin, 'm');
		expect(app.lastFrame()).toContain('+    image: localhost/gateway:gateway-1a2b3c4d');
		expect(app.lastFrame()).toContain('y apply');
		expect(readFileSync(manifest, 'utf8')).toContain('image: gateway:gateway-1a2b3c4d');
		await press(app.stdin, 'y');
		expect(app.lastFrame()).toMatch(/Applied: 1 file changed/);
		expect(readFileSync(manifest, 'utf8')).toContain('image: localhost/gateway:gateway-1a2b3c4d');
		await press(app.stdin, 'u');
		// u previews first: the same change the other way round, and nothing is written before y.
		expect(app.lastFrame()).toContain('Undo: ');
		expect(app.lastFrame()).toContain('-    image: localhost/gateway:gateway-1a2b3c4d');
		expect(app.lastFrame()).toContain('+    image: gateway:gateway-1a2b3c4d');
		expect(app.lastFrame()).toContain('y apply');
		expect(readFileSync(manifest, 'utf8')).toContain('image: localhost/gateway:gateway-1a2b3c4d');
		await press(app.stdin, 'y');
		expect(app.lastFrame()).toMatch(/Undone:/);
		expect(readFileSync(manifest, 'utf8')).toContain('image: gateway:gateway-1a2b3c4d');
		// Nothing more is in place: a second u says so and touches nothing.
		await press(app.stdin, 'u');
		expect(app.lastFrame()).toContain('Nothing to undo: the journal has no change that is still applied');
		expectNoErrorFrames(app.frames);
	});

	it('cancels a preview with n and never writes', async () => {
		const {app, dir} = setup();
		await press(app.stdin, 'm', 'n');
		expect(app.lastFrame()).not.toContain('y apply');
		expect(readFileSync(join(dir, 'manifests', 'gateway.yaml'), 'utf8')).toContain('image: gateway:gateway-1a2b3c4d');
	});

	it('says why a cluster fix cannot be applied offline', async () => {
		const {app} = setup();
		await press(app.stdin, 'p');
		expect(app.lastFrame()).toMatch(/live access to the cluster/);
		expect(app.lastFrame()).not.toContain('y apply');
	});

	it('distinguishes empty input from a clean log', async () => {
		const e = setup('');
		await tick();
		expect(e.app.lastFrame()).toContain('The input is empty');
		e.app.unmount();
		const c = setup('PASS\nok  github.com/acme/x  0.1s\n');
		await tick();
		expect(c.app.lastFrame()).toContain('No known failure found');
		expectNoErrorFrames(c.app.frames);
	});
});
