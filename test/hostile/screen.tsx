/** The real diagnose screen (ink-testing-library) on a hostile text, with keys pressed; returns every frame. */
import {mkdtempSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {render} from 'ink-testing-library';
import {createFsPort} from '../../src/adapters/fs-port.js';
import {createJournal} from '../../src/adapters/journal.js';
import {createRemediationIntents} from '../../src/commands/remediation-intents.js';
import {diagnoseText} from '../../src/core/diagnose/diagnose.js';
import {createDoctorStore} from '../../src/state/store.js';
import {DiagnoseScreen} from '../../src/ui/screens/diagnose-screen.js';
import {StoreProvider} from '../../src/ui/store-context.js';
import {press, tick} from '../helpers/ink.js';
import {realKb} from '../helpers/kb.js';

export async function renderDiagnose(text: string, opts: {journalDir?: string; keys?: string[]} = {}): Promise<string[]> {
	const kb = realKb();
	const dir = mkdtempSync(join(tmpdir(), 'kdoctor-hostile-ui-'));
	const store = createDoctorStore({inputs: [{file: 'ci.log', diagnosis: diagnoseText(kb, text)}]});
	const intents = createRemediationIntents(kb, store, {
		fs: createFsPort(),
		journal: createJournal(opts.journalDir ?? join(dir, 'journal')),
		clock: {now: () => new Date()},
		cwd: dir,
	});
	const app = render(
		<StoreProvider store={store}>
			<DiagnoseScreen entries={kb.kb.byId} intents={intents} />
		</StoreProvider>,
	);
	try {
		await tick();
		// The details view shows every evidence line with its context.
		await press(app.stdin, '\r');
		await press(app.stdin, '\u001B', ...(opts.keys ?? []));
		return [...app.frames];
	} finally {
		app.unmount();
	}
}
