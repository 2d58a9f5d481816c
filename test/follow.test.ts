import {spawn} from 'node:child_process';
import {describe, expect, it} from 'vitest';
import {CLI, runCli} from './helpers/cli.js';

const NEVER_PULL = 'Warning  ErrImageNeverPull  5s  kubelet  Container image "gateway:run-1" is not present with pull policy of Never\n';
const LFSTACK = 'fatal error: lfstack.push\n';

/** A real kdoctor process reading a pipe that stays open, as `kubectl logs -f … |` keeps it. */
function follow(args: string[]) {
	const child = spawn(process.execPath, [CLI, 'diagnose', '--follow', ...args, '-'], {
		stdio: ['pipe', 'pipe', 'pipe'],
		env: {...process.env, CI: ''},
	});
	let stdout = '';
	let stderr = '';
	child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
	child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
	const closed = new Promise<number | null>((r) => child.on('close', (c) => r(c)));
	const until = async (re: RegExp) => {
		const end = Date.now() + 10_000;
		while (!re.test(stdout) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
		expect(stdout).toMatch(re);
	};
	return {child, until, closed, out: () => stdout, err: () => stderr};
}

describe('kdoctor diagnose --follow: causes as the lines arrive', () => {
	it('names a cause while the pipe is still open, a new one when it appears, and the whole diagnosis at its end', async () => {
		const f = follow([]);
		f.child.stdin.write('starting the gateway\n' + NEVER_PULL);
		await f.until(/ image-(?:name-mismatch|not-loaded) \d+% +line 2: Warning {2}ErrImageNeverPull/);
		expect(f.out()).not.toContain('the input ended');
		f.child.stdin.write(LFSTACK);
		await f.until(/✗ go-runtime-lfstack-crash \d+% +line 3: fatal error: lfstack\.push/);
		f.child.stdin.end();
		expect(await f.closed).toBe(1);
		expect(f.out()).toMatch(/── the input ended: the whole diagnosis of what was read ──\n- — 3 lines: 1 likely cause/);
	});

	it('Ctrl-C stops following and still gives the diagnosis of what was read (the status of what it found)', async () => {
		const f = follow([]);
		f.child.stdin.write(LFSTACK);
		await f.until(/go-runtime-lfstack-crash/);
		f.child.kill('SIGINT');
		expect(await f.closed).toBe(1);
		expect(f.err()).toContain('kdoctor: stopped following: the diagnosis of what was read');
		expect(f.out()).toContain('the input ended');
		f.child.stdin.destroy();
	});

	it('--json: one JSON object per cause found or changed, then the end with the whole diagnosis', async () => {
		const f = follow(['--json']);
		f.child.stdin.write(LFSTACK);
		await f.until(/"event":"found"/);
		f.child.stdin.end();
		expect(await f.closed).toBe(1);
		const events = f
			.out()
			.trim()
			.split('\n')
			.map((l) => JSON.parse(l) as {event: string; finding?: {id: string}; findings?: {id: string}[]; schemaVersion: number});
		expect(events[0]).toMatchObject({event: 'found', finding: {id: 'go-runtime-lfstack-crash'}, schemaVersion: 1});
		expect(events.at(-1)).toMatchObject({event: 'end', status: 'ok', schemaVersion: 1});
		expect(events.at(-1)!.findings![0]!.id).toBe('go-runtime-lfstack-crash');
	});

	it('one input only, and not with -q or -o yaml: one line each', async () => {
		for (const [args, says] of [
			[['diagnose', '--follow', 'a.log', 'b.log'], '--follow reads one input: a file, or - for a pipe'],
			[['diagnose', '--follow', '-o', 'yaml', '-'], '--follow prints as it goes: text, or --json (JSON Lines)'],
		] as const) {
			const r = await runCli([...args], {input: NEVER_PULL});
			expect(r.code).toBe(2);
			expect(r.stderr.trim()).toBe(`kdoctor: ${says}`);
		}
	});
});
