import {openSync} from 'node:fs';
import {ReadStream} from 'node:tty';
import {render} from 'ink';
import {createFsPort} from '../adapters/fs-port.js';
import {createJournal} from '../adapters/journal.js';
import type {DiagnosedInput} from '../commands/diagnose.js';
import type {CompiledKb} from '../core/kb/compile.js';
import {createRemediationIntents} from '../commands/remediation-intents.js';
import {createDoctorStore} from '../state/store.js';
import {DiagnoseScreen} from './screens/diagnose-screen.js';
import {StoreProvider} from './store-context.js';

/** Keys still work when the log itself came through a pipe: read them from the terminal. */
function keyboard(): NodeJS.ReadStream {
	if (process.stdin.isTTY) return process.stdin;
	try {
		return new ReadStream(openSync('/dev/tty', 'r')) as unknown as NodeJS.ReadStream;
	} catch {
		return process.stdin;
	}
}

/** Renders the diagnose screen until the user quits; the only place diagnose calls render(). */
export async function runDiagnoseTui(compiled: CompiledKb, results: DiagnosedInput[]): Promise<void> {
	const store = createDoctorStore({inputs: results});
	const intents = createRemediationIntents(compiled, store, {fs: createFsPort(), journal: createJournal(), clock: {now: () => new Date()}, cwd: process.cwd()});
	const stdin = keyboard();
	const app = render(
		<StoreProvider store={store}>
			<DiagnoseScreen entries={compiled.kb.byId} intents={intents} />
		</StoreProvider>,
		{stdin, exitOnCtrlC: true},
	);
	await app.waitUntilExit();
	if (stdin !== process.stdin) stdin.destroy();
}
