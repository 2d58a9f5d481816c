import {spawn} from 'node:child_process';
import {fileURLToPath} from 'node:url';

export const CLI = fileURLToPath(new URL('../../dist/bin/cli.js', import.meta.url));

export type CliResult = {code: number | null; stdout: string; stderr: string};

/** Runs the built CLI as a real process (no TTY), optionally feeding stdin. */
export function runCli(
	args: string[],
	opts: {input?: string | Buffer; env?: Record<string, string>; cwd?: string} = {},
): Promise<CliResult> {
	return new Promise((resolve, reject) => {
		const env: Record<string, string | undefined> = {...process.env, CI: '', ...opts.env};
		// Unset rather than empty: Node warns on stderr when NO_COLOR and FORCE_COLOR are both defined.
		for (const k of ['NO_COLOR', 'FORCE_COLOR']) if (!opts.env?.[k]) delete env[k];
		const child = spawn(process.execPath, [CLI, ...args], {cwd: opts.cwd, env, stdio: ['pipe', 'pipe', 'pipe']});
		let stdout = '';
		let stderr = '';
		child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
		child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
		child.on('error', reject);
		child.on('close', (code) => resolve({code, stdout, stderr}));
		if (opts.input !== undefined) child.stdin.end(opts.input);
		else child.stdin.end();
	});
}
