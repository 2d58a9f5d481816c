import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {render} from 'ink-testing-library';
import {afterEach, describe, expect, it, vi} from 'vitest';
import {createJournal} from '../../src/adapters/journal.js';
import {changeService} from '../../src/commands/changes.js';
import {triageIntents} from '../../src/ui/run-triage.js';
import {createDoctorStore} from '../../src/state/store.js';
import {TriageScreen, type TriageIntent} from '../../src/ui/screens/triage-screen.js';
import {StoreProvider} from '../../src/ui/store-context.js';
import {expectNoErrorFrames, KEYS, press, tick} from '../helpers/ink.js';
import {realKb} from '../helpers/kb.js';
import {DEMO_NODES, DEMO_PODS, demoPreviousLog, engineSnapshot} from '../helpers/triage-snapshot.js';

const kb = realKb();
let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

/** A real snapshot from the engine: a crash loop with its log, and an image the node does not hold. */
const snapshot = () => engineSnapshot(kb, DEMO_PODS, demoPreviousLog, DEMO_NODES);

async function setup(readOnly = false) {
	const store = createDoctorStore();
	store.getState().triageSet({readOnly, where: 'namespace demo'});
	store.getState().triageSnapshot(await snapshot());
	const intents: TriageIntent[] = [];
	const app = render(
		<StoreProvider store={store}>
			<TriageScreen onIntent={(i) => intents.push(i)} color={false} />
		</StoreProvider>,
	);
	cleanup = () => app.unmount();
	await tick();
	return {app, store, intents};
}

describe('TriageScreen', () => {
	it('lists the failing workloads ranked, opens one with its evidence and timeline, and filters', async () => {
		const {app} = await setup();
		let f = app.lastFrame()!;
		expect(f).toContain('kdoctor triage — namespace demo');
		expect(f).toMatch(/2 pods · 2 workloads · 0 healthy · 2 failing/);
		expect(f).toMatch(/› ✗ job\/(gateway|worker)/);
		expect(
			f
				.split('\n')
				.filter((l) => l.includes('job/'))
				.every((l) => l.length <= 100),
		).toBe(true);
		expect(f).toContain('crashloop-config-error');
		expect(f).toContain('image-name-mismatch');
		await press(app.stdin, 'j', KEYS.ENTER);
		f = app.lastFrame()!;
		const second = /job\/(\w+) {2}\(namespace demo\)/.exec(f)![1];
		expect(['gateway', 'worker']).toContain(second);
		expect(f).toContain('timeline: events, status and logs');
		// Typed fast, the keys arrive as one chunk: each still counts.
		await press(app.stdin, KEYS.ESC, '/wor\r');
		f = app.lastFrame()!;
		expect(f).toContain('job/worker');
		expect(f).not.toContain('job/gateway');
		expect(f).toContain('filter: wor');
		await press(app.stdin, KEYS.ESC);
		expect(app.lastFrame()).toContain('job/gateway');
		expectNoErrorFrames(app.frames);
	});

	it("shows a crash's log line in the logs view, and sends the fix key as an intent", async () => {
		const {app, store, intents} = await setup();
		const rows = store.getState().triage.snapshot!.failing;
		store.getState().triageSet({selected: rows.find((w) => w.name === 'gateway')!.key});
		await tick();
		await press(app.stdin, 'l');
		// Logs are wrapped, not cut: the whole line that explains the crash is on screen.
		const logs = app.lastFrame()!.replace(/\s*\n\s*/g, ' ');
		expect(logs).toMatch(/gateway \(prev\) \{"level":"fatal"/);
		expect(logs).toContain('KUBERNAUT_CONTROLLER_NAMESPACE environment variable is required');
		await press(app.stdin, KEYS.ESC);
		expect(app.lastFrame()).toContain('[v] Set KUBERNAUT_CONTROLLER_NAMESPACE on the Deployment');
		await press(app.stdin, 'v');
		expect(intents).toEqual([{type: 'fix', workload: 'demo/Job/gateway', key: 'v'}]);
		// The composition root answers with a question; typing and enter send the value.
		store
			.getState()
			.triageFix({workload: 'demo/Job/gateway', key: 'v', state: 'asking', ask: 'the value for KUBERNAUT_CONTROLLER_NAMESPACE', input: ''});
		await tick();
		await press(app.stdin, 'd', 'e', 'm', 'o', KEYS.ENTER);
		expect(intents.at(-1)).toEqual({type: 'answer', value: 'demo'});
		store.getState().triageFix({
			workload: 'demo/Job/gateway',
			key: 'v',
			state: 'preview',
			input: 'demo',
			plan: {
				finding: 'crashloop-config-error',
				key: 'v',
				title: 'Set KUBERNAUT_CONTROLLER_NAMESPACE on the Deployment',
				status: 'ready',
				namespace: 'demo',
				deployment: 'gateway',
				container: 'gateway',
				field: 'env KUBERNAUT_CONTROLLER_NAMESPACE',
				after: 'demo',
				diff: 'deployment/gateway container gateway (namespace demo)\n+ env KUBERNAUT_CONTROLLER_NAMESPACE: demo\n',
			},
		});
		await tick();
		expect(app.lastFrame()).toContain('+ env KUBERNAUT_CONTROLLER_NAMESPACE: demo');
		expect(app.lastFrame()).toContain('apply this change to the cluster? y: apply');
		await press(app.stdin, 'y');
		expect(intents.at(-1)).toEqual({type: 'apply'});
		expectNoErrorFrames(app.frames);
	});

	it('read-only hides every fix and ignores fix keys; describe shows the containers', async () => {
		const {app, intents} = await setup(true);
		await press(app.stdin, KEYS.ENTER);
		const f = app.lastFrame()!;
		expect(f).not.toMatch(/\[[a-zA-Z]\] /);
		expect(f).toContain('read-only');
		await press(app.stdin, 'v', 'p', 'P');
		expect(intents).toEqual([]);
		await press(app.stdin, 'd');
		expect(app.lastFrame()).toMatch(/restarts \d/);
		await press(app.stdin, '?');
		expect(app.lastFrame()).toContain('this help');
		expectNoErrorFrames(app.frames);
	});
});

describe('TriageScreen u: the same undo as kdoctor undo', () => {
	it('previews taking back the newest change made elsewhere, undoes it on y, then says there is nothing left', async () => {
		const dir = mkdtempSync(join(tmpdir(), 'kdoctor-triage-u-'));
		const file = join(dir, 'gateway.yaml');
		writeFileSync(file, 'image: gateway:1\n');
		const changes = changeService({journal: createJournal(join(dir, 'journal'))});
		// A change made by another command (kdoctor fix from a shell): an edit the service journaled.
		const made = changes.applyEdit({
			finding: 'image-name-mismatch',
			key: 'm',
			title: 'Add the localhost/ prefix',
			kind: 'edit-file',
			change: '',
			verify: '',
			undo: '',
			destructive: false,
			status: 'ready',
			edits: [{path: file, before: 'image: gateway:1\n', after: 'image: localhost/gateway:1\n', diff: '', count: 1}],
		});
		const store = createDoctorStore();
		store.getState().triageSet({readOnly: false, where: 'namespace demo'});
		store.getState().triageSnapshot(await snapshot());
		const intents = triageIntents(kb, store, {namespace: 'demo'}, undefined, changes);
		const app = render(
			<StoreProvider store={store}>
				<TriageScreen onIntent={intents.onIntent} color={false} />
			</StoreProvider>,
		);
		cleanup = () => app.unmount();
		await tick();
		expect(app.lastFrame()).toContain('u undo');
		await press(app.stdin, 'u');
		await vi.waitFor(() => expect(app.lastFrame()).toContain('Undo: Add the localhost/ prefix'));
		expect(app.lastFrame()).toContain(file);
		expect(app.lastFrame()).toContain('take this change back? y: undo');
		expect(readFileSync(file, 'utf8')).toBe('image: localhost/gateway:1\n');
		await press(app.stdin, 'y');
		await vi.waitFor(() => expect(app.lastFrame()).toContain('✓ Undone: Add the localhost/ prefix'));
		expect(readFileSync(file, 'utf8')).toBe('image: gateway:1\n');
		expect(changes.journal.list().find((e) => e.id === made.id)?.undone).toBeTruthy();
		await press(app.stdin, KEYS.ENTER, 'u');
		await vi.waitFor(() => expect(app.lastFrame()).toContain('Nothing to undo'));
		expectNoErrorFrames(app.frames);
	});
});
