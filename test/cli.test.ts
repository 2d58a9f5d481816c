import {chmodSync, mkdtempSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {runCli} from './helpers/cli.js';
import {freePort} from './helpers/net.js';

const dir = mkdtempSync(join(tmpdir(), 'kdoctor-cli-'));
const write = (name: string, text: string) => {
	const p = join(dir, name);
	writeFileSync(p, text);
	return p;
};
// The node's image list beside the event is what makes it a confident wrong name (the event alone is only possible).
const neverPull = write(
	'never-pull.txt',
	'Warning  ErrImageNeverPull  5s  kubelet  Container image "gateway:run-1" is not present with pull policy of Never\nlocalhost/gateway   run-1   3f2a1b4c5d6e   41.2MB\n',
);
const clean = write('clean.txt', 'ok  github.com/acme/gateway/pkg/server  0.412s\nPASS\n');
const compileError = write(
	'compile.txt',
	'# github.com/jordigilh/kubernaut/test/infrastructure\ntest/infrastructure/gateway_e2e.go:212:9: undefined: buildDataStorageImage\n',
);
const empty = write('empty.txt', '');

describe('kdoctor diagnose --json (the contract outside tools rely on)', () => {
	it('prints one object for one file, findings sorted by confidence, exit 1 on a diagnosis', async () => {
		const r = await runCli(['diagnose', '--json', neverPull]);
		expect(r.code).toBe(1);
		expect(r.stderr).toBe('');
		const lines = r.stdout.trim().split('\n');
		expect(lines).toHaveLength(1);
		const obj = JSON.parse(lines[0]!);
		expect(obj.file).toBe(neverPull);
		expect(obj.findings.length).toBeGreaterThan(0);
		const f = obj.findings[0];
		expect(f).toMatchObject({id: 'image-name-mismatch', layer: 'image'});
		expect(Object.keys(f).sort()).toEqual(['confidence', 'evidence', 'id', 'layer', 'remediations', 'title']);
		expect(f.confidence).toBeGreaterThanOrEqual(0.5);
		expect(f.confidence).toBeLessThanOrEqual(1);
		expect(f.evidence[0]).toEqual({line: 1, text: expect.stringContaining('ErrImageNeverPull')});
		expect(f.remediations[0]).toEqual({
			key: expect.stringMatching(/^[a-z]$/),
			title: expect.any(String),
			kind: expect.stringMatching(/^(edit-file|kube-patch|command|rerun|info)$/),
		});
		const confidences = obj.findings.map((x: {confidence: number}) => x.confidence);
		expect([...confidences].sort((a, b) => b - a)).toEqual(confidences);
	});

	it('prints JSON Lines in argument order for several files, and exit 0 when nothing is found', async () => {
		const r = await runCli(['diagnose', '--json', clean, neverPull, compileError]);
		expect(r.code).toBe(1);
		const objs = r.stdout
			.trim()
			.split('\n')
			.map((l) => JSON.parse(l));
		expect(objs.map((o) => o.file)).toEqual([clean, neverPull, compileError]);
		expect(objs[0].findings).toEqual([]);
		const none = await runCli(['diagnose', '--json', clean, compileError]);
		expect(none.code).toBe(0);
		for (const o of none.stdout
			.trim()
			.split('\n')
			.map((l) => JSON.parse(l)))
			expect(o.findings.every((f: {confidence: number}) => f.confidence < 0.5)).toBe(true);
	});

	it("reads standard input for '-' and with no file", async () => {
		const text =
			'Warning ErrImageNeverPull kubelet Container image "gw:1" is not present with pull policy of Never\nlocalhost/gw   1   3f2a1b4c5d6e   41.2MB\n';
		for (const args of [
			['diagnose', '--json', '-'],
			['diagnose', '--json'],
		]) {
			const r = await runCli(args, {input: text});
			expect(r.code).toBe(1);
			expect(JSON.parse(r.stdout).file).toBe('-');
		}
	});

	it('exit 2 with one clear line for a missing, unreadable or empty input; other files still reported', async () => {
		const missing = await runCli(['diagnose', '--json', join(dir, 'nope.log'), neverPull]);
		expect(missing.code).toBe(2);
		const objs = missing.stdout
			.trim()
			.split('\n')
			.map((l) => JSON.parse(l));
		expect(objs[0]).toMatchObject({status: 'error', error: expect.stringMatching(/no such file/), findings: []});
		expect(objs[1].findings[0].id).toBe('image-name-mismatch');
		const e = await runCli(['diagnose', '--json', empty]);
		expect(e.code).toBe(2);
		expect(JSON.parse(e.stdout)).toMatchObject({status: 'empty', findings: []});
		const plainMissing = await runCli(['diagnose', join(dir, 'nope.log')]);
		expect(plainMissing.code).toBe(2);
		expect(plainMissing.stderr.trim().split('\n')).toHaveLength(1);
		expect(plainMissing.stderr).not.toMatch(/\bat \w.*\(/);
		if (process.getuid?.() !== 0) {
			const locked = write('locked.txt', 'x');
			chmodSync(locked, 0);
			expect((await runCli(['diagnose', locked])).stderr).toMatch(/permission denied/);
		}
		const asDir = await runCli(['diagnose', dir]);
		expect(asDir.code).toBe(2);
		expect(asDir.stderr).toMatch(/is a directory/);
	});

	it('binary junk is read as text without crashing', async () => {
		const junk = Buffer.from(Array.from({length: 200_000}, (_, i) => (i * 7919) % 256));
		const r = await runCli(['diagnose', '--json', '-'], {input: junk});
		const obj = JSON.parse(r.stdout);
		expect(obj.file).toBe('-');
		expect(r.code).toBe(obj.status === 'binary' ? 2 : obj.findings.some((f: {confidence: number}) => f.confidence >= 0.5) ? 1 : 0);
	});

	it('decodes UTF-16 (a BOM), refuses compressed input with the command to use, and reports binary input as could-not-look', async () => {
		const text =
			'Warning ErrImageNeverPull kubelet Container image "gw:1" is not present with pull policy of Never\nlocalhost/gw   1   3f2a1b4c5d6e   41.2MB\n';
		const u16 = write('u16.txt', '');
		writeFileSync(u16, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]));
		const r = await runCli(['diagnose', '--json', u16]);
		expect(r.code).toBe(1);
		expect(JSON.parse(r.stdout).findings[0].id).toBe('image-name-mismatch');
		const {gzipSync} = await import('node:zlib');
		const gz = write('run.log.gz', '');
		writeFileSync(gz, gzipSync(text));
		const z = await runCli(['diagnose', gz]);
		expect(z.code).toBe(2);
		expect(z.stderr.trim()).toBe(`kdoctor: ${gz} is gzip-compressed: run 'zcat ${gz} | kdoctor diagnose -'`);
		const bin = write('blob.bin', '');
		writeFileSync(bin, Buffer.from(Array.from({length: 4096}, (_, i) => (i % 7 === 0 ? 0 : (i * 13) % 256))));
		const b = await runCli(['diagnose', bin]);
		expect(b.code).toBe(2);
		expect(b.stdout).toMatch(/looks binary/);
	});

	it('counts lines right around a colour code cut off at the end of a line', async () => {
		const esc = write('esc.log', 'one\u001b[31\ntwo\nthree ErrImageNeverPull\n');
		const r = await runCli(['diagnose', '--json', esc]);
		expect(JSON.parse(r.stdout).findings[0].evidence[0]).toEqual({line: 3, text: 'three ErrImageNeverPull'});
	});
});

describe('the validated-KB cache', () => {
	it('gives exactly the same diagnosis cold, warm, and with the cache off', async () => {
		const state = mkdtempSync(join(tmpdir(), 'kdoctor-cache-'));
		const log = new URL('../examples/gateway-e2e-failed-run.log', import.meta.url).pathname;
		const cold = await runCli(['diagnose', '--json', log], {env: {KDOCTOR_STATE_DIR: state}});
		const {readdirSync} = await import('node:fs');
		expect(readdirSync(join(state, 'kb-cache')).sort()).toEqual([expect.stringMatching(/\.ac$/), expect.stringMatching(/\.json$/)]);
		const warm = await runCli(['diagnose', '--json', log], {env: {KDOCTOR_STATE_DIR: state}});
		const off = await runCli(['diagnose', '--json', log], {env: {KDOCTOR_STATE_DIR: state, KDOCTOR_NO_KB_CACHE: '1'}});
		expect(cold.code).toBe(1);
		expect(warm.stdout).toBe(cold.stdout);
		expect(off.stdout).toBe(cold.stdout);
	});

	it('ignores a damaged cache and validates again', async () => {
		const state = mkdtempSync(join(tmpdir(), 'kdoctor-cache-'));
		const log = new URL('../examples/gateway-e2e-failed-run.log', import.meta.url).pathname;
		const first = await runCli(['diagnose', '--json', log], {env: {KDOCTOR_STATE_DIR: state}});
		const {readdirSync} = await import('node:fs');
		for (const f of readdirSync(join(state, 'kb-cache'))) writeFileSync(join(state, 'kb-cache', f), 'garbage');
		const again = await runCli(['diagnose', '--json', log], {env: {KDOCTOR_STATE_DIR: state}});
		expect(again.stdout).toBe(first.stdout);
	});
});

describe('kdoctor plain output and usage', () => {
	it('prints plain text without escape codes when stdout is not a terminal', async () => {
		const r = await runCli(['diagnose', neverPull]);
		expect(r.code).toBe(1);
		expect(r.stdout).toContain('image-name-mismatch');
		expect(r.stdout).toContain('line 1');
		expect(r.stdout).not.toMatch(/\u001B\[/);
	});

	it('colours only when asked, and NO_COLOR wins', async () => {
		expect((await runCli(['diagnose', neverPull], {env: {FORCE_COLOR: '1'}})).stdout).toMatch(/\u001B\[/);
		expect((await runCli(['diagnose', neverPull], {env: {FORCE_COLOR: '1', NO_COLOR: '1'}})).stdout).not.toMatch(/\u001B\[/);
	});

	it('has --version, --help and per-command help', async () => {
		const v = await runCli(['--version']);
		expect(v.code).toBe(0);
		expect(v.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
		const h = await runCli(['--help']);
		expect(h.code).toBe(0);
		expect(h.stdout).toMatch(/diagnose/);
		expect(h.stdout).toMatch(/kb/);
		const dh = await runCli(['diagnose', '--help']);
		expect(dh.stdout).toMatch(/Exit status: 0/);
	});

	it('exit 2 on a usage error, with one line and no stack trace', async () => {
		const r = await runCli(['diagnose', '--no-such-flag']);
		expect(r.code).toBe(2);
		expect(r.stderr).toMatch(/unknown option/);
		expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
		expect((await runCli(['frobnicate'])).code).toBe(2);
	});

	it('kb show with a wrong id says the nearest one, as git does', async () => {
		const r = await runCli(['kb', 'show', 'image-name-mism']);
		expect(r.code).toBe(2);
		expect(r.stderr.trim()).toBe('kdoctor: no entry "image-name-mism": did you mean image-name-mismatch? (kdoctor kb list shows them)');
		expect((await runCli(['kb', 'test', 'registry-auht'])).stderr).toMatch(/did you mean registry-auth\?/);
		expect((await runCli(['kb', 'show', 'zzz'])).stderr).not.toMatch(/did you mean/);
	});

	it('the plain output says the command that applies its first fix without the screen, and that command previews it', async () => {
		const {copyFileSync} = await import('node:fs');
		const log = join(dir, "it's a run.log");
		copyFileSync(new URL('../examples/gateway-e2e-failed-run.log', import.meta.url), log);
		const r = await runCli(['diagnose', '--plain', log]);
		const line = r.stdout.split('\n').find((l) => l.includes('without the screen: '));
		expect(line).toBe(
			`    without the screen: kdoctor fix image-name-mismatch --from '${dir}/it'\\''s a run.log' --key m (a preview; add --yes to apply)`,
		);
		const preview = await runCli(['fix', 'image-name-mismatch', '--from', log, '--key', 'm']);
		expect(preview.code, preview.stderr).toBe(0);
		// The preview of that very fix (nothing to edit in this folder, so it says so and changes nothing).
		expect(preview.stdout).toMatch(/^\[m\] Add the localhost\/ prefix to gateway:gateway-1a2b3c4d in the manifests \(edit-file\)$/m);
		expect(preview.stdout).toMatch(/^ {2}undo: {3}kdoctor undo restores every edited file$/m);
	});

	it('a broken symbolic link is called one, with where it points', async () => {
		const {symlinkSync} = await import('node:fs');
		const link = join(dir, 'gone.log');
		symlinkSync(join(dir, 'no-such-target.log'), link);
		const r = await runCli(['diagnose', link]);
		expect(r.code).toBe(2);
		expect(r.stderr.trim()).toBe(
			`kdoctor: ${link}: a broken symbolic link (it points to ${join(dir, 'no-such-target.log')}, which does not exist)`,
		);
	});

	it('reports a broken knowledge base folder as one line', async () => {
		const kbDir = mkdtempSync(join(tmpdir(), 'kdoctor-badkb-'));
		writeFileSync(join(kbDir, 'bad.yaml'), 'topic: broken\nentries:\n  - id: x\n    layer: nowhere\n');
		const r = await runCli(['--kb', kbDir, 'diagnose', neverPull]);
		expect(r.code).toBe(2);
		expect(r.stderr).toMatch(/knowledge base is invalid/);
		expect(r.stderr).toMatch(/bad\.yaml:\d+:/);
	});
});

describe('resemblance: no signal matched, a real case of the library looks the same', () => {
	it('prints the possible cause with the thread it resembles; JSON carries it; exit 0 (not a diagnosis)', async () => {
		// The words of a real thread (dasch-swiss/dsp-api#1394) that no signal of the KB knows.
		const f = write(
			'redis.txt',
			'webapi_1   | 2019-08-16 08:14:10 | WARN  | LiveCore$$anon$1 | Redis-Server not running. Please start the Redis-Server.\n',
		);
		const r = await runCli(['diagnose', f]);
		expect(r.code, r.stderr).toBe(0);
		expect(r.stdout).toMatch(/^\? .*\[dependency-unreachable · workload · +\d+%\]$/m);
		expect(r.stdout).toContain('resembles https://github.com/dasch-swiss/dsp-api/issues/1394 (similarity');
		const j = JSON.parse((await runCli(['diagnose', '--json', f])).stdout) as {
			findings: {id: string; confidence: number; resembles?: {url?: string}}[];
		};
		expect(j.findings[0]).toMatchObject({
			id: 'dependency-unreachable',
			resembles: {url: 'https://github.com/dasch-swiss/dsp-api/issues/1394'},
		});
		expect(j.findings[0]!.confidence).toBeLessThan(0.5);
	});

	it('a broken case library in a --kb folder is one line naming the file, with no stack', async () => {
		const kbDir = mkdtempSync(join(tmpdir(), 'kdoctor-badcases-'));
		writeFileSync(
			join(kbDir, 'one.yaml'),
			[
				'topic: one entry',
				'entries:',
				'  - id: disk-gone',
				'    title: The disk is full',
				'    layer: host',
				'    summary: No space is left on the device.',
				'    signals:',
				"      - {id: enospc, means: no space, role: signature, weight: 0.6, pattern: 'no space left on device'}",
				"    examples: {positive: ['no space left on device', 'write /x: no space left on device'], negative: [ok]}",
				'',
			].join('\n'),
		);
		const {mkdirSync} = await import('node:fs');
		mkdirSync(join(kbDir, 'cases'));
		writeFileSync(join(kbDir, 'cases', 'mine.jsonl'), '{"label": "disk-gone", "symptom": "quota exceeded"}\n{broken\n');
		const r = await runCli(['--kb', kbDir, 'diagnose', write('quota.txt', 'write /data: disk quota exceeded\n')]);
		expect(r.code).toBe(2);
		expect(r.stderr.trim().split('\n')).toHaveLength(1);
		expect(r.stderr).toMatch(/case library is invalid: .*mine\.jsonl:2: not JSON/);
	});
});

describe('interrupting', () => {
	it('Ctrl-C while reading a never-ending pipe stops at once with one line and exit 130', async () => {
		const {spawn} = await import('node:child_process');
		const {CLI} = await import('./helpers/cli.js');
		const child = spawn(process.execPath, [CLI, 'diagnose', '--json', '-'], {stdio: ['pipe', 'pipe', 'pipe']});
		let stderr = '';
		child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
		child.stdin.write('ErrImageNeverPull\n'.repeat(1000));
		await new Promise((r) => setTimeout(r, 500));
		child.kill('SIGINT');
		const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
		expect(code).toBe(130);
		expect(stderr.trim()).toBe('kdoctor: interrupted (SIGINT): nothing was diagnosed or changed after this point');
	});
});

describe('kdoctor kb', () => {
	it('lists, shows, lints and tests the shipped KB', async () => {
		const list = await runCli(['kb', 'list', '--json']);
		expect(JSON.parse(list.stdout).length).toBeGreaterThanOrEqual(38);
		const show = await runCli(['kb', 'show', 'image-name-mismatch']);
		expect(show.stdout).toMatch(/signature/);
		expect((await runCli(['kb', 'show', 'nope'])).code).toBe(2);
		const lint = await runCli(['kb', 'lint']);
		expect(lint.stdout).toMatch(/0 errors/);
		expect(lint.code).toBe(0);
		const test = await runCli(['kb', 'test']);
		expect(test.stdout).toMatch(/\d+ passed, 0 failed/);
		expect(test.code).toBe(0);
	});
});

describe('kdoctor fix and undo', () => {
	it('edits only the evidence lines, never a log, and undo works from any folder', async () => {
		const work = mkdtempSync(join(tmpdir(), 'kdoctor-fixcli-'));
		const env = {KDOCTOR_STATE_DIR: join(work, 'state')};
		const {readFileSync} = await import('node:fs');
		const df = join(work, 'Dockerfile');
		const original = 'FROM alpine AS build\nRUN apk add git alpine-sdk\n# alpine is small\nRUN echo building on alpine\n';
		writeFileSync(df, original);
		const applied = await runCli(['fix', 'base-image-policy', '--from', 'Dockerfile', '--yes'], {cwd: work, env});
		expect(applied.code).toBe(0);
		expect(readFileSync(df, 'utf8')).toBe(
			original.replace('FROM alpine AS build', 'FROM registry.access.redhat.com/ubi9/ubi-minimal:latest AS build'),
		);
		const undo = await runCli(['undo'], {cwd: tmpdir(), env});
		expect(undo.code).toBe(0);
		expect(readFileSync(df, 'utf8')).toBe(original);
		const log = write('build.log', 'STEP 1/4: FROM golang:1.24 AS build\n');
		const onLog = await runCli(['fix', 'base-image-policy', '--from', log, '--yes', '--force'], {cwd: work, env});
		expect(onLog.stdout).toMatch(/not a file this fix edits/);
		expect(readFileSync(log, 'utf8')).toBe('STEP 1/4: FROM golang:1.24 AS build\n');
	});

	it('one base-image fix covers every FROM line it names, each with its own approved image, and one undo takes all back', async () => {
		const work = mkdtempSync(join(tmpdir(), 'kdoctor-fixcli-'));
		const env = {KDOCTOR_STATE_DIR: join(work, 'state')};
		const {readFileSync} = await import('node:fs');
		const df = join(work, 'Dockerfile');
		const original = 'FROM golang:1.24 AS build\nRUN go build ./...\nFROM alpine:3.19\nCOPY --from=build /app /app\n';
		writeFileSync(df, original);
		const preview = await runCli(['fix', 'base-image-policy', '--from', 'Dockerfile'], {cwd: work, env});
		expect(preview.stdout).toContain('(and 1 more line it names)');
		expect(preview.stdout).toContain('+FROM registry.access.redhat.com/ubi9/go-toolset:latest AS build');
		expect(preview.stdout).toContain('+FROM registry.access.redhat.com/ubi9/ubi-minimal:latest');
		expect(readFileSync(df, 'utf8')).toBe(original);
		const applied = await runCli(['fix', 'base-image-policy', '--from', 'Dockerfile', '--yes'], {cwd: work, env});
		expect(applied.code).toBe(0);
		expect(readFileSync(df, 'utf8')).toBe(
			'FROM registry.access.redhat.com/ubi9/go-toolset:latest AS build\nRUN go build ./...\nFROM registry.access.redhat.com/ubi9/ubi-minimal:latest\nCOPY --from=build /app /app\n',
		);
		// No line of the policy is left for a second run to find (at most a resemblance to a known case, below 0.5).
		const again = await runCli(['diagnose', '--json', 'Dockerfile'], {cwd: work, env});
		const left = JSON.parse(again.stdout).findings as {id: string; confidence: number}[];
		expect(left.filter((f) => f.id === 'base-image-policy' && f.confidence >= 0.5)).toEqual([]);
		expect((await runCli(['undo'], {cwd: work, env})).code).toBe(0);
		expect(readFileSync(df, 'utf8')).toBe(original);
	});

	it('leaves non-UTF-8 and read-only files alone, keeps links, and refuses --yes on a merely possible finding', async () => {
		const work = mkdtempSync(join(tmpdir(), 'kdoctor-fixcli-'));
		const env = {KDOCTOR_STATE_DIR: join(work, 'state')};
		const fsm = await import('node:fs');
		const latin1 = Buffer.from('# by Jos\xe9\r\nFROM golang:1.24 AS build\r\n', 'latin1');
		fsm.writeFileSync(join(work, 'Dockerfile'), latin1);
		const r = await runCli(['fix', 'base-image-policy', '--from', join(work, 'Dockerfile'), '--yes'], {cwd: work, env});
		expect(r.stdout).toMatch(/not UTF-8 text/);
		expect(fsm.readFileSync(join(work, 'Dockerfile')).equals(latin1)).toBe(true);
		const log = write(
			'np.log',
			'Warning ErrImageNeverPull kubelet Container image "gw:run-7" is not present with pull policy of Never\nlocalhost/gw   run-7   3f2a1b4c5d6e   41.2MB\n',
		);
		fsm.mkdirSync(join(work, 'shared'));
		fsm.mkdirSync(join(work, 'deploy'));
		fsm.writeFileSync(join(work, 'shared', 'gw.yaml'), 'image: gw:run-7\n');
		fsm.symlinkSync('../shared/gw.yaml', join(work, 'deploy', 'gw.yaml'));
		fsm.writeFileSync(join(work, 'ro.yaml'), 'image: gw:run-7\n');
		fsm.chmodSync(join(work, 'ro.yaml'), 0o444);
		const fix = await runCli(['fix', 'image-name-mismatch', '--from', log, '--key', 'm', '--yes'], {cwd: work, env});
		expect(fix.code).toBe(0);
		expect(fsm.lstatSync(join(work, 'deploy', 'gw.yaml')).isSymbolicLink()).toBe(true);
		expect(fsm.readFileSync(join(work, 'shared', 'gw.yaml'), 'utf8')).toBe('image: localhost/gw:run-7\n');
		expect(fsm.readFileSync(join(work, 'ro.yaml'), 'utf8')).toBe('image: gw:run-7\n');
		await runCli(['undo'], {cwd: work, env});
		expect(fsm.lstatSync(join(work, 'deploy', 'gw.yaml')).isSymbolicLink()).toBe(true);
		expect(fsm.readFileSync(join(work, 'shared', 'gw.yaml'), 'utf8')).toBe('image: gw:run-7\n');
		const weak = write('weak.log', 'STEP 1/4: FROM golang:1.24 AS build\n');
		fsm.copyFileSync(weak, join(work, 'Dockerfile.weak'));
		const refused = await runCli(['fix', 'base-image-policy', '--from', join(work, 'Dockerfile.weak'), '--yes'], {cwd: work, env});
		expect(refused.code).toBe(2);
		expect(refused.stderr.trim()).toBe(
			'kdoctor: base-image-policy is only a possible finding here (30%): check the preview, then add --force to apply it anyway',
		);
		expect(fsm.readFileSync(join(work, 'Dockerfile.weak'), 'utf8')).toBe('STEP 1/4: FROM golang:1.24 AS build\n');
	});

	it('previews, applies with --yes, and undoes a Dockerfile base-image fix', async () => {
		const work = mkdtempSync(join(tmpdir(), 'kdoctor-fixcli-'));
		const df = join(work, 'Dockerfile');
		const original =
			'FROM golang:1.24-alpine AS builder\nRUN go build -o /app ./cmd/gateway\nFROM scratch\nCOPY --from=builder /app /app\n';
		writeFileSync(df, original);
		const env = {KDOCTOR_STATE_DIR: join(work, 'state')};
		const preview = await runCli(['fix', 'base-image-policy', '--from', df], {cwd: work, env});
		expect(preview.code).toBe(0);
		expect(preview.stdout).toMatch(/-FROM golang:1\.24-alpine AS builder/);
		expect(preview.stdout).toMatch(/\+FROM registry\.access\.redhat\.com\/ubi9\/go-toolset/);
		expect(preview.stdout).toMatch(/add --yes/);
		const {readFileSync} = await import('node:fs');
		expect(readFileSync(df, 'utf8')).toBe(original);
		const applied = await runCli(['fix', 'base-image-policy', '--from', df, '--yes'], {cwd: work, env});
		expect(applied.code).toBe(0);
		expect(readFileSync(df, 'utf8')).toMatch(/^FROM registry\.access\.redhat\.com\/ubi9\/go-toolset:latest AS builder/);
		const undo = await runCli(['undo'], {cwd: work, env});
		expect(undo.code).toBe(0);
		expect(readFileSync(df, 'utf8')).toBe(original);
		const again = await runCli(['undo'], {cwd: work, env});
		expect(again.code).toBe(2);
		expect(again.stderr).toMatch(/nothing to undo/);
	});
});

describe('live commands against a cluster that is not there', () => {
	it('triage, diagnose -n and fix -n each say in one line that the API server cannot be reached, exit 2', async () => {
		const dir = mkdtempSync(join(tmpdir(), 'kdoctor-nocluster-'));
		const port = await freePort();
		const kubeconfig = join(dir, 'kubeconfig');
		writeFileSync(
			kubeconfig,
			`apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: 'https://127.0.0.1:${port}', insecure-skip-tls-verify: true}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n`,
		);
		for (const args of [
			['triage', '-n', 'demo', '--json'],
			['diagnose', '-n', 'demo'],
			['fix', 'image-name-mismatch', '-n', 'demo'],
		]) {
			const r = await runCli([...args, '--kubeconfig', kubeconfig]);
			expect(r.code, args.join(' ')).toBe(2);
			expect(r.stdout).toBe('');
			expect(r.stderr.trim().split('\n')).toHaveLength(1);
			expect(r.stderr).toMatch(
				new RegExp(`^kdoctor: cannot reach the Kubernetes API server at https://127\\.0\\.0\\.1:${port}: connection refused`),
			);
		}
	});
});
