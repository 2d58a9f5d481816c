import {render} from 'ink';
import {shellLine} from '../core/text/quote.js';
import {checkIdOf, runChecks, verdict} from '../core/setup/checks.js';
import type {CompiledKb} from '../core/kb/compile.js';
import {applySetupFix, previewSetupFix, setupInput, type SetupOptions} from '../commands/setup.js';
import type {SetupFactsPort} from '../core/setup/types.js';
import {createDoctorStore, type DoctorStore} from '../state/store.js';
import {keyboard} from './keyboard.js';
import {SetupScreen, type SetupIntent} from './screens/setup-screen.js';
import {StoreProvider} from './store-context.js';

/** What the screen's intents do: preview a fix, apply it after `y` and re-check, or run every check again. */
export function setupIntents(c: CompiledKb, store: DoctorStore, opts: SetupOptions, facts?: SetupFactsPort) {
	let input = setupInput(c, opts, facts);
	const state = () => store.getState();
	const find = (id: string) =>
		Object.values(state().setup.results)
			.flat()
			.find((r) => r.id === id);
	const run = () => runChecks(input, (e) => state().setupEvent(e));
	return {
		run,
		onIntent(i: SetupIntent) {
			const fix = state().setup.fix;
			switch (i.type) {
				case 'fix': {
					const r = find(i.resultId);
					if (!r) return;
					try {
						const p = previewSetupFix(c, r);
						state().setupSet({
							fix: {resultId: r.id, state: 'preview', lines: p.lines, ready: p.ready, ...(p.reason ? {message: p.reason} : {})},
						});
					} catch (error) {
						state().setupSet({fix: {resultId: r.id, state: 'failed', lines: [], ready: false, message: (error as Error).message}});
					}
					return;
				}
				case 'apply': {
					const r = fix && find(fix.resultId);
					if (!fix || !r || fix.state !== 'preview' || !fix.ready) return;
					state().setupSet({fix: {...fix, state: 'applying'}});
					void applySetupFix(c, input, r)
						.then((a) => {
							const id = checkIdOf(r.id);
							if (id && a.recheck.length > 0) state().setupEvent({type: 'done', id, results: a.recheck});
							const ran = a.ran.map((x) => `$ ${shellLine(x.argv)} → exit ${x.exitCode}`);
							state().setupSet({
								fix: {
									...fix,
									state: a.ok ? 'done' : 'failed',
									lines: [...fix.lines, ...ran],
									message: a.ok ? `done: ${a.message}` : `NOT done: ${a.message}`,
								},
							});
						})
						.catch((error: Error) => state().setupSet({fix: {...fix, state: 'failed', message: error.message}}));
					return;
				}
				case 'cancel-fix':
					return state().setupSet({fix: undefined});
				case 'recheck':
					// A fresh source: the answers of the first pass are not the machine as it is now.
					input = setupInput(c, opts, facts?.fresh());
					state().setupSet({checks: [], results: {}, startedAt: undefined, fix: undefined});
					void run();
					return;
			}
		},
	};
}

/** The interactive setup: every check runs at once and each row fills in as it ends. Returns the exit code. */
export async function runSetupTui(c: CompiledKb, opts: SetupOptions): Promise<number> {
	const store = createDoctorStore();
	const intents = setupIntents(c, store, opts);
	const heading = `kdoctor setup — is this machine ready for profile ${opts.profile}?`;
	const app = render(
		<StoreProvider store={store}>
			<SetupScreen onIntent={intents.onIntent} heading={heading} />
		</StoreProvider>,
		{stdin: keyboard(), exitOnCtrlC: false},
	);
	void intents.run();
	await app.waitUntilExit();
	return verdict(Object.values(store.getState().setup.results).flat()).exitCode;
}
