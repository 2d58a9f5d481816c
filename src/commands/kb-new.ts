import {existsSync, mkdirSync, readFileSync, statSync} from 'node:fs';
import {join, relative, resolve} from 'node:path';
import {openInEditor} from '../adapters/editor.js';
import {writeFileAtomic} from '../adapters/fs-port.js';
import {describeFsError, InputError} from '../adapters/input.js';
import {findTeamKbDir, TEAM_KB} from '../adapters/kb-files.js';
import {diagnoseText, hasDiagnosis} from '../core/diagnose/diagnose.js';
import {lintKb, testKb} from '../core/kb/check.js';
import {draftEntry} from '../core/kb/draft.js';
import {loadCompiledKb, type GlobalOptions} from './context.js';

type Out = {write(s: string): void};
export type KbNewOptions = GlobalOptions & {from: string; id?: string; dir?: string; interactive: boolean};

const MAX_INPUT = 16 * 1024 * 1024;
const ID = /^[a-z0-9]+(-[a-z0-9]+)*$/;

/**
 * `kdoctor kb new --from FILE`: for a failure no known cause explains, drafts a team entry into .kdoctor/knowledge
 * (the nearest one up, else here), opens it in $EDITOR on a terminal, then lints and tests it as `kb test` would.
 * Exit 0 when the entry passes its own examples, 1 when (after editing) it does not.
 */
export async function kbNew(opts: KbNewOptions, out: Out): Promise<number> {
	// Validate before anything is read or written: a bad id or a missing file changes nothing.
	if (opts.id !== undefined && !ID.test(opts.id))
		throw new InputError(`--id ${JSON.stringify(opts.id)}: an id is kebab-case (a-z, 0-9, -)`);
	let text: string;
	try {
		if (statSync(opts.from).size > MAX_INPUT) throw new InputError(`${opts.from}: larger than 16 MiB: cut it to the failure first`);
		text = readFileSync(opts.from, 'utf8');
	} catch (error) {
		if (error instanceof InputError) throw error;
		throw new InputError(describeFsError(opts.from, error));
	}
	if (text.includes('\0')) throw new InputError(`${opts.from}: binary data, not the output of a run`);
	const compiled = await loadCompiledKb(opts);
	const d = diagnoseText(compiled, text);
	if (hasDiagnosis(d)) {
		const f = d.findings[0]!;
		throw new InputError(`${opts.from} is already explained: ${f.id} (${Math.round(f.confidence * 100)}%): see kdoctor kb show ${f.id}`);
	}
	const teamFile = compiled.kb.files.find((f) => f.team && opts.id !== undefined && f.ids.includes(opts.id));
	if (teamFile) throw new InputError(`${opts.id} is already a team entry, in ${teamFile.path}`);
	const draft = draftEntry({
		kb: compiled.kb,
		text,
		file: opts.from,
		unmatched: d.unmatched ?? [],
		id: opts.id,
		date: new Date().toISOString().slice(0, 10),
	});
	if ('reason' in draft) throw new InputError(`${opts.from}: nothing to draft from: ${draft.reason}`);
	const dir = resolve(opts.dir ?? findTeamKbDir() ?? TEAM_KB);
	const file = join(dir, `${draft.id}.yaml`);
	if (existsSync(file)) throw new InputError(`${file} exists: kdoctor never overwrites an entry (pass --id for another name)`);
	mkdirSync(dir, {recursive: true});
	writeFileAtomic(file, draft.yaml);
	const shown = relative(process.cwd(), file) || file;
	out.write(`wrote ${shown}: ${draft.id}, signature /${draft.pattern}/ from line ${draft.line.line} of ${opts.from}\n`);
	if (compiled.kb.byId.has(draft.id)) out.write(`  it overrides the built-in entry ${draft.id}\n`);
	if (opts.dir !== undefined && findTeamKbDir() !== `${dir}/`)
		out.write(`  ${shown} is not this checkout's .kdoctor/knowledge: pass --kb-extra ${opts.dir} for kdoctor to use it\n`);
	if (opts.interactive) {
		const edited = await openInEditor(file);
		if (typeof edited === 'object') out.write(`  the editor did not finish (${edited.failed}): the draft is kept as written\n`);
	}
	// Read back as every later run will: the team layer with the new file in it.
	let after;
	try {
		after = await loadCompiledKb({...opts, kbExtra: [...(opts.kbExtra ?? []), dir]});
	} catch (error) {
		out.write(`  the entry no longer loads: ${(error as Error).message}\n  fix ${shown} and run kdoctor kb test ${draft.id}\n`);
		return 1;
	}
	const problems = lintKb(after.kb).filter((p) => p.id === draft.id && p.severity === 'error');
	const results = testKb(after, draft.id);
	const failed = results.filter((r) => !r.ok);
	for (const p of problems) out.write(`  lint: ${p.message}\n`);
	for (const r of failed) out.write(`  FAIL ${r.kind} ${r.name}: ${r.message}\n`);
	out.write(`  kb lint: ${problems.length} errors; kb test: ${results.length - failed.length} passed, ${failed.length} failed\n`);
	out.write(
		`next: write its title, summary and fix in ${shown}; kdoctor diagnose ${opts.from} ` +
			`now names ${draft.id}; kdoctor kb test ${draft.id} after each edit\n`,
	);
	return problems.length + failed.length > 0 ? 1 : 0;
}
