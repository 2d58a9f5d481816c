import {existsSync, readdirSync, readFileSync, statSync} from 'node:fs';
import {StringDecoder} from 'node:string_decoder';
import {installHint, type Platform} from '../core/install-hints.js';
import {ToolMissingError, type ExecPort, type ExecRequest, type ExecResult, type LineSink, type Stream} from '../core/provision/ports.js';

/** The last this many characters of each stream are kept, so a huge build log cannot exhaust memory. */
export const OUTPUT_CAP = 1024 * 1024;
/** A "line" longer than this without a newline is emitted anyway, so a runaway progress bar cannot grow without bound. */
const MAX_LINE = 64 * 1024;
/** How long a child may take to exit after SIGTERM before the whole group gets SIGKILL. */
export const KILL_GRACE_MS = 3000;

/** Splits a stream into lines at \n, \r\n and a lone \r (progress bars), keeping a partial last line until more arrives. */
export class LineSplitter {
	private partial = '';
	private pendingCr = false;

	constructor(private readonly emit: (line: string) => void) {}

	push(text: string): void {
		let start = 0;
		for (let i = 0; i < text.length; i++) {
			const ch = text.charCodeAt(i);
			if (this.pendingCr) {
				this.pendingCr = false;
				if (ch === 10) {
					start = i + 1;
					continue;
				}
			}
			if (ch === 10 || ch === 13) {
				this.flushLine(this.partial + text.slice(start, i));
				this.partial = '';
				start = i + 1;
				if (ch === 13) this.pendingCr = true;
			}
		}
		this.partial += text.slice(start);
		if (this.partial.length > MAX_LINE) {
			this.flushLine(this.partial);
			this.partial = '';
		}
	}

	/** Emits what is left (a last line without a newline). */
	end(): void {
		if (this.partial.length > 0) this.flushLine(this.partial);
		this.partial = '';
		this.pendingCr = false;
	}

	private flushLine(line: string): void {
		this.emit(line);
	}
}

/** Keeps the last `cap` characters written, dropping whole chunks from the front as it grows. */
class TailBuffer {
	private chunks: string[] = [];
	private size = 0;
	truncated = false;

	constructor(private readonly cap: number) {}

	push(text: string): void {
		if (text.length === 0) return;
		this.chunks.push(text);
		this.size += text.length;
		while (this.size - this.chunks[0].length >= this.cap && this.chunks.length > 1) {
			this.size -= this.chunks.shift()!.length;
			this.truncated = true;
		}
	}

	toString(): string {
		const all = this.chunks.join('');
		if (all.length <= this.cap) return all;
		this.truncated = true;
		return all.slice(all.length - this.cap);
	}
}

type Live = {pid: number; kill: () => Promise<void>; killNow: () => void};
const live = new Set<Live>();

/** Stops every child this process started (and their descendants): the CLI's SIGINT handler calls this. */
export async function killAllChildren(): Promise<void> {
	await Promise.all([...live].map((l) => l.kill()));
}

/** How many children are running now (tests check nothing is left behind). */
export function liveChildren(): number {
	return live.size;
}

let exitHookInstalled = false;
/** A last resort when the process exits with children still running: SIGKILL their groups synchronously. */
function installExitHook(): void {
	if (exitHookInstalled) return;
	exitHookInstalled = true;
	process.once('exit', () => {
		for (const l of live) l.killNow();
	});
}

/** Every descendant of pid (children first seen via /proc), so a child that left the process group is still found. */
export function descendants(pid: number, procRoot = '/proc'): number[] {
	if (process.platform !== 'linux') return [];
	const parentOf = new Map<number, number[]>();
	let entries: string[];
	try {
		entries = readdirSync(procRoot);
	} catch {
		return [];
	}
	for (const entry of entries) {
		if (!/^\d+$/.test(entry)) continue;
		let stat: string;
		try {
			stat = readFileSync(`${procRoot}/${entry}/stat`, 'utf8');
		} catch {
			continue;
		}
		// The command name is in parentheses and may itself contain spaces or parentheses.
		const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
		const ppid = Number(rest[1]);
		const list = parentOf.get(ppid) ?? [];
		list.push(Number(entry));
		parentOf.set(ppid, list);
	}
	const out: number[] = [];
	const queue = [pid];
	while (queue.length > 0) {
		const p = queue.shift()!;
		for (const c of parentOf.get(p) ?? []) {
			if (out.includes(c)) continue;
			out.push(c);
			queue.push(c);
		}
	}
	return out;
}

function signalQuiet(pid: number, sig: NodeJS.Signals): void {
	try {
		process.kill(pid, sig);
	} catch {
		/* already gone */
	}
}

/** Whether pid still runs; a zombie waiting for a slow init to reap it counts as gone. */
function alive(pid: number): boolean {
	try {
		process.kill(pid, 0);
	} catch {
		return false;
	}
	if (process.platform !== 'linux') return true;
	try {
		const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
		const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
		return state !== 'Z' && state !== 'X';
	} catch {
		return false;
	}
}

function sleep(ms: number): Promise<void> {
	return new Promise((r) => setTimeout(r, ms));
}

/** SIGTERM to the group and every known descendant, then SIGKILL to whatever is left after the grace period. */
async function killTree(pid: number, grace: number, isDone: () => boolean): Promise<void> {
	const known = new Set([pid, ...descendants(pid)]);
	signalQuiet(-pid, 'SIGTERM');
	for (const p of known) signalQuiet(p, 'SIGTERM');
	const deadline = Date.now() + grace;
	while (Date.now() < deadline) {
		for (const p of descendants(pid)) known.add(p);
		if (isDone() && [...known].every((p) => !alive(p))) return;
		await sleep(50);
	}
	for (const p of descendants(pid)) known.add(p);
	signalQuiet(-pid, 'SIGKILL');
	for (const p of known) signalQuiet(p, 'SIGKILL');
}

export type ExecOptions = {
	/** Grace between SIGTERM and SIGKILL. */
	killGraceMs?: number;
	/** Per-stream capture cap in characters. */
	outputCap?: number;
	platform?: Platform;
};

/** The real ExecPort: execa with argv arrays (never a shell), every child in its own process group. */
export function createExec(opts: ExecOptions = {}): ExecPort {
	const grace = opts.killGraceMs ?? KILL_GRACE_MS;
	const cap = opts.outputCap ?? OUTPUT_CAP;
	const platform = opts.platform ?? process.platform;
	return {
		async run(req: ExecRequest): Promise<ExecResult> {
			const [file, ...args] = req.argv;
			if (!file) throw new Error('exec: empty argv');
			const started = Date.now();
			if (req.cwd !== undefined && !(existsSync(req.cwd) && statSync(req.cwd).isDirectory())) {
				throw new Error(`${file}: working directory does not exist: ${req.cwd}`);
			}
			if (req.signal?.aborted) {
				return {argv: req.argv, exitCode: null, stdout: '', stderr: '', timedOut: false, cancelled: true, durationMs: 0};
			}
			installExitHook();
			// Loaded at the first command, not at start-up: a command that never runs a child never pays for execa.
			const {execa} = await import('execa');
			const child = execa(file, args, {
				reject: false,
				buffer: false,
				detached: true,
				cleanup: false,
				cwd: req.cwd,
				env: req.env,
				extendEnv: true,
				...(req.input === undefined ? {stdin: 'ignore' as const} : {input: req.input}),
				stripFinalNewline: false,
				windowsHide: true,
			});
			const out = {stdout: new TailBuffer(cap), stderr: new TailBuffer(cap)};
			const wire = (stream: Stream) => {
				const readable = child[stream];
				if (!readable) return;
				const decoder = new StringDecoder('utf8');
				const sink: LineSink | undefined = req.onLine;
				const splitter = sink ? new LineSplitter((line) => sink(line, stream)) : undefined;
				readable.on('data', (chunk: Buffer) => {
					const text = decoder.write(chunk);
					out[stream].push(text);
					splitter?.push(text);
				});
				readable.on('end', () => {
					const text = decoder.end();
					out[stream].push(text);
					splitter?.push(text);
					splitter?.end();
				});
			};
			wire('stdout');
			wire('stderr');

			let timedOut = false;
			let cancelled = false;
			let done = false;
			let killing: Promise<void> | undefined;
			const pid = child.pid;
			const kill = (): Promise<void> => {
				if (pid === undefined || done) return Promise.resolve();
				killing ??= killTree(pid, grace, () => done);
				return killing;
			};
			const entry: Live | undefined =
				pid === undefined
					? undefined
					: {
							pid,
							kill: () => {
								if (!done) cancelled = true;
								return kill();
							},
							killNow: () => {
								signalQuiet(-pid, 'SIGKILL');
								for (const p of descendants(pid)) signalQuiet(p, 'SIGKILL');
							},
						};
			if (entry) live.add(entry);
			const onAbort = () => {
				if (done) return;
				cancelled = true;
				void kill();
			};
			req.signal?.addEventListener('abort', onAbort, {once: true});
			const timer =
				req.timeoutMs !== undefined && req.timeoutMs > 0
					? setTimeout(() => {
							if (done) return;
							timedOut = true;
							void kill();
						}, req.timeoutMs)
					: undefined;

			try {
				const result = await child;
				done = true;
				if (killing) await killing;
				const code = (result as {code?: string}).code;
				if (code === 'ENOENT' && result.exitCode === undefined) throw new ToolMissingError(file, installHint(file, platform));
				if (result.exitCode === undefined && !result.signal && result.failed && !cancelled && !timedOut) {
					// The child never ran (EACCES, E2BIG…): one line, with the reason execa found.
					throw new Error(
						`${file} could not be started: ${(result as {shortMessage?: string}).shortMessage?.split('\n')[0] ?? code ?? 'unknown error'}`,
					);
				}
				return {
					argv: req.argv,
					exitCode: result.exitCode ?? null,
					...(result.signal ? {signal: result.signal} : {}),
					stdout: out.stdout.toString(),
					stderr: out.stderr.toString(),
					timedOut,
					cancelled,
					durationMs: Date.now() - started,
				};
			} finally {
				done = true;
				if (timer) clearTimeout(timer);
				req.signal?.removeEventListener('abort', onAbort);
				if (entry) live.delete(entry);
				// Descendants that outlived their parent (a daemonised grandchild) would be orphans: stop them too.
				if (pid !== undefined && !killing) {
					signalQuiet(-pid, 'SIGKILL');
				}
			}
		},
	};
}

/** The one line that says why a command failed: the tool's own `Error:` line, else the last stderr line, else the exit status. */
export function reasonLine(result: Pick<ExecResult, 'stdout' | 'stderr' | 'exitCode' | 'signal' | 'timedOut' | 'cancelled'>): string {
	if (result.cancelled) return 'cancelled';
	const lines = `${result.stderr}\n${result.stdout}`
		.split(/\r?\n|\r/)
		.map((l) => l.trim())
		.filter((l) => l.length > 0);
	const error = lines.find((l) => /^(error|fatal)\b:?/i.test(l));
	const text =
		error ??
		result.stderr
			.split(/\r?\n|\r/)
			.map((l) => l.trim())
			.filter(Boolean)
			.pop();
	const status = result.timedOut ? 'timed out' : result.signal ? `killed by ${result.signal}` : `exit status ${result.exitCode}`;
	if (!text) return status;
	const clean = text.replace(/^(error|fatal):\s*/i, '');
	return result.timedOut || result.signal ? `${clean} (${status})` : clean;
}
