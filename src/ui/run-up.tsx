import {render} from 'ink';
import type {DoctorStore} from '../state/store.js';
import {UpScreen, type UpIntent} from './screens/up-screen.js';
import {keyboard} from './keyboard.js';
import {StoreProvider} from './store-context.js';

export type RunUpScreenOptions = {
	/** q or Ctrl-C while the run goes on: stop the runner's children (called again on a second Ctrl-C). */
	onCancel(): void;
	onIntent(intent: UpIntent): void;
};

/**
 * Shows the run the store is fed (store.getState().upEvent is the RunListener) until the user quits with q
 * after run-end; Ctrl-C is a key here, not a signal, so the screen can show "stopping…" while the run stops.
 */
export async function runUpScreen(store: DoctorStore, opts: RunUpScreenOptions): Promise<void> {
	const stdin = keyboard();
	const app = render(
		<StoreProvider store={store}>
			<UpScreen onCancel={opts.onCancel} onIntent={opts.onIntent} />
		</StoreProvider>,
		{stdin, exitOnCtrlC: false},
	);
	try {
		await app.waitUntilExit();
	} finally {
		store.getState().upFlush();
		if (stdin !== process.stdin) stdin.destroy();
	}
}
