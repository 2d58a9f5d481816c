import {spawnSync} from 'node:child_process';
import {accessSync, constants, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, copyFileSync, writeFileSync} from 'node:fs';
import {homedir, tmpdir} from 'node:os';
import {delimiter, join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {describe, it} from 'vitest';
import type {ExecPort, ExecRequest, ExecResult} from '../../src/core/provision/ports.js';

/** Images test/world/setup.sh builds: a Go builder and a tiny runtime standing in for the UBI registry images. */
export const WORLD_IMAGES = {
	goToolset: 'localhost/kdoctor-world/go-toolset:1',
	ubiMinimal: 'localhost/kdoctor-world/ubi-minimal:1',
} as const;

export const KIND_SCRIPT = fileURLToPath(new URL('../world/kind.sh', import.meta.url));

/** Where test/world scripts cache what they build (kind): /var/cache as root, ~/.cache otherwise. */
export function worldCacheDir(): string {
	if (process.env.KDOCTOR_WORLD_CACHE) return process.env.KDOCTOR_WORLD_CACHE;
	if (process.getuid?.() === 0) return '/var/cache/kdoctor-world';
	return join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'kdoctor-world');
}

/** A tool on PATH (or an absolute path), or undefined. */
export function which(tool: string): string | undefined {
	const candidates = tool.includes('/')
		? [tool]
		: (process.env.PATH ?? '')
				.split(delimiter)
				.filter(Boolean)
				.map((d) => join(d, tool));
	if (tool === 'go') candidates.push('/usr/local/go/bin/go');
	for (const c of candidates) {
		try {
			accessSync(c, constants.X_OK);
			return c;
		} catch {
			/* next */
		}
	}
	return undefined;
}

/** The real kind CLI: the test-world cache first (built by test/world/kind.sh), then PATH. */
export function kindBinary(): string | undefined {
	const cached = join(worldCacheDir(), 'bin', 'kind');
	return existsSync(cached) ? cached : which('kind');
}

let kindTried = false;
/** Builds kind with test/world/kind.sh when it is missing and Go is here (about 30 s, once; cached after). */
function ensureKind(): string | undefined {
	const found = kindBinary();
	if (found || kindTried) return found;
	kindTried = true;
	if (!which('go')) return undefined;
	const r = spawnSync('bash', [KIND_SCRIPT], {
		encoding: 'utf8',
		timeout: 300_000,
		env: {...process.env, PATH: `${process.env.PATH}:/usr/local/go/bin`},
	});
	if (r.status !== 0) return undefined;
	return kindBinary();
}

let busyboxTried = false;
/** busybox-static is the tiny image's only binary; installed from Debian when root and missing. */
function ensureBusybox(): string | undefined {
	const path = ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p));
	if (path || busyboxTried) return path;
	busyboxTried = true;
	if (process.getuid?.() !== 0 || !which('apt-get')) return undefined;
	spawnSync('apt-get', ['install', '-y', '-qq', 'busybox-static'], {
		stdio: 'ignore',
		timeout: 300_000,
		env: {...process.env, DEBIAN_FRONTEND: 'noninteractive'},
	});
	return ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p));
}

function podmanAnswers(): boolean {
	if (!which('podman')) return false;
	const r = spawnSync('podman', ['info', '--format', '{{.Host.Arch}}'], {encoding: 'utf8', timeout: 30_000});
	return r.status === 0;
}

function imageExists(ref: string): boolean {
	return spawnSync('podman', ['image', 'exists', ref], {timeout: 30_000}).status === 0;
}

/**
 * What a real-world test may need: a tool ('podman', 'docker', 'kind', 'go', 'ctr', 'containerd', 'busybox'),
 * 'root', 'cgroupfs' (a writable cgroup v1 memory hierarchy or a v2 root), or an image reference (contains '/').
 */
export type WorldNeed = string;

const HINTS: Record<string, string> = {
	podman: 'apt-get install podman runc (see TESTWORLD.md)',
	kind: 'run test/world/kind.sh (needs go and the Go module proxy)',
	go: 'install Go (/usr/local/go or apt-get install golang-go)',
	ctr: 'apt-get install containerd',
	containerd: 'apt-get install containerd',
	busybox: 'apt-get install busybox-static',
	root: 'run the tests as root',
	cgroupfs: 'a writable memory cgroup (root on a Linux host)',
};

function missingReason(need: WorldNeed): string | undefined {
	if (need.includes('/')) {
		if (!podmanAnswers()) return `image ${need} (podman is not answering)`;
		const script = need.includes('/kind-node:') ? 'test/world/kind-node.sh' : 'test/world/setup.sh';
		return imageExists(need) ? undefined : `image ${need} (run ${script})`;
	}
	const hint = HINTS[need] ?? `install ${need}`;
	switch (need) {
		case 'podman':
			return podmanAnswers() ? undefined : `podman (${hint})`;
		case 'kind':
			return ensureKind() ? undefined : `kind (${hint})`;
		case 'busybox':
			return ensureBusybox() ? undefined : `busybox (${hint})`;
		case 'root':
			return process.getuid?.() === 0 ? undefined : `root (${hint})`;
		case 'cgroupfs': {
			if (process.platform !== 'linux' || process.getuid?.() !== 0) return `cgroupfs (${hint})`;
			const ok = existsSync('/sys/fs/cgroup/memory/memory.limit_in_bytes') || existsSync('/sys/fs/cgroup/cgroup.controllers');
			return ok ? undefined : `cgroupfs (${hint})`;
		}
		default:
			return which(need) ? undefined : `${need} (${hint})`;
	}
}

export type World = {
	ok: boolean;
	/** One line naming what is missing and how to get it. */
	reason: string;
	/** describe() when the world is here; in CI a failing test saying what is missing; elsewhere a skip saying so. */
	describe: (name: string, fn: () => void) => void;
};

const cache = new Map<string, string | undefined>();

/** Checks the real tools and images a test needs: CI fails on a missing one with one clear line, elsewhere it is skipped with one. */
export function needsWorld(what: WorldNeed | WorldNeed[]): World {
	const needs = Array.isArray(what) ? what : [what];
	const missing: string[] = [];
	for (const need of needs) {
		if (!cache.has(need)) cache.set(need, missingReason(need));
		const m = cache.get(need);
		if (m) missing.push(m);
	}
	const ok = missing.length === 0;
	const reason = ok ? '' : `needs ${missing.join(', ')}`;
	const inCi = strictWorld();
	return {
		ok,
		reason,
		describe(name, fn) {
			if (ok) return describe(name, fn);
			if (inCi) {
				describe(name, () => {
					it('has the real tools it needs', () => {
						throw new Error(`test world incomplete: ${reason}`);
					});
				});
				return;
			}
			console.warn(`[world] skipped "${name}": ${reason}`);
			describe.skip(`${name} (skipped: ${reason})`, fn);
		},
	};
}

/** Runs a command for a test's setup; throws one line with its stderr when it fails. */
export function sh(argv: string[], opts: {input?: string | Buffer; timeout?: number; cwd?: string} = {}): string {
	const r = spawnSync(argv[0], argv.slice(1), {
		encoding: 'utf8',
		input: opts.input,
		timeout: opts.timeout ?? 120_000,
		cwd: opts.cwd,
		maxBuffer: 64 * 1024 * 1024,
	});
	if (r.status !== 0)
		throw new Error(
			`${argv.join(' ')} failed (${r.status ?? r.signal}): ${(r.stderr || r.stdout || String(r.error ?? '')).trim().split('\n').pop()}`,
		);
	return r.stdout;
}

/** Imports a busybox-static rootfs as a podman image: a tiny base for test builds that needs no registry. */
export function importBusyboxImage(ref: string): void {
	const busybox = ensureBusybox();
	if (!busybox) throw new Error('busybox-static is not installed (apt-get install busybox-static)');
	const root = mkdtempSync(join(tmpdir(), 'kd-busybox-'));
	try {
		mkdirSync(join(root, 'bin'));
		mkdirSync(join(root, 'tmp'));
		mkdirSync(join(root, 'etc'));
		writeFileSync(join(root, 'etc', 'passwd'), 'root:x:0:0:root:/:/bin/sh\n');
		copyFileSync(busybox, join(root, 'bin', 'busybox'));
		for (const applet of ['sh', 'dd', 'sleep', 'cat', 'ls', 'echo', 'true', 'false', 'head', 'tail', 'mkdir', 'rm', 'touch', 'env', 'ps']) {
			symlinkSync('busybox', join(root, 'bin', applet));
		}
		const tar = spawnSync('tar', ['-C', root, '-c', '.'], {maxBuffer: 64 * 1024 * 1024});
		if (tar.status !== 0) throw new Error(`tar of the busybox rootfs failed: ${tar.stderr?.toString().trim()}`);
		sh(['podman', 'import', '--change', 'ENV PATH=/bin', '--change', 'CMD ["/bin/sh"]', '-', ref], {input: tar.stdout});
	} finally {
		rmSync(root, {recursive: true, force: true});
	}
}

/** Removes images a test made; a missing one is fine. */
export function removeImages(refs: string[]): void {
	if (refs.length === 0) return;
	spawnSync('podman', ['rmi', '-f', ...refs], {stdio: 'ignore', timeout: 120_000});
}

/** A short random suffix so concurrent test runs do not collide on names. */
export function rand(): string {
	return Math.random().toString(36).slice(2, 8);
}

export type RecordedCall = {argv: string[]; env?: Record<string, string>; cwd?: string; input?: string; timeoutMs?: number};
export type Reply = Partial<Pick<ExecResult, 'exitCode' | 'stdout' | 'stderr' | 'signal' | 'timedOut' | 'cancelled'>> | Error;

/** An ExecPort that records every call and answers from a script, so adapters' exact argv/env/cwd can be asserted. */
export function recordExec(reply: (req: ExecRequest, index: number) => Reply | Promise<Reply> = () => ({})): {
	exec: ExecPort;
	calls: RecordedCall[];
} {
	const calls: RecordedCall[] = [];
	const exec: ExecPort = {
		async run(req) {
			const call: RecordedCall = {argv: req.argv};
			if (req.env) call.env = req.env;
			if (req.cwd) call.cwd = req.cwd;
			if (req.input !== undefined) call.input = req.input;
			if (req.timeoutMs !== undefined) call.timeoutMs = req.timeoutMs;
			calls.push(call);
			const r = await reply(req, calls.length - 1);
			if (r instanceof Error) throw r;
			const result: ExecResult = {
				argv: req.argv,
				exitCode: 0,
				stdout: '',
				stderr: '',
				timedOut: false,
				cancelled: false,
				durationMs: 1,
				...r,
			};
			for (const line of `${result.stdout}`.split('\n').filter(Boolean)) req.onLine?.(line, 'stdout');
			for (const line of `${result.stderr}`.split('\n').filter(Boolean)) req.onLine?.(line, 'stderr');
			return result;
		},
	};
	return {exec, calls};
}

/** In CI (CI set, or KDOCTOR_REQUIRE_WORLD=1 as .ci/run exports) a missing tool or cluster is a failure, never a skip. */
export function strictWorld(): boolean {
	return Boolean(process.env.CI || process.env.KDOCTOR_REQUIRE_WORLD);
}
