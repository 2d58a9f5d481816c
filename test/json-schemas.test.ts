import {mkdtempSync, readdirSync, readFileSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {Ajv2020} from 'ajv/dist/2020.js';
import {describe, expect, it} from 'vitest';
import {triageJson} from '../src/commands/triage.js';
import {runCli} from './helpers/cli.js';
import {realKb} from './helpers/kb.js';
import {DEMO_NODES, DEMO_PODS, demoPreviousLog, engineSnapshot} from './helpers/triage-snapshot.js';

// Every JSON output has a schema in schemas/; real outputs of the built CLI (and the triage engine) are checked here.
const dir = new URL('../schemas/', import.meta.url);
const ajv = new Ajv2020({allErrors: true, strict: true});
for (const f of readdirSync(dir)) ajv.addSchema(JSON.parse(readFileSync(new URL(f, dir), 'utf8')));
const check = (schema: string, value: unknown) => {
	const validate = ajv.getSchema(`https://kdoctor.dev/schemas/${schema}.schema.json`)!;
	const ok = validate(value);
	expect(ok, `${schema}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(value).slice(0, 400)}`).toBe(true);
};
const lines = (s: string) =>
	s
		.trim()
		.split('\n')
		.map((l) => JSON.parse(l) as Record<string, unknown>);
const LOG = new URL('../examples/gateway-e2e-failed-run.log', import.meta.url).pathname;

describe('the JSON outputs follow the schemas in schemas/', () => {
	it('diagnose --json: findings with fixes, tell-apart and explained-by; an unmatched failure; empty, binary and missing inputs', async () => {
		const work = mkdtempSync(join(tmpdir(), 'kdoctor-schema-'));
		writeFileSync(join(work, 'none.log'), 'ERROR frobnicator handshake rejected by upstream broker "alpha-7"\n');
		writeFileSync(join(work, 'empty.log'), '');
		writeFileSync(join(work, 'bin.log'), Buffer.from([0, 1, 2, 0, 255, 0, 7]));
		const r = await runCli(['diagnose', '--json', LOG, 'none.log', 'empty.log', 'bin.log', 'missing.log'], {cwd: work});
		const out = lines(r.stdout);
		expect(out.map((o) => o.status)).toEqual(['ok', 'ok', 'empty', 'binary', 'error']);
		for (const o of out) check('diagnose', o);
		const first = out[0]!.findings as {explainedBy?: string; tellApart?: unknown; remediations: unknown[]}[];
		expect(first.some((f) => f.explainedBy) && first.some((f) => f.tellApart) && first[0]!.remediations.length > 0).toBe(true);
		expect(out[1]!.unmatched).toBeDefined();
		// The schema is strict: a field it does not know is refused, so it cannot drift from the output unseen.
		const validate = ajv.getSchema('https://kdoctor.dev/schemas/diagnose.schema.json')!;
		expect(validate({...out[0], extra: 1})).toBe(false);
	});

	it('diagnose --follow --json: found events, then the end', async () => {
		const r = await runCli(['diagnose', '--follow', '--json', '-'], {input: readFileSync(LOG)});
		const out = lines(r.stdout);
		expect(out.at(-1)!.event).toBe('end');
		expect(out.some((o) => o.event === 'found')).toBe(true);
		for (const o of out) check('follow-event', o);
	});

	it('version --json and setup --json', async () => {
		check('version', JSON.parse((await runCli(['version', '--json'])).stdout));
		const setup = await runCli(['setup', '--json', '--profile', 'demo'], {
			env: {KDOCTOR_STATE_DIR: mkdtempSync(join(tmpdir(), 'kdoctor-schema-'))},
		});
		const s = JSON.parse(setup.stdout) as {checks: unknown[]};
		expect(s.checks.length).toBeGreaterThan(10);
		check('setup', s);
	});

	it('triage --json: a crash loop and an image the node does not hold, as the engine sees them', async () => {
		const snap = await engineSnapshot(realKb(), DEMO_PODS, demoPreviousLog, DEMO_NODES);
		const j = triageJson(snap);
		expect(j.failing.length).toBe(2);
		check('triage', JSON.parse(JSON.stringify(j)));
	});
});
