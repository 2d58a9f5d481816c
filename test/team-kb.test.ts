import {mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {parse} from 'yaml';
import {draftPattern} from '../src/core/kb/draft.js';
import {runCli} from './helpers/cli.js';

const FAILURE = [
	'starting widget service v1.2.3',
	'connecting to cache at 10.0.0.7:6379',
	'ERROR 2026-12-03T10:00:01Z frobnicator handshake rejected by upstream broker "alpha-7" (code 4411)',
	'exit status 1',
	'',
].join('\n');

function checkout(): string {
	const dir = mkdtempSync(join(tmpdir(), 'kdoctor-team-'));
	writeFileSync(join(dir, 'fail.log'), FAILURE);
	return dir;
}

function teamEntry(id: string, extra = ''): string {
	return [
		'topic: our own',
		'entries:',
		`  - id: ${id}`,
		'    title: Our broker refused the handshake',
		'    layer: workload',
		'    summary: The upstream broker refuses clients whose certificate rotated.',
		'    signals:',
		"      - {id: refused, means: the broker refused us, role: signature, weight: 0.7, pattern: 'handshake rejected by upstream broker'}",
		extra,
		'    examples:',
		"      positive: ['handshake rejected by upstream broker x', 'ERROR handshake rejected by upstream broker']",
		'      negative: [fine]',
		'',
	].join('\n');
}

describe("a team's own knowledge: kdoctor kb new, and .kdoctor/knowledge layered over the built-in KB", () => {
	it('kb new drafts an entry from a failure nothing explains; it lints, tests, and diagnose then names it', async () => {
		const dir = checkout();
		expect((await runCli(['diagnose', '--json', 'fail.log'], {cwd: dir})).code).toBe(0);
		const r = await runCli(['kb', 'new', '--from', 'fail.log'], {cwd: dir});
		expect(r.code, r.stderr).toBe(0);
		expect(r.stdout).toMatch(
			/^wrote \.kdoctor\/knowledge\/team-frobnicator-handshake-rejected-upstream\.yaml: .* from line 3 of fail\.log$/m,
		);
		expect(r.stdout).toContain('kb lint: 0 errors; kb test: 3 passed, 0 failed');
		const files = readdirSync(join(dir, '.kdoctor', 'knowledge'));
		expect(files).toEqual(['team-frobnicator-handshake-rejected-upstream.yaml']);
		const doc = parse(readFileSync(join(dir, '.kdoctor', 'knowledge', files[0]!), 'utf8')) as {
			entries: {id: string; signals: {pattern: string}[]; examples: {positive: {text: string}[]}}[];
		};
		// The run's changing parts (time, broker name, code) are wildcards: the next failure matches too.
		expect(doc.entries[0]!.signals[0]!.pattern).toBe('ERROR \\S+ frobnicator handshake rejected by upstream broker "[^"]*" \\(code');
		expect(doc.entries[0]!.examples.positive[0]!.text).toBe(FAILURE.trimEnd());

		expect((await runCli(['kb', 'lint'], {cwd: dir})).code).toBe(0);
		const t = await runCli(['kb', 'test', 'team-frobnicator-handshake-rejected-upstream'], {cwd: dir});
		expect(t.code, t.stdout).toBe(0);
		const next = FAILURE.replace('alpha-7', 'beta-2').replace('4411', '4412').replace('10:00:01Z', '11:30:00Z');
		writeFileSync(join(dir, 'next.log'), next);
		const d = await runCli(['diagnose', '--json', 'next.log'], {cwd: dir});
		expect(d.code).toBe(1);
		expect((JSON.parse(d.stdout) as {findings: {id: string}[]}).findings[0]!.id).toBe('team-frobnicator-handshake-rejected-upstream');
		const list = await runCli(['kb', 'list'], {cwd: dir});
		expect(list.stdout).toMatch(/^Team entries {2}\(team: .*\.kdoctor\/knowledge\/team-frobnicator-handshake-rejected-upstream\.yaml\)$/m);
		expect(list.stdout).toMatch(/\(1 from the team's own KB\)$/m);
		// A second draft of the same failure: it is explained now, and nothing is overwritten.
		const again = await runCli(['kb', 'new', '--from', 'fail.log'], {cwd: dir});
		expect(again.code).toBe(2);
		expect(again.stderr).toMatch(/fail\.log is already explained: team-frobnicator-handshake-rejected-upstream/);
	});

	it('kb new refuses a bad id, a missing file and a binary one in one line, writing nothing', async () => {
		const dir = checkout();
		writeFileSync(join(dir, 'blob.bin'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2]));
		for (const [args, says] of [
			[['--from', 'fail.log', '--id', 'Bad Id'], /--id "Bad Id": an id is kebab-case/],
			[['--from', 'nosuch.log'], /nosuch\.log: no such file/],
			[['--from', 'blob.bin'], /blob\.bin: binary data/],
		] as const) {
			const r = await runCli(['kb', 'new', ...args], {cwd: dir});
			expect(r.code).toBe(2);
			expect(r.stderr.trim().split('\n')).toHaveLength(1);
			expect(r.stderr).toMatch(says);
		}
		expect(readdirSync(dir).sort()).toEqual(['blob.bin', 'fail.log']);
	});

	it('text from the failure reaches the draft and the terminal inert (no escape sequence)', async () => {
		const dir = mkdtempSync(join(tmpdir(), 'kdoctor-team-'));
		writeFileSync(join(dir, 'evil.log'), 'FATAL \u001b]0;owned\u0007widget broker refused the client handshake outright\n');
		const r = await runCli(['kb', 'new', '--from', 'evil.log', '--id', 'team-evil'], {cwd: dir});
		expect(r.code, r.stderr).toBe(0);
		expect(r.stdout).not.toMatch(/\u001b|\u0007/);
		expect(readFileSync(join(dir, '.kdoctor', 'knowledge', 'team-evil.yaml'), 'utf8')).not.toMatch(/\u001b|\u0007/);
	});

	it('is found from a subfolder upward, may override a built-in id (kb list says so), and --no-team-kb ignores it', async () => {
		const dir = mkdtempSync(join(tmpdir(), 'kdoctor-team-'));
		mkdirSync(join(dir, '.kdoctor', 'knowledge'), {recursive: true});
		mkdirSync(join(dir, 'svc', 'gateway'), {recursive: true});
		writeFileSync(join(dir, '.kdoctor', 'knowledge', 'ours.yaml'), teamEntry('dependency-unreachable'));
		const cwd = join(dir, 'svc', 'gateway');
		writeFileSync(join(cwd, 'x.log'), 'ERROR handshake rejected by upstream broker "b"\n');
		const d = await runCli(['diagnose', '--json', 'x.log'], {cwd});
		const f = (JSON.parse(d.stdout) as {findings: {id: string; title: string}[]}).findings[0]!;
		expect(f).toMatchObject({id: 'dependency-unreachable', title: 'Our broker refused the handshake'});
		const list = await runCli(['kb', 'list'], {cwd});
		expect(list.stdout).toMatch(
			/^ {2}dependency-unreachable +workload +Our broker refused the handshake {2}\(overrides the built-in entry\)$/m,
		);
		expect(list.stdout.match(/^ {2}dependency-unreachable /gm)).toHaveLength(1);
		const json = JSON.parse((await runCli(['kb', 'list', '--json'], {cwd})).stdout) as {id: string; source: string; overrides?: boolean}[];
		expect(json.find((e) => e.id === 'dependency-unreachable')).toMatchObject({source: 'team', overrides: true});
		const off = await runCli(['--no-team-kb', 'diagnose', '--json', 'x.log'], {cwd});
		expect(
			(JSON.parse(off.stdout) as {findings: {title: string}[]}).findings.every((x) => x.title !== 'Our broker refused the handshake'),
		).toBe(true);
	});

	it('--kb-extra layers a folder given by path; two team entries of one id are refused with the file and line', async () => {
		const dir = checkout();
		const extra = join(dir, 'kb');
		mkdirSync(extra);
		writeFileSync(join(extra, 'a.yaml'), teamEntry('team-broker'));
		const ok = await runCli(['--kb-extra', extra, 'diagnose', '--json', 'fail.log'], {cwd: dir});
		expect((JSON.parse(ok.stdout) as {findings: {id: string}[]}).findings[0]!.id).toBe('team-broker');
		writeFileSync(join(extra, 'b.yaml'), teamEntry('team-broker'));
		const dup = await runCli(['--kb-extra', extra, 'diagnose', 'fail.log'], {cwd: dir});
		expect(dup.code).toBe(2);
		expect(dup.stderr).toMatch(/b\.yaml:3: duplicate id "team-broker"/);
	});

	it("a team file is someone else's text: its commands are only printed, and a pattern that could hang is refused at load", async () => {
		const dir = checkout();
		const kb = join(dir, '.kdoctor', 'knowledge');
		mkdirSync(kb, {recursive: true});
		writeFileSync(
			join(kb, 'a.yaml'),
			teamEntry(
				'team-broker',
				'    remediations:\n      - {key: r, title: Reset the broker, kind: command, change: resets it, verify: it answers, undo: none, command: [rm, -rf, /tmp/x], run: confirmed}',
			),
		);
		const show = JSON.parse((await runCli(['kb', 'show', 'team-broker', '--json'], {cwd: dir})).stdout) as {remediations: {run: string}[]};
		expect(show.remediations[0]!.run).toBe('print');
		writeFileSync(
			join(kb, 'b.yaml'),
			teamEntry('team-slow').replace("'handshake rejected by upstream broker'", () => "'(a+)+$'"),
		);
		const r = await runCli(['diagnose', 'fail.log'], {cwd: dir});
		expect(r.code).toBe(2);
		expect(r.stderr).toMatch(/b\.yaml:3: team-slow\/refused: pattern may backtrack catastrophically/);
	});

	it("a team's own case library (.kdoctor/knowledge/cases) is consulted when no signal matched", async () => {
		const dir = mkdtempSync(join(tmpdir(), 'kdoctor-team-'));
		mkdirSync(join(dir, '.kdoctor', 'knowledge', 'cases'), {recursive: true});
		const row = {
			id: 'ours-1',
			url: 'https://git.example/team/wiki/incident-12',
			label: 'disk-full',
			symptom: 'quota service: tenant bucket frozen, writes parked',
		};
		writeFileSync(join(dir, '.kdoctor', 'knowledge', 'cases', 'ours.jsonl'), JSON.stringify(row) + '\n');
		writeFileSync(join(dir, 'y.log'), 'quota service: tenant bucket frozen, writes parked since 10:02\n');
		const j = JSON.parse((await runCli(['diagnose', '--json', 'y.log'], {cwd: dir})).stdout) as {
			findings: {id: string; resembles?: {url: string}}[];
		};
		expect(j.findings[0]).toMatchObject({id: 'disk-full', resembles: {url: 'https://git.example/team/wiki/incident-12'}});
	});
});

describe('draftPattern: the constant words of a line, its changing parts as wildcards', () => {
	it.each([
		[
			'Error: failed to pull image "quay.io/x/y:1.2": rpc error: code = Unknown desc = something broke badly',
			'Error: failed to pull image "[^"]*": rpc error: code = Unknown desc = something broke badly',
		],
		[
			'E0501 19:43:36.072807       7 kubelet.go:1466] "Failed to start ContainerManager" err="failed to initialize top level QOS containers"',
			'"Failed to start ContainerManager" err="failed to initialize top level QOS containers"',
		],
		['FATAL: the frobnicator at /var/run/frob.sock refused our handshake', 'FATAL: the frobnicator at \\S+ refused our handshake'],
	])('%s', (line, pattern) => {
		expect(draftPattern(line)).toBe(pattern);
		expect(new RegExp(pattern, 'i').test(line)).toBe(true);
	});

	it('says nothing for a line with no telling constant text', () => {
		expect(draftPattern('12:00:01 0x7f3a 404 /api/v1/x')).toBeUndefined();
	});
});
