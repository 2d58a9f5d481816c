import {mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync} from 'node:fs';
import {createServer, type Server} from 'node:net';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {createHost, listeningInodes, parseLsof} from '../../src/adapters/host.js';
import {recordExec} from '../helpers/world.js';

function listen(host: string): Promise<{server: Server; port: number}> {
	return new Promise((resolve, reject) => {
		const server = createServer();
		server.once('error', reject);
		server.listen(0, host, () => {
			const addr = server.address();
			resolve({server, port: typeof addr === 'object' && addr ? addr.port : 0});
		});
	});
}

function close(server: Server): Promise<void> {
	return new Promise((resolve) => server.close(() => resolve()));
}

const TCP_HEADER = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';

describe.runIf(process.platform === 'linux')('host adapter on Linux (real /proc)', () => {
	const host = createHost();

	it('finds this test process holding a port it listens on (IPv4 and IPv6)', async () => {
		for (const addr of ['127.0.0.1', '::1']) {
			const {server, port} = await listen(addr);
			try {
				const holder = await host.portHolder(port);
				expect(holder?.pid).toBe(process.pid);
				expect(holder?.command).toMatch(/\S/);
			} finally {
				await close(server);
			}
			expect(await host.portHolder(port)).toBeUndefined();
		}
	});

	it('reports free disk in GiB, also for a store that does not exist yet', async () => {
		const free = await host.freeDiskGiB('/');
		expect(free).toBeGreaterThan(0);
		expect(await host.freeDiskGiB('/tmp/kdoctor-no-such/dir/below')).toBeCloseTo(await host.freeDiskGiB('/tmp'), 0);
	});
});

describe('host adapter (recorded facts)', () => {
	it('reads LISTEN sockets only, from tcp and tcp6, and maps the inode to a pid and its comm', async () => {
		const proc = mkdtempSync(join(tmpdir(), 'kd-proc-'));
		try {
			mkdirSync(join(proc, 'net'));
			// 0x1F90 = 8080 listening (0A); 0x46C3 = 18115 established (01) must not count.
			writeFileSync(
				join(proc, 'net', 'tcp'),
				`${TCP_HEADER}   0: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 424242 1 0000000000000000 100 0 0 10 0\n   1: 0100007F:46C3 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0        0 434343 1 0000000000000000 20 4 30 10 -1\n`,
			);
			writeFileSync(
				join(proc, 'net', 'tcp6'),
				`${TCP_HEADER}   0: 00000000000000000000000001000000:4703 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 515151 1 0000000000000000 100 0 0 10 0\n`,
			);
			mkdirSync(join(proc, '4321', 'fd'), {recursive: true});
			writeFileSync(join(proc, '4321', 'comm'), 'conmon\n');
			symlinkSync('socket:[424242]', join(proc, '4321', 'fd', '7'));
			symlinkSync('/dev/null', join(proc, '4321', 'fd', '0'));
			const host = createHost({platform: 'linux', procRoot: proc});
			expect(await host.portHolder(8080)).toEqual({pid: 4321, command: 'conmon'});
			expect(await host.portHolder(18115)).toBeUndefined();
			expect([...listeningInodes(18179, proc)]).toEqual(['515151']);
			// Held, but no visible process owns the socket: still reported as taken.
			expect(await host.portHolder(18179)).toEqual({});
		} finally {
			rmSync(proc, {recursive: true, force: true});
		}
	});

	it('on macOS asks lsof', async () => {
		const {exec, calls} = recordExec((req) =>
			req.argv[2] === '-iTCP:8080'
				? {
						stdout:
							'COMMAND     PID USER   FD   TYPE             DEVICE SIZE/OFF NODE NAME\ngvproxy   51234 dev   12u  IPv6 0x1d2c7f3b1a4e5f60      0t0  TCP *:8080 (LISTEN)\n',
					}
				: {exitCode: 1},
		);
		const host = createHost({platform: 'darwin', exec});
		expect(await host.portHolder(8080)).toEqual({pid: 51234, command: 'gvproxy'});
		expect(await host.portHolder(9090)).toBeUndefined();
		expect(calls.map((c) => c.argv)).toEqual([
			['lsof', '-nP', '-iTCP:8080', '-sTCP:LISTEN'],
			['lsof', '-nP', '-iTCP:9090', '-sTCP:LISTEN'],
		]);
		expect(parseLsof('')).toBeUndefined();
	});
});
