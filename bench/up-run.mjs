// One `kdoctor up --json` run as the up benches time it: process start to exit, and each step's state and duration.
import {spawn} from 'node:child_process';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';

const CLI = join(fileURLToPath(new URL('..', import.meta.url)), 'dist/bin/cli.js');

export const WORLD_ARGS = [
	'--build-arg',
	'BUILDER_IMAGE=localhost/kdoctor-world/go-toolset:1',
	'--build-arg',
	'RUNTIME_IMAGE=localhost/kdoctor-world/ubi-minimal:1',
	'--build-arg',
	'BASE_IMAGE=localhost/kdoctor-world/debian-data:1',
];

/** Runs `kdoctor up --json <world args> <args>` with its own state folder; resolves {code, ms, ok, steps}. */
export function runUp(state, args, pathPrefix = '') {
	return new Promise((resolve) => {
		const started = Date.now();
		const child = spawn(process.execPath, [CLI, 'up', '--json', ...WORLD_ARGS, ...args], {
			env: {...process.env, KDOCTOR_STATE_DIR: state, PATH: `${pathPrefix}${process.env.PATH}:/usr/local/go/bin`},
			stdio: ['ignore', 'pipe', 'pipe'],
		});
		let out = '';
		child.stdout.on('data', (d) => (out += d));
		child.on('close', (code) => {
			const events = out
				.split('\n')
				.filter(Boolean)
				.map((l) => JSON.parse(l));
			const steps = Object.fromEntries(events.filter((e) => e.type === 'step-end').map((e) => [e.id, {state: e.state, ms: e.durationMs}]));
			resolve({code, ms: Date.now() - started, ok: events.at(-1)?.ok === true, steps});
		});
	});
}
