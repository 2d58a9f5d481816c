import {existsSync, readdirSync, readFileSync, readlinkSync, statfsSync} from 'node:fs';
import {dirname, resolve} from 'node:path';
import {createExec} from './exec.js';
import type {ExecPort, HostPort} from '../core/provision/ports.js';

const LISTEN = '0A';

/** Inodes of sockets listening on a TCP port, from /proc/net/tcp and tcp6 (local address is HEXIP:HEXPORT). */
export function listeningInodes(port: number, procRoot = '/proc'): Set<string> {
	const inodes = new Set<string>();
	for (const file of ['net/tcp', 'net/tcp6']) {
		let text: string;
		try {
			text = readFileSync(`${procRoot}/${file}`, 'utf8');
		} catch {
			continue;
		}
		for (const line of text.split('\n').slice(1)) {
			const cols = line.trim().split(/\s+/);
			if (cols.length < 10) continue;
			const local = cols[1];
			const state = cols[3];
			const hexPort = local.slice(local.lastIndexOf(':') + 1);
			if (state === LISTEN && parseInt(hexPort, 16) === port) inodes.add(cols[9]);
		}
	}
	return inodes;
}

/** The process owning one of these socket inodes, found through /proc/<pid>/fd links. */
export function processOfInodes(inodes: Set<string>, procRoot = '/proc'): {pid: number; command?: string} | undefined {
	const targets = new Set([...inodes].map((i) => `socket:[${i}]`));
	let pids: string[];
	try {
		pids = readdirSync(procRoot).filter((n) => /^\d+$/.test(n));
	} catch {
		return undefined;
	}
	for (const pid of pids) {
		let fds: string[];
		try {
			fds = readdirSync(`${procRoot}/${pid}/fd`);
		} catch {
			continue;
		}
		for (const fd of fds) {
			let link: string;
			try {
				link = readlinkSync(`${procRoot}/${pid}/fd/${fd}`);
			} catch {
				continue;
			}
			if (!targets.has(link)) continue;
			let command: string | undefined;
			try {
				command = readFileSync(`${procRoot}/${pid}/comm`, 'utf8').trim();
			} catch {
				command = undefined;
			}
			return {pid: Number(pid), ...(command ? {command} : {})};
		}
	}
	return undefined;
}

/** Parses `lsof -nP -iTCP:<port> -sTCP:LISTEN`: the first row's COMMAND and PID. */
export function parseLsof(output: string): {pid?: number; command?: string} | undefined {
	const rows = output.split('\n').filter((l) => l.trim().length > 0);
	const row = rows.find((l) => !l.startsWith('COMMAND'));
	if (!row) return undefined;
	const [command, pid] = row.trim().split(/\s+/);
	const n = Number(pid);
	return {...(Number.isInteger(n) ? {pid: n} : {}), ...(command ? {command} : {})};
}

export type HostOptions = {
	platform?: string;
	procRoot?: string;
	/** Runs lsof on macOS. */
	exec?: ExecPort;
};

/** Host facts: who holds a port (a preflight for Kind's host port mappings, F-35) and free disk. */
export function createHost(opts: HostOptions = {}): HostPort {
	const platform = opts.platform ?? process.platform;
	const procRoot = opts.procRoot ?? '/proc';
	return {
		async portHolder(port: number) {
			if (platform === 'linux') {
				const inodes = listeningInodes(port, procRoot);
				if (inodes.size === 0) return undefined;
				// Held, but by a process this user cannot see (another user's, or in another PID namespace).
				return processOfInodes(inodes, procRoot) ?? {};
			}
			const exec = opts.exec ?? createExec();
			const r = await exec.run({argv: ['lsof', '-nP', `-iTCP:${port}`, '-sTCP:LISTEN'], timeoutMs: 10_000});
			// lsof exits 1 when nothing matches.
			if (r.exitCode !== 0) return undefined;
			return parseLsof(r.stdout);
		},

		async freeDiskGiB(path: string) {
			let p = resolve(path);
			// The engine's store may not exist yet; its nearest existing parent is on the same disk.
			while (!existsSync(p) && dirname(p) !== p) p = dirname(p);
			const s = statfsSync(p);
			return (Number(s.bavail) * Number(s.bsize)) / 1024 ** 3;
		},
	};
}
