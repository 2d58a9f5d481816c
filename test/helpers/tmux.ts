/** A tmux server of the test's own (its -L socket), to drive kdoctor's screens in a real terminal. */
import {execFileSync, spawnSync} from 'node:child_process';

export const hasTmux = () => spawnSync('tmux', ['-V']).status === 0;

export function tmuxDriver(socket: string, session: string, defaultWaitMs: number) {
	const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, ...args], {encoding: 'utf8'});
	const screen = () => tmux('capture-pane', '-p', '-t', session);
	/** The screen once it shows re; the last screen in the error when it never does. */
	async function waitFor(re: RegExp, ms = defaultWaitMs): Promise<string> {
		const end = Date.now() + ms;
		let last = '';
		while (Date.now() < end) {
			last = screen();
			if (re.test(last)) return last;
			await new Promise((r) => setTimeout(r, 100));
		}
		throw new Error(`screen never showed ${re}:\n${last}`);
	}
	return {tmux, screen, waitFor, kill: () => spawnSync('tmux', ['-L', socket, 'kill-server'])};
}
