import {spawnSync} from 'node:child_process';
import {chmodSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {connect} from 'node:net';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, expect, it} from 'vitest';
import {needsWorld, rand, sh} from './helpers/world.js';
import {freePort, until} from './helpers/net.js';

/** The images test/world/setup.sh builds (stand-ins for registry images this machine cannot pull). */
const IMAGES = {
	goToolset: 'localhost/kdoctor-world/go-toolset:1',
	ubiMinimal: 'localhost/kdoctor-world/ubi-minimal:1',
	postgres: 'localhost/kdoctor-world/postgres:1',
	redis: 'localhost/kdoctor-world/redis:1',
} as const;

const world = needsWorld(['podman', ...Object.values(IMAGES)]);
const id = rand();
const containers: string[] = [];
const dirs: string[] = [];

afterAll(() => {
	if (containers.length) spawnSync('podman', ['rm', '-f', '-t', '0', ...containers], {stdio: 'ignore', timeout: 120_000});
	for (const d of dirs) rmSync(d, {recursive: true, force: true});
});

/** Sends one RESP command over TCP and returns the first reply line. */
function redisCommand(port: number, ...args: string[]): Promise<string> {
	return new Promise((resolve, reject) => {
		const sock = connect(port, '127.0.0.1');
		let buf = '';
		sock.setTimeout(5000, () => sock.destroy(new Error('redis: timeout')));
		sock.on('error', reject);
		sock.on('data', (d) => {
			buf += d.toString();
			if (buf.includes('\r\n')) {
				sock.end();
				resolve(buf.split('\r\n')[0]!);
			}
		});
		sock.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
	});
}

world.describe('the test world (test/world/setup.sh)', () => {
	it('go-toolset compiles and runs a Go program as uid 1001, offline', {timeout: 600_000}, () => {
		const src = mkdtempSync(join(tmpdir(), 'kdw-go-'));
		dirs.push(src);
		chmodSync(src, 0o755); // the builder runs as uid 1001, like UBI's go-toolset
		writeFileSync(join(src, 'go.mod'), 'module hello\n\ngo 1.22\n');
		writeFileSync(
			join(src, 'main.go'),
			'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("hello from the go-toolset stand-in") }\n',
		);
		const out = sh(
			[
				'podman',
				'run',
				'--rm',
				'--network',
				'none',
				'-v',
				`${src}:/src:ro`,
				IMAGES.goToolset,
				'sh',
				'-c',
				'id -u && cd /src && CGO_ENABLED=0 go build -o /tmp/hello . && /tmp/hello',
			],
			{timeout: 600_000},
		);
		expect(out).toBe('1001\nhello from the go-toolset stand-in\n');
	});

	it('ubi-minimal has a shell, the CA bundle and users 1001 and 65534', {timeout: 120_000}, () => {
		const out = sh([
			'podman',
			'run',
			'--rm',
			'--network',
			'none',
			IMAGES.ubiMinimal,
			'sh',
			'-c',
			'test -s /etc/ssl/certs/ca-certificates.crt && cut -d: -f3 /etc/passwd | tr "\\n" " "',
		]);
		expect(out.trim().split(' ')).toEqual(['0', '1001', '65534']);
	});

	it('postgres initialises from POSTGRES_* and accepts a password login over TCP, rejecting a wrong one', {timeout: 300_000}, async () => {
		const name = `kdw-test-pg-${id}`;
		containers.push(name);
		sh([
			'podman',
			'run',
			'-d',
			'--name',
			name,
			'-e',
			'POSTGRES_USER=slm_user',
			'-e',
			'POSTGRES_PASSWORD=test_password',
			'-e',
			'POSTGRES_DB=action_history',
			'-e',
			'PGDATA=/var/lib/postgresql/data/pgdata',
			IMAGES.postgres,
			'-c',
			'max_connections=200',
		]);
		// Over TCP, not the socket: during initdb the entrypoint's temporary server listens on the socket only.
		const ready = await until(
			() =>
				spawnSync('podman', ['exec', name, 'pg_isready', '-q', '-h', '127.0.0.1', '-U', 'slm_user', '-d', 'action_history']).status === 0,
			120_000,
		);
		expect(ready, sh(['podman', 'logs', name])).toBe(true);
		const psql = (password: string) =>
			spawnSync(
				'podman',
				[
					'exec',
					'-e',
					`PGPASSWORD=${password}`,
					name,
					'psql',
					'-h',
					'127.0.0.1',
					'-U',
					'slm_user',
					'-d',
					'action_history',
					'-tAc',
					'SELECT current_user, current_database(), current_setting($$max_connections$$), current_setting($$password_encryption$$)',
				],
				{encoding: 'utf8', timeout: 60_000},
			);
		const ok = psql('test_password');
		expect(ok.stderr).toBe('');
		expect(ok.stdout.trim()).toBe('slm_user|action_history|200|scram-sha-256');
		const bad = psql('wrong');
		expect(bad.status).not.toBe(0);
		expect(bad.stderr).toContain('FATAL:  password authentication failed for user "slm_user"');
	});

	it('redis answers PING from outside its container (protected mode off)', {timeout: 120_000}, async () => {
		const name = `kdw-test-redis-${id}`;
		containers.push(name);
		const port = await freePort();
		sh(['podman', 'run', '-d', '--name', name, '-p', `127.0.0.1:${port}:6379`, IMAGES.redis]);
		let reply = '';
		const answered = await until(async () => {
			reply = await redisCommand(port, 'PING').catch((e: Error) => e.message);
			return reply === '+PONG';
		}, 60_000);
		expect(answered, reply).toBe(true);
		expect(sh(['podman', 'exec', name, 'redis-cli', 'ping']).trim()).toBe('PONG');
	});
});
