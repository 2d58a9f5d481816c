import {describe, expect, it} from 'vitest';
import type {RunEvent} from '../../src/core/provision/events.js';
import {cleanLine, createPlainUpRenderer, formatDuration, jsonLines} from '../../src/plain/up-lines.js';
import {end, FINDING, line, PLAN, runStart, s, start, SUCCESS} from '../helpers/up-events.js';

function plain(events: RunEvent[], color = false): string {
	let out = '';
	const render = createPlainUpRenderer((x) => (out += x), {color});
	for (const ev of events) render(ev);
	return out;
}

const FAILED: RunEvent[] = [
	runStart(PLAN.slice(0, 1).concat(PLAN[4]!)),
	start('build-gateway', 0),
	{type: 'step-note', at: s(0.25), id: 'build-gateway', text: 'image localhost/gateway:1a2b'},
	{type: 'step-retry', at: s(60), id: 'build-gateway', attempt: 2, reason: 'OOM-killed, re-running alone', memoryMiB: 2200},
	start('build-gateway', 60.5, 2),
	end('build-gateway', 210.5, 150, 'done', {peakMiB: 1900}),
	start('deploy-gateway', 211),
	...Array.from({length: 25}, (_, i) => line('deploy-gateway', 212 + i, `waiting for rollout ${i + 1}`)),
	end('deploy-gateway', 241, 30, 'failed', {note: 'rollout timed out'}),
	{type: 'diagnosis', at: s(241.5), step: 'deploy-gateway', findings: [FINDING, {...FINDING, id: 'image-not-loaded', confidence: 0.31}]},
	{
		type: 'run-end',
		at: s(242),
		ok: false,
		durationMs: 242_000,
		runDir: '/tmp/r',
		message: 'Deploy Gateway failed: the manifest asks for an image name the node does not hold',
		resume: 'kdoctor up --resume r-0102-1000',
		bundle: '/tmp/r/bundle.tar.gz',
	},
];

describe('plain up lines', () => {
	it('prints starts, notes, retries, ends with durations, a failed step tail, the diagnosis and the verdict', () => {
		const lines = plain(FAILED).split('\n');
		expect(lines.slice(0, 8)).toEqual([
			'10:00:00.000  run             kdoctor up gateway-e2e · kind · podman · run r-0102-1000 · budget 4000 MiB (podman machine) · 2 steps',
			'10:00:00.000  run             logs /tmp/kdoctor/runs/r-0102-1000',
			'10:00:00.000  build-gateway   ▶ start: Build gateway image (est 2m30s, 1400 MiB)',
			'10:00:00.250  build-gateway   · image localhost/gateway:1a2b',
			'10:01:00.000  build-gateway   ↻ retry as attempt 2 with 2200 MiB: OOM-killed, re-running alone',
			'10:01:00.500  build-gateway   ▶ start attempt 2: Build gateway image (est 2m30s, 2200 MiB)',
			'10:03:30.500  build-gateway   ✓ done in 2m30s · peak 1900 MiB',
			'10:03:31.000  deploy-gateway  ▶ start: Deploy Gateway (est 30s, 100 MiB)',
		]);
		expect(lines.slice(8, 11)).toEqual([
			'10:04:01.000  deploy-gateway  ✗ failed after 30s: rollout timed out',
			'10:04:01.000  deploy-gateway  last 20 of 25 output lines:',
			'10:03:37.000  deploy-gateway  │ waiting for rollout 6',
		]);
		expect(lines[29]).toBe('10:03:56.000  deploy-gateway  │ waiting for rollout 25');
		expect(lines.slice(30)).toEqual([
			'10:04:01.500  deploy-gateway  ✗ diagnosis 85% image-name-mismatch: The manifest asks for an image name the node does not hold',
			'10:04:01.500  deploy-gateway    evidence line 41: Warning  ErrImageNeverPull  kubelet  Container image "gateway:1a2b" is not present with pull policy of Never',
			'10:04:01.500  deploy-gateway    fix [p] Patch the deployment to localhost/gateway:1a2b',
			'10:04:01.500  deploy-gateway    fix [t] Tag the image as gateway:1a2b in the node',
			'10:04:01.500  deploy-gateway    also possible: image-not-loaded (31%)',
			'10:04:02.000  run             ✗ Deploy Gateway failed: the manifest asks for an image name the node does not hold (after 4m02s)',
			'10:04:02.000  run             bundle /tmp/r/bundle.tar.gz',
			'10:04:02.000  run             resume kdoctor up --resume r-0102-1000',
			'',
		]);
	});

	it('prints a successful run: cached steps, parallel ends, ready with the time it took', () => {
		const out = plain([
			runStart(),
			start('build-gateway', 0),
			end('build-gateway', 0.1, 0.1, 'skipped', {note: 'cached'}),
			...SUCCESS.slice(2, 3),
			start('cluster', 0),
			line('cluster', 1, 'Creating cluster "kdoctor" ...'),
			end('cluster', 15, 15, 'done', {peakMiB: 610}),
			end('build-datastorage', 170, 170, 'cancelled'),
			SUCCESS.at(-1)!,
		]);
		expect(out).toContain('10:00:00.100  build-gateway      ↷ skipped: cached\n');
		expect(out).toContain('10:00:15.000  cluster            ✓ done in 15s · peak 610 MiB\n');
		expect(out).toContain('10:02:50.000  build-datastorage  ⊘ cancelled after 2m50s\n');
		expect(out).toContain('10:03:20.000  run                ✓ ready in 3m20s · Gateway answers on http://localhost:8080\n');
		expect(out).toContain('10:03:20.000  run                bundle /tmp/kdoctor/runs/r-0102-1000/bundle.tar.gz\n');
		// a step that succeeded does not print its output
		expect(out).not.toContain('Creating cluster');
		expect(out).not.toContain('resume');
		expect(out).not.toMatch(/\bERROR\b/);
	});

	it('paints only when asked, and keeps a build’s own escape codes out of a log', () => {
		expect(plain(FAILED)).not.toContain('\u001B[');
		expect(plain(FAILED, true)).toContain('\u001B[31m✗\u001B[39m');
		const dirty = plain([
			runStart(),
			start('build-gateway', 0),
			line('build-gateway', 1, '\u001B[1;31mboom\u001B[0m\r'),
			end('build-gateway', 2, 2, 'failed'),
		]);
		expect(dirty).toContain('│ boom\n');
		expect(cleanLine('50%\r75%\r100%')).toBe('100%');
	});

	it('says so when the diagnosis found nothing', () => {
		expect(plain([runStart(), {type: 'diagnosis', at: s(1), findings: []}])).toContain(
			'10:00:01.000  run                diagnosis: no known cause in this output\n',
		);
	});

	it('formats durations for a narrow column', () => {
		expect([0, 400, 9_950, 12_000, 150_000, 3_725_000].map(formatDuration)).toEqual(['0.0s', '0.4s', '9.9s', '12s', '2m30s', '1h02m']);
	});
});

describe('--json lines', () => {
	it('writes one object per event, every step-line included, that parse back to the same events', () => {
		const events = [...FAILED, ...SUCCESS];
		const chunks: string[] = [];
		const write = jsonLines((x) => chunks.push(x));
		for (const ev of events) write(ev);
		expect(chunks).toHaveLength(events.length);
		for (const c of chunks) expect(c.endsWith('\n') && !c.slice(0, -1).includes('\n')).toBe(true);
		expect(chunks.map((c) => JSON.parse(c))).toEqual(events);
		expect(chunks.filter((c) => JSON.parse(c).type === 'step-line')).toHaveLength(26);
	});
});
