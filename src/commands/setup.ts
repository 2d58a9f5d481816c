import {OUTPUT_SCHEMA_VERSION} from '../core/output-schema.js';
import {existsSync, readFileSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {createExec, reasonLine} from '../adapters/exec.js';
import {memoryReserveMiB} from '../core/engine-facts.js';
import {createFsPort} from '../adapters/fs-port.js';
import {InputError} from '../adapters/input.js';
import {stateDir} from '../adapters/journal.js';
import {createSetupFacts} from '../adapters/setup-facts.js';
import {installDir} from '../adapters/kb-files.js';
import type {Finding} from '../core/diagnose/score.js';
import type {CompiledKb} from '../core/kb/compile.js';
import {parseHistory} from '../core/provision/history.js';
import type {ExecPort} from '../core/provision/ports.js';
import {planRemediation, type RemediationPlan} from '../core/remediate/plan.js';
import {checkIdOf, runChecks, verdict, type CheckEvent, type SetupInput} from '../core/setup/checks.js';
import type {CheckResult, SetupFactsPort} from '../core/setup/types.js';
import {makePaint} from '../plain/format.js';
import {commandText, fixLines, setupText} from '../plain/setup-lines.js';
import {changeService} from './changes.js';
import {loadProfiles, pickProfile, profilePaths, profileSourceDir} from './profiles.js';

export type SetupOptions = {
	profile: string;
	source?: string;
	engine?: string;
	buildArg?: string[];
	config?: string;
	json?: boolean;
	verbose?: boolean;
	color?: boolean;
	/** A fix to preview (and with yes, apply): its key, or the id of the check it belongs to. */
	fix?: string;
	yes?: boolean;
	/** Run the checks one after another (the benchmark's baseline). */
	sequential?: boolean;
};

type Out = {write(s: string): void};

/** Everything the checks need, from the profile, kdoctor.yaml, history.json and the KB; facts from the adapter unless given. */
export function setupInput(c: CompiledKb, opts: SetupOptions, facts?: SetupFactsPort): SetupInput {
	const loaded = pickProfile(loadProfiles(opts.config), opts.profile);
	const profile = loaded.profile;
	const engine = (opts.engine ?? 'podman') as 'podman' | 'docker';
	if (engine !== 'podman' && engine !== 'docker') throw new InputError(`--engine ${opts.engine}: expected podman or docker`);
	// A checkout profile without --source can still be checked, all but its Dockerfiles.
	const paths =
		profile.source === '$source' && !opts.source
			? undefined
			: profilePaths(profileSourceDir(loaded, {source: opts.source, cwd: process.cwd()}));
	const buildArgs: Record<string, string> = {};
	for (const a of opts.buildArg ?? []) {
		const i = a.indexOf('=');
		if (i <= 0) throw new InputError(`--build-arg ${a}: expected NAME=VALUE`);
		buildArgs[a.slice(0, i)] = a.slice(i + 1);
	}
	const historyFile = join(stateDir(), 'history.json');
	const allowed = c.kb.settings.allowedBaseRegistries;
	return {
		facts: facts ?? createSetupFacts(),
		profileName: loaded.name,
		profile,
		resolvePath: (p) => {
			if (!paths) throw new Error(`the ${loaded.name} profile builds from a checkout: pass --source DIR to check its Dockerfiles`);
			return paths.resolvePath(p);
		},
		buildArgs,
		engine,
		history: parseHistory(existsSync(historyFile) ? readFileSync(historyFile, 'utf8') : undefined),
		allowedBaseRegistries: Array.isArray(allowed) ? allowed.map(String) : typeof allowed === 'string' ? [allowed] : [],
		reserve: memoryReserveMiB,
	};
}

/** An edit fix as the KB plans it: the entry's own find/replace, limited to the lines the check points at. */
function planEditFix(c: CompiledKb, r: CheckResult): RemediationPlan {
	const e = r.fix!.edit!;
	const entry = c.kb.byId.get(e.finding);
	const rem = entry?.remediations.find((x) => x.key === e.key);
	if (!entry || !rem?.edit) throw new Error(`the knowledge base has no edit ${e.finding} [${e.key}]`);
	const finding = {id: e.finding, lines: e.lines, captures: e.captures, evidence: [], confidence: 1} as unknown as Finding;
	return planRemediation(entry, {...rem, edit: {...rem.edit, in: 'evidence'}}, finding, {
		fs: createFsPort(),
		cwd: dirname(e.file),
		evidenceFile: e.file,
		protectedRoots: [installDir, stateDir()],
	});
}

/** The preview of a fix: the exact commands or the diff, and how it is undone. */
export function previewSetupFix(c: CompiledKb, r: CheckResult): {lines: string[]; ready: boolean; reason?: string} {
	if (!r.fix) return {lines: r.hint ? [`nothing kdoctor applies; do it yourself: ${r.hint}`] : ['no fix'], ready: false};
	if (r.fix.edit) {
		const plan = planEditFix(c, r);
		const lines = [
			`fix [${r.fix.key}] ${plan.title}`,
			...(plan.edits ?? []).flatMap((e) => e.diff.trimEnd().split('\n')),
			`undo: ${plan.undo}`,
		];
		return plan.status === 'ready'
			? {lines, ready: true}
			: {lines: [...lines, `${plan.status}: ${plan.reason ?? ''}`], ready: false, reason: plan.reason};
	}
	return {lines: fixLines({...r, hint: undefined}), ready: true};
}

export type AppliedFix = {
	ok: boolean;
	ran: {argv: string[]; exitCode: number | null; output: string}[];
	message: string;
	journal?: string;
	recheck: CheckResult[];
};

/** Applies a previewed fix: journaled before anything runs, commands as argv one after another, then the check again. */
export async function applySetupFix(
	c: CompiledKb,
	input: SetupInput,
	r: CheckResult,
	exec: ExecPort = createExec(),
	signal?: AbortSignal,
): Promise<AppliedFix> {
	const fix = r.fix;
	if (!fix) throw new Error(`${r.id} has no fix kdoctor applies${r.hint ? `: ${r.hint}` : ''}`);
	const changes = changeService({exec});
	const ran: AppliedFix['ran'] = [];
	let entryId: string | undefined;
	let message: string;
	let ok = true;
	if (fix.edit) {
		const plan = planEditFix(c, r);
		const entry = changes.applyEdit(plan);
		entryId = entry.id;
		message = `edited ${plan.edits!.map((e) => e.path).join(', ')}; kdoctor undo restores it`;
	} else {
		const done = await changes.runCommands({
			finding: r.finding ?? r.id,
			remediation: fix.key,
			title: fix.title,
			commands: fix.commands ?? [],
			undo: fix.undo,
			noUndo: fix.noUndo,
			timeoutMs: 600_000,
			signal,
		});
		entryId = done.record.id;
		for (const x of done.ran)
			ran.push({
				argv: x.argv,
				exitCode: x.result.exitCode,
				output: (x.result.stderr.trim() || x.result.stdout.trim()).split('\n').slice(-3).join(' / '),
			});
		if (done.failed) {
			ok = false;
			message = `${commandText(done.failed.argv)} failed: ${reasonLine(done.failed.result)}`;
		} else message = fix.undo ? 'ran it; kdoctor undo takes it back' : `ran it${fix.noUndo ? `; it cannot be undone (${fix.noUndo})` : ''}`;
	}
	const id = checkIdOf(r.id);
	const recheck = id ? await runChecks({...input, facts: input.facts.fresh()}, undefined, {only: [id]}) : [];
	const still = recheck.find((x) => x.id === r.id && x.status !== 'ok');
	if (ok && still && !fix.edit) {
		ok = false;
		message = `${message}, but the check still says: ${still.summary}`;
	}
	return {ok, ran, message, ...(entryId ? {journal: entryId} : {}), recheck};
}

/** `kdoctor undo` of a host command: the journaled undo commands, in order. */
/** Finds the fix a user named: its key (when only one check offers it) or its check id. */
export function pickFix(results: CheckResult[], wanted: string): CheckResult {
	const byId = results.find((r) => r.id === wanted && r.fix);
	if (byId) return byId;
	const byKey = results.filter((r) => r.fix?.key === wanted && r.status !== 'ok');
	if (byKey.length === 1) return byKey[0]!;
	if (byKey.length > 1)
		throw new InputError(`several checks offer fix ${wanted}: name one with --fix ${byKey.map((r) => r.id).join(' | ')}`);
	const offered = results.filter((r) => r.fix && r.status !== 'ok').map((r) => `${r.fix!.key} (${r.id})`);
	throw new InputError(`no check offers fix ${wanted}${offered.length > 0 ? `; offered: ${offered.join(', ')}` : ': nothing to fix'}`);
}

/** `kdoctor setup` without a screen: the report (text or JSON), or one fix previewed and, with --yes, applied. Returns the exit code. */
export async function setupCommand(
	c: CompiledKb,
	opts: SetupOptions,
	out: Out,
	facts?: SetupFactsPort,
	onEvent?: (e: CheckEvent) => void,
): Promise<number> {
	const input = setupInput(c, opts, facts);
	const started = Date.now();
	const results = await runChecks(input, onEvent, {sequential: opts.sequential});
	const ms = Date.now() - started;
	const v = verdict(results);
	if (opts.fix) {
		const r = pickFix(results, opts.fix);
		const preview = previewSetupFix(c, r);
		if (!opts.yes || !preview.ready) {
			if (opts.json)
				out.write(JSON.stringify({check: r.id, fix: r.fix, preview: preview.lines, applied: false, ready: preview.ready}) + '\n');
			else
				out.write(
					`${preview.lines.join('\n')}\n` +
						(preview.ready
							? 'preview only: add --yes to apply (journaled; kdoctor undo reverts what can be reverted)'
							: `cannot apply: ${preview.reason ?? ''}`) +
						'\n',
				);
			return preview.ready ? 0 : 1;
		}
		const applied = await applySetupFix(c, input, r);
		if (opts.json) out.write(JSON.stringify({check: r.id, fix: r.fix, applied: true, ...applied}) + '\n');
		else {
			for (const x of applied.ran) out.write(`$ ${commandText(x.argv)}  → exit ${x.exitCode}${x.output ? `: ${x.output}` : ''}\n`);
			out.write(`${applied.ok ? 'done' : 'NOT done'}: ${applied.message}\n`);
			for (const x of applied.recheck) out.write(`re-checked ${x.title}: ${x.status}: ${x.summary}\n`);
		}
		return applied.ok ? 0 : 1;
	}
	if (opts.json) {
		out.write(
			JSON.stringify({
				profile: input.profileName,
				engine: input.engine,
				platform: input.facts.platform,
				ready: v.ready,
				exitCode: v.exitCode,
				failed: v.failed,
				warnings: v.warnings,
				unknown: v.unknown,
				durationMs: ms,
				checks: results,
				schemaVersion: OUTPUT_SCHEMA_VERSION,
			}) + '\n',
		);
	} else {
		out.write(
			setupText(
				results,
				`kdoctor setup: is this machine ready for profile ${input.profileName} (${input.engine})?`,
				makePaint(opts.color === true),
				opts.verbose === true,
			),
		);
	}
	return v.exitCode;
}
