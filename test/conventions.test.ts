import {spawn, spawnSync} from 'node:child_process';
import {mkdtempSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {parse} from 'yaml';
import {CLI, runCli} from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'kdoctor-conv-'));
const neverPull = join(dir, 'never-pull.txt');
writeFileSync(
	neverPull,
	'Warning  ErrImageNeverPull  5s  kubelet  Container image "gateway:run-1" is not present with pull policy of Never\nlocalhost/gateway   run-1   3f2a1b4c5d6e   41.2MB\n',
);
const clean = join(dir, 'clean.txt');
writeFileSync(clean, 'ok  github.com/acme/gateway/pkg/server  0.412s\nPASS\n');

describe('the conventions CLI users expect', () => {
	it('kdoctor version says kdoctor, Node, the KB (a content hash) and the JSON schema; --json the same as an object', async () => {
		const r = await runCli(['version']);
		expect(r.code).toBe(0);
		expect(r.stdout).toMatch(
			/^kdoctor \d+\.\d+\.\d+\nnode \d+\.\d+\.\d+\nknowledge base [0-9a-f]{16} \(\d+ entries, \d+ library cases\)\nJSON schema 1\n$/,
		);
		const j = JSON.parse((await runCli(['version', '--json'])).stdout) as Record<string, unknown>;
		expect(j).toMatchObject({node: process.versions.node, schemaVersion: 1, kbHash: expect.stringMatching(/^[0-9a-f]{16}$/)});
		expect(j.entries).toBeGreaterThanOrEqual(40);
		// A symptom that a stronger cause explains says which, in JSON too.
		const run = JSON.parse(
			(await runCli(['diagnose', '--json', new URL('../examples/gateway-e2e-failed-run.log', import.meta.url).pathname])).stdout,
		) as {
			findings: {id: string; explainedBy?: string}[];
		};
		expect(run.findings.find((f) => f.id === 'healthcheck-timeout')?.explainedBy).toBe('image-name-mismatch');
		// A JSON output carries the same schema version.
		expect((JSON.parse((await runCli(['diagnose', '--json', clean])).stdout) as {schemaVersion: number}).schemaVersion).toBe(1);
	});

	it("help COMMAND is that command's help; help of an unknown command says so in one line", async () => {
		expect((await runCli(['help', 'kb', 'new'])).stdout).toMatch(/^Usage: kdoctor kb new/);
		const r = await runCli(['help', 'nosuch']);
		expect(r.code).toBe(2);
		expect(r.stderr.trim()).toBe("kdoctor: unknown command 'nosuch' (kdoctor --help lists the commands)");
	});

	it('flags that contradict each other are refused in one line, before anything runs', async () => {
		for (const args of [
			['diagnose', '--json', '--plain', clean],
			['diagnose', '-q', '--json', clean],
			['triage', '-n', 'x', '-A'],
			['setup', '--json', '--plain'],
		]) {
			const r = await runCli(args);
			expect(r.code, args.join(' ')).toBe(2);
			expect(r.stderr).toMatch(/^error: option '.+' cannot be used with option '.+'$/m);
			expect(r.stdout).toBe('');
		}
	});

	it('-o json|yaml|text as kubectl has it: the same objects', async () => {
		const json = (await runCli(['diagnose', '--json', neverPull])).stdout;
		expect((await runCli(['diagnose', '-o', 'json', neverPull])).stdout).toBe(json);
		const yaml = await runCli(['diagnose', '-o', 'yaml', neverPull]);
		expect(yaml.code).toBe(1);
		expect(yaml.stdout.startsWith('---\n')).toBe(true);
		expect(parse(yaml.stdout)).toEqual(JSON.parse(json));
		expect((await runCli(['diagnose', '-o', 'text', neverPull])).stdout).toBe((await runCli(['diagnose', '--plain', neverPull])).stdout);
		const bad = await runCli(['diagnose', '-o', 'xml', neverPull]);
		expect(bad.code).toBe(2);
		expect(bad.stderr.trim()).toBe('kdoctor: -o xml: say json, yaml or text');
	});

	it('-q prints nothing and the status says it; an unreadable input still says why', async () => {
		const found = await runCli(['diagnose', '-q', neverPull]);
		expect([found.code, found.stdout, found.stderr]).toEqual([1, '', '']);
		const none = await runCli(['diagnose', '-q', clean]);
		expect([none.code, none.stdout]).toEqual([0, '']);
		const missing = await runCli(['diagnose', '-q', join(dir, 'nosuch.log')]);
		expect(missing.code).toBe(2);
		expect(missing.stderr).toMatch(/nosuch\.log: no such file/);
	});

	it('--color always colours a pipe, --no-color and --color never do not (over FORCE_COLOR), a bad value is one line', async () => {
		expect((await runCli(['--color', 'always', 'diagnose', neverPull])).stdout).toContain('\u001b[');
		expect((await runCli(['--no-color', 'diagnose', neverPull], {env: {FORCE_COLOR: '1'}})).stdout).not.toContain('\u001b[');
		expect((await runCli(['--color', 'never', 'diagnose', neverPull], {env: {FORCE_COLOR: '1'}})).stdout).not.toContain('\u001b[');
		const bad = await runCli(['--color', 'sometimes', 'diagnose', neverPull]);
		expect(bad.code).toBe(2);
		expect(bad.stderr.trim()).toBe('kdoctor: --color sometimes: say auto, always or never');
	});

	it('--debug says how long the command took, and on a user error adds its stack', async () => {
		const ok = await runCli(['--debug', 'diagnose', '-q', clean]);
		expect(ok.stderr).toMatch(/^kdoctor: debug: diagnose took \d+ ms$/m);
		const bad = await runCli(['--debug', 'diagnose', join(dir, 'nosuch.log')]);
		expect(bad.stderr).toMatch(/nosuch\.log: no such file/);
		const quiet = await runCli(['diagnose', join(dir, 'nosuch.log')]);
		expect(quiet.stderr).not.toMatch(/^\s+at /m);
	});

	it('a polite kill (SIGTERM) ends a diagnosis at once with status 143', async () => {
		const child = spawn(process.execPath, [CLI, 'diagnose', '--json', '-'], {stdio: ['pipe', 'pipe', 'pipe']});
		child.stdin.write('ErrImageNeverPull\n');
		await new Promise((r) => setTimeout(r, 400));
		child.kill('SIGTERM');
		const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
		expect(code).toBe(143);
	});
});

describe("settings: the user's own config.yaml beside the project's kdoctor.yaml", () => {
	it('$XDG_CONFIG_HOME/kdoctor/config.yaml applies everywhere, ./kdoctor.yaml wins over it, a broken one is one line naming it', async () => {
		const project = mkdtempSync(join(tmpdir(), 'kdoctor-cfg-'));
		const xdg = join(project, 'xdg');
		writeFileSync(join(project, 'Dockerfile'), 'FROM docker.io/library/golang:1.22 AS build\nRUN go build ./...\n');
		const run = (env: Record<string, string> = {}) =>
			runCli(['diagnose', '-q', 'Dockerfile'], {cwd: project, env: {XDG_CONFIG_HOME: xdg, ...env}});
		expect((await run()).code).toBe(1);
		const {mkdirSync} = await import('node:fs');
		mkdirSync(join(xdg, 'kdoctor'), {recursive: true});
		writeFileSync(join(xdg, 'kdoctor', 'config.yaml'), 'policy:\n  allowedBaseRegistries: [docker.io/]\n');
		expect((await run()).code).toBe(0);
		writeFileSync(join(project, 'kdoctor.yaml'), 'policy:\n  allowedBaseRegistries: [quay.io/]\n');
		expect((await run()).code).toBe(1);
		writeFileSync(join(xdg, 'kdoctor', 'config.yaml'), 'policy: [not, a, map\n');
		const bad = await run();
		expect(bad.code).toBe(2);
		expect(bad.stderr.trim().split('\n')).toHaveLength(1);
		expect(bad.stderr).toContain(join(xdg, 'kdoctor', 'config.yaml'));
	});
});

describe('kdoctor completion and kdoctor man, generated from the help', () => {
	it('bash: the script, sourced in a real bash, completes commands, subcommands, flags and files after a path flag', async () => {
		const script = join(dir, 'kdoctor.bash');
		writeFileSync(script, (await runCli(['completion', 'bash'])).stdout);
		const files = mkdtempSync(join(tmpdir(), 'kdoctor-comp-'));
		writeFileSync(join(files, 'run.log'), '');
		const probe = `source ${script}
t() { COMP_WORDS=("$@"); COMP_CWORD=$((\${#COMP_WORDS[@]}-1)); COMPREPLY=(); _kdoctor; echo "\${COMPREPLY[*]}"; }
t kdoctor di
t kdoctor kb n
t kdoctor diagnose --js
t kdoctor triage -n ns --read
cd ${files} && t kdoctor kb new --from ru`;
		const r = spawnSync('bash', ['-c', probe], {encoding: 'utf8'});
		expect(r.stderr).toBe('');
		expect(r.stdout.split('\n').slice(0, 5)).toEqual(['diagnose', 'new', '--json', '--read-only', 'run.log']);
	});

	it('zsh loads the same function through bashcompinit; fish gets one line per command and flag; another shell is one line', async () => {
		const zsh = (await runCli(['completion', 'zsh'])).stdout;
		expect(zsh).toContain('autoload -U +X bashcompinit && bashcompinit');
		expect(zsh).toContain('complete -o default -F _kdoctor kdoctor');
		const fish = (await runCli(['completion', 'fish'])).stdout;
		expect(fish).toContain("complete -c kdoctor -n '__fish_use_subcommand' -a diagnose -d ");
		expect(fish).toMatch(
			/^complete -c kdoctor -n '__fish_seen_subcommand_from kb; and __fish_seen_subcommand_from new' -l from -r -F -d /m,
		);
		expect(fish).toContain("-l id -r -d 'the entry id (default: team- and the failing line\\'s first words)'");
		const bad = await runCli(['completion', 'tcsh']);
		expect(bad.code).toBe(2);
		expect(bad.stderr.trim()).toBe('kdoctor: kdoctor completion tcsh: say bash, zsh or fish');
	});

	it.skipIf(spawnSync('groff', ['--version']).status !== 0)(
		'the man page is roff that groff reads without a warning, every command in it',
		async () => {
			const page = (await runCli(['man'])).stdout;
			expect(page).toMatch(/^\.TH KDOCTOR 1 /);
			for (const c of ['diagnose', 'triage', 'kb new', 'undo', 'completion'])
				expect(page).toContain(`.SS "kdoctor ${c.replace(/-/g, '\\-')}"`);
			const r = spawnSync('groff', ['-man', '-Tutf8', '-ww', '-z'], {input: page, encoding: 'utf8'});
			expect(r.status).toBe(0);
			expect(r.stderr).toBe('');
		},
	);
});
