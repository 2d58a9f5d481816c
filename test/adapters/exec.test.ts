import {spawnSync} from 'node:child_process';
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import {createExec, killAllChildren, LineSplitter, liveChildren, OUTPUT_CAP, reasonLine} from '../../src/adapters/exec.js';
import {installHint} from '../../src/core/install-hints.js';
import {ToolMissingError, type Stream} from '../../src/core/provision/ports.js';

/** Processes whose command line matches, excluding pgrep itself. */
function pgrep(pattern: string): string[] {
	const r = spawnSync('pgrep', ['-af', pattern], {encoding: 'utf8'});
	return r.stdout.split('\n').filter((l) => l.trim() && !l.includes('pgrep'));
}

async function waitGone(pattern: string, ms: number): Promise<string[]> {
	const deadline = Date.now() + ms;
	let left = pgrep(pattern);
	while (left.length > 0 && Date.now() < deadline) {
		await new Promise((r) => setTimeout(r, 50));
		left = pgrep(pattern);
	}
	return left;
}

function tag(): string {
	return String(1000 + Math.floor(Math.random() * 8000));
}

describe('LineSplitter', () => {
	it('splits on \\n, \\r\\n and a lone \\r, across chunk boundaries, and flushes a partial last line', () => {
		const lines: string[] = [];
		const s = new LineSplitter((l) => lines.push(l));
		s.push('one\r');
		s.push('\ntwo\n');
		s.push('10%\r20%\r');
		s.push('30%');
		s.push('\rdone\npart');
		s.push('ial');
		s.end();
		expect(lines).toEqual(['one', 'two', '10%', '20%', '30%', 'done', 'partial']);
	});

	it('keeps blank lines that are real', () => {
		const lines: string[] = [];
		const s = new LineSplitter((l) => lines.push(l));
		s.push('a\n\nb\r\n\r\nc\n');
		s.end();
		expect(lines).toEqual(['a', '', 'b', '', 'c']);
	});
});

describe('createExec', () => {
	const exec = createExec({killGraceMs: 1500});
	afterEach(() => expect(liveChildren()).toBe(0));

	it('runs argv without a shell: metacharacters are literal', async () => {
		const r = await exec.run({argv: ['echo', '$HOME; rm -rf /', '`id`']});
		expect(r.exitCode).toBe(0);
		expect(r.stdout).toBe('$HOME; rm -rf / `id`\n');
		expect(r.cancelled).toBe(false);
		expect(r.timedOut).toBe(false);
	});

	it('returns a non-zero exit as a result, with env, cwd and stdin', async () => {
		const dir = mkdtempSync(join(tmpdir(), 'kd-exec-'));
		try {
			const r = await exec.run({
				argv: ['sh', '-c', 'pwd; echo "$KD_X"; cat; echo oops >&2; exit 7'],
				env: {KD_X: 'value'},
				cwd: dir,
				input: 'from-stdin\n',
			});
			expect(r.exitCode).toBe(7);
			expect(r.stdout).toBe(`${dir}\nvalue\nfrom-stdin\n`);
			expect(r.stderr).toBe('oops\n');
			expect(reasonLine(r)).toBe('oops');
		} finally {
			rmSync(dir, {recursive: true, force: true});
		}
	});

	it('feeds onLine from both streams, including \\r progress and a partial last line', async () => {
		const seen: [string, Stream][] = [];
		const r = await exec.run({
			argv: ['sh', '-c', 'printf "a\\rb\\r\\nc\\n"; printf "e1\\ne2" >&2; printf "tail"'],
			onLine: (l, s) => seen.push([l, s]),
		});
		expect(r.exitCode).toBe(0);
		expect(seen.filter(([, s]) => s === 'stdout').map(([l]) => l)).toEqual(['a', 'b', 'c', 'tail']);
		expect(seen.filter(([, s]) => s === 'stderr').map(([l]) => l)).toEqual(['e1', 'e2']);
	});

	it('keeps only the last part of a huge output', async () => {
		const r = await exec.run({argv: ['sh', '-c', 'head -c 3000000 /dev/zero | tr "\\0" x; echo END']});
		expect(r.stdout.length).toBeLessThanOrEqual(OUTPUT_CAP);
		expect(r.stdout.length).toBeGreaterThan(OUTPUT_CAP / 2);
		expect(r.stdout.endsWith('xEND\n')).toBe(true);
		const small = await createExec({outputCap: 100}).run({argv: ['sh', '-c', 'for i in $(seq 1 500); do echo line$i; done']});
		expect(small.stdout.length).toBe(100);
		expect(small.stdout.endsWith('line500\n')).toBe(true);
	});

	it('abort kills the child and its grandchildren, even one that left the process group', async () => {
		const t = tag();
		const ac = new AbortController();
		const started = Date.now();
		const run = exec.run({argv: ['sh', '-c', `sleep ${t}1 & setsid sleep ${t}2 & sleep ${t}3; echo never`], signal: ac.signal});
		await new Promise((r) => setTimeout(r, 400));
		expect(pgrep(`^sleep ${t}`).length).toBe(3);
		ac.abort();
		const r = await run;
		expect(r.cancelled).toBe(true);
		expect(r.exitCode).toBeNull();
		expect(r.signal).toBe('SIGTERM');
		expect(r.stdout).not.toContain('never');
		expect(Date.now() - started).toBeLessThan(4000);
		expect(await waitGone(`^sleep ${t}`, 1000)).toEqual([]);
	});

	it('a child that ignores SIGTERM gets SIGKILL after the grace period; timeoutMs sets timedOut', async () => {
		const t = tag();
		const r = await exec.run({argv: ['sh', '-c', `trap "" TERM; sleep ${t}4 & trap "" TERM; sleep ${t}5`], timeoutMs: 300});
		expect(r.timedOut).toBe(true);
		expect(r.cancelled).toBe(false);
		expect(r.signal).toBe('SIGKILL');
		expect(r.durationMs).toBeLessThan(4000);
		expect(await waitGone(`^sleep ${t}`, 1000)).toEqual([]);
	});

	it('killAllChildren stops every running child', async () => {
		const t = tag();
		const runs = [exec.run({argv: ['sleep', `${t}6`]}), exec.run({argv: ['sh', '-c', `sleep ${t}7`]})];
		await new Promise((r) => setTimeout(r, 300));
		expect(liveChildren()).toBe(2);
		await killAllChildren();
		const results = await Promise.all(runs);
		expect(results.every((r) => r.cancelled && r.exitCode === null)).toBe(true);
		expect(await waitGone(`^sleep ${t}`, 1000)).toEqual([]);
	});

	it('an already aborted signal starts nothing', async () => {
		const ac = new AbortController();
		ac.abort();
		const r = await exec.run({argv: ['sleep', '5'], signal: ac.signal});
		expect(r).toMatchObject({cancelled: true, exitCode: null, durationMs: 0});
	});

	it('a missing program is a ToolMissingError with an install hint', async () => {
		const err = await exec.run({argv: ['kdoctor-no-such-tool']}).catch((e: unknown) => e);
		expect(err).toBeInstanceOf(ToolMissingError);
		expect((err as ToolMissingError).tool).toBe('kdoctor-no-such-tool');
		expect((err as Error).message.split('\n')).toHaveLength(1);
		const pm = await createExec({platform: 'linux'})
			.run({argv: ['/nonexistent/bin/podman', 'info']})
			.catch((e: unknown) => e);
		expect((pm as Error).message).toBe('/nonexistent/bin/podman is not installed or not on PATH: `sudo apt-get install podman runc`');
	});

	it('a missing working directory is one clear line, not a missing tool', async () => {
		const err = await exec.run({argv: ['ls'], cwd: '/nonexistent/dir'}).catch((e: unknown) => e);
		expect(err).not.toBeInstanceOf(ToolMissingError);
		expect((err as Error).message).toBe('ls: working directory does not exist: /nonexistent/dir');
	});

	it('has apt and brew hints for every tool kdoctor runs', () => {
		for (const tool of ['podman', 'docker', 'kind', 'kubectl', 'ctr', 'go']) {
			expect(installHint(tool, 'linux')).toMatch(/apt-get|go install/);
			expect(installHint(tool, 'darwin')).toMatch(/brew|macOS|kind provider/);
		}
		expect(installHint('kind', 'linux')).toContain('go install sigs.k8s.io/kind@v0.32.0');
	});
});
