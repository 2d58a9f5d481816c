import {createServer} from 'node:net';

/** A TCP port nothing listens on right now. */
export function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const s = createServer();
		s.once('error', reject);
		s.listen(0, '127.0.0.1', () => {
			const port = (s.address() as {port: number}).port;
			s.close(() => resolve(port));
		});
	});
}

/** Polls fn every second until it returns true or timeoutMs passes. */
export async function until(fn: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
	const end = Date.now() + timeoutMs;
	for (;;) {
		if (await fn()) return true;
		if (Date.now() > end) return false;
		await new Promise((r) => setTimeout(r, 1000));
	}
}
