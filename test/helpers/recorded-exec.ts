import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {createExec} from '../../src/adapters/exec.js';
import {ToolMissingError, type ExecPort, type ExecRequest} from '../../src/core/provision/ports.js';

type Answer = {stdout?: string; stderr?: string; exitCode?: number; file?: string} | 'missing';

export const MAC_FIXTURES = fileURLToPath(new URL('../fixtures/mac', import.meta.url));

/**
 * Replays a machine's recorded answers (test/fixtures/mac) to the commands that ask about that machine; programs the
 * recording does not cover (lsof, which finds a port the test really holds) run for real. Every call is logged.
 */
export function recordedExec(dir = MAC_FIXTURES, real: ExecPort = createExec()): ExecPort & {calls: string[][]} {
	const answers = JSON.parse(readFileSync(join(dir, 'answers.json'), 'utf8')) as Record<string, Answer>;
	const covered = new Set(Object.keys(answers).map((k) => k.split(' ')[0]!));
	const calls: string[][] = [];
	return {
		calls,
		async run(req: ExecRequest) {
			calls.push(req.argv);
			const line = req.argv.join(' ');
			const prog = req.argv[0]!;
			// The longest recorded command that this argv starts with ("podman image inspect" answers any image).
			const key = Object.keys(answers)
				.filter((k) => line === k || line.startsWith(`${k} `))
				.sort((a, b) => b.length - a.length)[0];
			const a = key ? answers[key] : answers[prog];
			if (a === 'missing') throw new ToolMissingError(prog, 'recorded as not installed');
			if (!a) {
				if (covered.has(prog))
					return {
						argv: req.argv,
						exitCode: 127,
						stdout: '',
						stderr: `not in the recording: ${line}`,
						timedOut: false,
						cancelled: false,
						durationMs: 0,
					};
				return real.run(req);
			}
			const stdout = a.file ? readFileSync(join(dir, a.file), 'utf8') : (a.stdout ?? '');
			return {argv: req.argv, exitCode: a.exitCode ?? 0, stdout, stderr: a.stderr ?? '', timedOut: false, cancelled: false, durationMs: 1};
		},
	};
}
