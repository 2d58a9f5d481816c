/** A machine-wide lock for test files that load the whole machine (the demo on the local cluster, the demo on Kind). */
import {mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';

const alive = (pid: number) => {
	try {
		process.kill(pid, 0);
		return true;
	} catch (error) {
		return (error as NodeJS.ErrnoException).code === 'EPERM';
	}
};

/**
 * Waits until no live process holds `name`, then holds it until release(): two such files at once would share
 * 2 cores between two clusters and a dozen builds, and their timing-sensitive faults (an OOM kill) would blur.
 */
export async function exclusive(name: string, timeoutMs = 3_000_000): Promise<{release(): void}> {
	const dir = join(tmpdir(), `kdoctor-test-${name}.lock`);
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		try {
			mkdirSync(dir);
			writeFileSync(join(dir, 'pid'), String(process.pid));
			break;
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
			let owner = NaN;
			try {
				owner = Number(readFileSync(join(dir, 'pid'), 'utf8'));
			} catch {
				/* being written, or left half-made by a killed run */
			}
			// A holder that died (a killed vitest worker) does not keep everyone else waiting.
			if (Number.isInteger(owner) && !alive(owner)) rmSync(dir, {recursive: true, force: true});
			else if (Date.now() > deadline) throw new Error(`${dir} still held by pid ${owner} after ${timeoutMs / 1000}s`);
			else await new Promise((r) => setTimeout(r, 1000));
		}
	}
	let released = false;
	return {
		release() {
			if (released) return;
			released = true;
			rmSync(dir, {recursive: true, force: true});
		},
	};
}
