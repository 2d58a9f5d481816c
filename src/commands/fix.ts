import {dirname, join, resolve} from 'node:path';
import {createFsPort} from '../adapters/fs-port.js';
import {InputError} from '../adapters/input.js';
import {unknownEntry} from './kb.js';
import {stateDir} from '../adapters/journal.js';
import {installDir} from '../adapters/kb-files.js';
import {REPORT_CONFIDENCE} from '../core/diagnose/score.js';
import type {CompiledKb} from '../core/kb/compile.js';
import type {JournalEntry, JournalPort} from '../core/ports.js';
import {offeredFixes, planRemediation, withheldReason, type RemediationPlan} from '../core/remediate/plan.js';
import {quoteArg, shellLine} from '../plain/quote.js';
import {changeService, newestFirst, undoable, where, type ChangeService} from './changes.js';
import {diagnoseInputs} from './diagnose.js';
import {tryRunRecord} from './run-record.js';

type Out = {write(s: string): void};

export type FixOptions = {from: string[]; key?: string; dryRun?: boolean; yes?: boolean; force?: boolean; json?: boolean};

/** `kdoctor fix ID --from FILE`: the same plan as the screen's key, for scripts (preview unless --yes). */
export async function fixCommand(c: CompiledKb, id: string, opts: FixOptions, out: Out): Promise<number> {
	const entry = c.kb.byId.get(id);
	if (!entry) throw new InputError(unknownEntry(c, id));
	const results = await diagnoseInputs(c, opts.from);
	const bad = results.find((r) => r.error);
	if (bad) throw new Error(bad.error);
	const hit = results.flatMap((r) => r.diagnosis!.findings.map((f) => ({file: r.file, f}))).find((x) => x.f.id === id);
	if (!hit) {
		out.write(`${id} was not found in ${opts.from.join(', ')}: nothing to fix\n`);
		return 1;
	}
	const fixes = offeredFixes(entry, hit.f);
	const withheld = opts.key ? withheldReason(entry, hit.f, opts.key) : undefined;
	if (withheld) throw new InputError(withheld);
	const rem = opts.key ? fixes.find((r) => r.key === opts.key) : (fixes.find((r) => r.kind === 'edit-file') ?? fixes[0]);
	if (!rem)
		throw new InputError(
			opts.key ? `${id} has no fix on key "${opts.key}" (kdoctor kb show ${id})` : `${id} has no fix this evidence supports`,
		);
	const fs = createFsPort();
	const plan = planRemediation(entry, rem, hit.f, {
		fs,
		cwd: process.cwd(),
		evidenceFile: hit.file,
		evidenceFiles: opts.from,
		protectedRoots: [installDir, stateDir()],
		readRun: runOfLog,
	});
	if (opts.json) out.write(JSON.stringify(planJson(plan)) + '\n');
	else out.write(describePlan(plan));
	if (plan.status !== 'ready') return plan.status === 'nothing-to-change' ? 0 : 1;
	if (opts.yes && !opts.dryRun && hit.f.confidence < REPORT_CONFIDENCE && !opts.force)
		throw new Error(
			`${id} is only a possible finding here (${Math.round(hit.f.confidence * 100)}%): check the preview, then add --force to apply it anyway`,
		);
	if (opts.dryRun || !opts.yes) {
		if (!opts.json) out.write(opts.dryRun ? 'dry run: nothing written\n' : 'preview only: add --yes to apply\n');
		return 0;
	}
	const from = opts.from.map((f) => resolve(f));
	const changes = changeService({fs});
	if (plan.kind === 'command' || plan.kind === 'rerun') return runCommandPlan(plan, changes, from, out, opts.json === true);
	const record = changes.applyEdit(plan, {from});
	if (!opts.json) out.write(`applied (${record.files.length} file${record.files.length === 1 ? '' : 's'}); kdoctor undo reverts it\n`);
	return 0;
}

/**
 * Runs a command remediation the KB marks as one kdoctor may run once confirmed (argv, never a shell), records it,
 * and checks it worked with the entry's read-only check command.
 */
async function runCommandPlan(plan: RemediationPlan, changes: ChangeService, from: string[], out: Out, json: boolean): Promise<number> {
	const started = Date.now();
	// `kdoctor …` is this very program, whatever PATH holds.
	const argv = plan.argv![0] === 'kdoctor' ? [process.execPath, join(installDir, 'dist', 'cli.js'), ...plan.argv!.slice(1)] : plan.argv!;
	const {record, ran, failed} = await changes.runCommands({
		finding: plan.finding,
		remediation: plan.key,
		title: plan.title,
		commands: [argv],
		noUndo: `kdoctor does not take it back itself (${plan.undo})`,
		from,
		cwd: plan.cwd,
		timeoutMs: plan.kind === 'rerun' ? 3_600_000 : 300_000,
		onRun: () => {
			if (plan.kind === 'rerun' && !json) out.write(`re-running: ${plan.argv!.map(quoteArg).join(' ')}\n`);
		},
	});
	const r = ran[0]!.result;
	const said = (r.stderr.trim() || r.stdout.trim()).split('\n').slice(-3).join(' / ');
	if (failed) {
		changes.verified(record, {ok: false, message: `it failed (exit ${r.exitCode}): ${said}`, ms: Date.now() - started});
		if (json) out.write(JSON.stringify({...planJson(plan), ran: true, exitCode: r.exitCode, output: said, verified: false}) + '\n');
		else out.write(`ran it; it failed (exit ${r.exitCode}): ${said}\n`);
		return 1;
	}
	let verified: boolean | undefined;
	if (plan.check) {
		const {createExec} = await import('../adapters/exec.js');
		const c = await createExec().run({argv: plan.check.command, timeoutMs: 60_000});
		verified = c.exitCode === 0 && !c.stdout.split('\n').some((l) => l.trim() === plan.check!.lacksLine);
		changes.verified(record, {
			ok: verified,
			message: `${shellLine(plan.check.command)} ${verified ? 'no longer lists' : 'still lists'} ${plan.check.lacksLine}`,
			ms: Date.now() - started,
		});
	} else if (plan.kind === 'rerun') changes.verified(record, {ok: true, message: 'the re-run ended with exit 0', ms: Date.now() - started});
	if (json) out.write(JSON.stringify({...planJson(plan), ran: true, exitCode: 0, output: said, verified}) + '\n');
	else {
		const check = plan.check
			? `${shellLine(plan.check.command)} ${verified ? 'no longer lists' : 'still lists'} ${plan.check.lacksLine}`
			: '';
		const checked = verified === undefined ? '' : `${verified ? 'verified' : 'NOT verified'}: ${check}\n`;
		out.write(`ran it (exit 0)${said ? `: ${said}` : ''}\n${checked}${plan.undo}\n`);
	}
	return verified === false ? 1 : 0;
}

/** The run.json beside a `kdoctor up` run.log (or one folder up, for a step log), when the evidence is one. */
function runOfLog(logFile: string): {invocation?: string[]; cwd?: string} | undefined {
	for (const dir of [dirname(resolve(logFile)), dirname(dirname(resolve(logFile)))]) {
		const run = tryRunRecord(dir);
		if (run) return run;
	}
	return undefined;
}

export type UndoOptions = {id?: string; list?: boolean; json?: boolean};

/**
 * `kdoctor undo [ID] [--list]`: without ID it reverts the newest change kdoctor made that is still in place; with ID
 * that one (so a change that cannot be undone never blocks an older one); --list shows the whole journal.
 */
export async function undoCommand(out: Out, opts: UndoOptions = {}): Promise<number> {
	const changes = changeService();
	const journal = changes.journal;
	const problems = journal.problems();
	const entries = newestFirst(journal.list());
	if (opts.list) {
		if (opts.json) {
			out.write(
				JSON.stringify({
					entries: entries.map((e) => ({
						id: e.id,
						at: e.at,
						kind: e.kind,
						finding: e.finding,
						title: e.title,
						where: where(e),
						undone: e.undone ?? null,
						undoable: undoable(e) === undefined,
						why: undoable(e) ?? null,
					})),
					problems,
				}) + '\n',
			);
			return 0;
		}
		if (entries.length === 0 && problems.length === 0) out.write('the journal is empty: kdoctor has changed nothing here\n');
		for (const e of entries) {
			const why = undoable(e);
			out.write(
				`${e.id}\n  ${e.at}  ${e.kind}  ${e.title}\n  ${where(e)}\n  ` +
					`${why === undefined ? 'undoable: kdoctor undo ' + e.id : why.startsWith('undone') ? why : `not undoable: ${why}`}\n`,
			);
		}
		for (const p of problems) out.write(`${p.file}\n  ${p.why}\n`);
		return 0;
	}
	// A damaged or foreign file is said once, by name, and left alone: never undone, never silently skipped.
	for (const p of problems) out.write(`journal: ${p.file}: ${p.why}; left alone\n`);
	let target: JournalEntry | undefined;
	if (opts.id) {
		target = entries.find((e) => e.id === opts.id);
		if (!target) throw new InputError(`no journal entry ${opts.id} (kdoctor undo --list shows them)`);
	} else {
		target = entries.find((e) => !e.undone && undoable(e) === undefined);
		if (!target) throw new InputError('nothing to undo: the journal has no change that is still applied (kdoctor undo --list shows it)');
	}
	try {
		const said = await changes.undo(target);
		out.write(`undone: ${target.title}\n${said.map((l) => `  ${l}\n`).join('')}`);
		return 0;
	} catch (error) {
		const older = entries.filter((e) => e !== target && !e.undone && undoable(e) === undefined);
		throw new InputError(
			`${(error as Error).message}${older.length > 0 ? `; older changes can still be undone by id (kdoctor undo ${older[0]!.id})` : ''}`,
		);
	}
}

function planJson(p: RemediationPlan) {
	return {
		finding: p.finding,
		key: p.key,
		title: p.title,
		kind: p.kind,
		status: p.status,
		reason: p.reason,
		destructive: p.destructive,
		argv: p.argv,
		check: p.check,
		edits: p.edits?.map((e) => ({path: e.path, count: e.count, diff: e.diff})),
	};
}

export function describePlan(p: RemediationPlan): string {
	let s = `[${p.key}] ${p.title} (${p.kind}${p.destructive ? ', destructive' : ''})\n  ${p.change}\n`;
	if (p.argv) s += `  command: ${p.argv.map(quoteArg).join(' ')}\n`;
	for (const e of p.edits ?? []) s += `\n${e.diff}`;
	s += `  verify: ${p.verify}\n  undo:   ${p.undo}\n`;
	if (p.status !== 'ready' && p.reason) s += `  ${p.status}: ${p.reason}\n`;
	return s;
}
