import {spawnSync} from 'node:child_process';
import {fileURLToPath} from 'node:url';
import {describe, expect, it} from 'vitest';
import {diagnoseStream} from '../src/core/diagnose/diagnose.js';
import {realKb} from './helpers/kb.js';

const kb = realKb();

/** A small deterministic PRNG so a failing case can be replayed from its seed. */
function rng(seed: number) {
	let s = seed >>> 0;
	return () => {
		s ^= s << 13;
		s ^= s >>> 17;
		s ^= s << 5;
		return (s >>> 0) / 0x100000000;
	};
}

async function* chunked(buf: Uint8Array, rand: () => number) {
	for (let i = 0; i < buf.length;) {
		const n = 1 + Math.floor(rand() * 70_000);
		yield buf.subarray(i, i + n);
		i += n;
	}
}

const SYMPTOMS = [
	'ErrImageNeverPull',
	'fatal error: lfstack.push',
	'compile: signal: killed',
	'bind: address already in use',
	'CrashLoopBackOff',
	'no space left on device',
	'"',
	'Container image "',
	'\n',
	'\r\n',
	'\u001B[31m',
];

describe('fuzz: the matcher survives anything', () => {
	it('random bytes, invalid UTF-8 and symptom fragments in random chunks', async () => {
		for (let seed = 1; seed <= 40; seed++) {
			const rand = rng(seed);
			const parts: Buffer[] = [];
			for (let i = 0; i < 200; i++) {
				const r = rand();
				if (r < 0.4) parts.push(Buffer.from(Array.from({length: Math.floor(rand() * 400)}, () => Math.floor(rand() * 256))));
				else if (r < 0.5) parts.push(Buffer.from([0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28, 0xa1, 0xf0, 0x28, 0x8c, 0xbc, 0xed, 0xa0, 0x80]));
				else parts.push(Buffer.from(SYMPTOMS[Math.floor(rand() * SYMPTOMS.length)]!));
			}
			const d = await diagnoseStream(kb, chunked(Buffer.concat(parts), rand));
			expect(['ok', 'binary', 'empty'], `seed ${seed}`).toContain(d.status);
			for (const f of d.findings) {
				expect(f.confidence, `seed ${seed}`).toBeGreaterThan(0);
				expect(f.confidence, `seed ${seed}`).toBeLessThan(1);
				for (const e of f.evidence) expect(e.text.length, `seed ${seed}`).toBeLessThanOrEqual(402);
			}
		}
	});

	it('a 10 MB line with a symptom at its end, then more lines', async () => {
		const big = Buffer.alloc(10 * 1024 * 1024, 'a');
		const tail = Buffer.from(' Container image "gw:1" is not present with pull policy of Never\nnext line\n');
		const d = await diagnoseStream(kb, chunked(Buffer.concat([big, tail]), rng(7)));
		expect(d.stats.lines).toBe(2);
		expect(d.findings[0]?.id).toBe('image-name-mismatch');
		expect(d.findings[0]!.evidence[0]!.line).toBe(1);
	});

	it('empty and whitespace-only input say "could not look", not "healthy"', async () => {
		expect((await diagnoseStream(kb, chunked(new Uint8Array(0), rng(1)))).status).toBe('empty');
		expect((await diagnoseStream(kb, chunked(Buffer.from('\n\n   \r\n'), rng(1)))).status).toBe('empty');
	});

	it('keeps memory bounded on 256 MB of mixed input (run under a 96 MB heap cap)', () => {
		const script = fileURLToPath(new URL('./helpers/memory-probe.mjs', import.meta.url));
		const r = spawnSync(process.execPath, ['--max-old-space-size=96', script, '256'], {encoding: 'utf8', timeout: 240_000});
		expect(r.stderr).toBe('');
		expect(r.status).toBe(0);
		const out = JSON.parse(r.stdout) as {bytes: number; rssMiB: number; findings: string[]};
		expect(out.bytes).toBe(256 * 1024 * 1024);
		expect(out.rssMiB).toBeLessThan(200);
		expect(out.findings).toContain('build-oom-killed');
	});
});
