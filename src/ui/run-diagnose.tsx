import {render} from 'ink';
import {createFsPort} from '../adapters/fs-port.js';
import {createJournal, stateDir} from '../adapters/journal.js';
import {installDir} from '../adapters/kb-files.js';
import type {DiagnosedInput} from '../commands/diagnose.js';
import type {CompiledKb} from '../core/kb/compile.js';
import {createRemediationIntents} from '../commands/remediation-intents.js';
import {createDoctorStore} from '../state/store.js';
import {DiagnoseScreen} from './screens/diagnose-screen.js';
import {keyboard} from './keyboard.js';
import {StoreProvider} from './store-context.js';

/**
 * Renders the diagnose screen until the user quits; the only place diagnose calls render(). Returns the command the
 * person chose to go on with (+ then y: `kb new --from FILE`), for the CLI to run once the screen is gone.
 */
export async function runDiagnoseTui(compiled: CompiledKb, results: DiagnosedInput[]): Promise<string[] | undefined> {
	const store = createDoctorStore({inputs: results});
	let next: string[] | undefined;
	let quit = () => {};
	const remediation = createRemediationIntents(compiled, store, {
		fs: createFsPort(),
		journal: createJournal(),
		clock: {now: () => new Date()},
		cwd: process.cwd(),
		protectedRoots: [installDir, stateDir()],
	});
	const intents = {
		...remediation,
		draft(file: string) {
			next = ['kb', 'new', '--from', file];
			quit();
		},
	};
	const stdin = keyboard();
	const app = render(
		<StoreProvider store={store}>
			<DiagnoseScreen entries={compiled.kb.byId} intents={intents} />
		</StoreProvider>,
		{stdin, exitOnCtrlC: true},
	);
	quit = () => app.unmount();
	await app.waitUntilExit();
	if (stdin !== process.stdin) stdin.destroy();
	return next;
}
