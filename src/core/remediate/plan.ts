import {basename, isAbsolute, relative, resolve} from 'node:path';
import type {Finding} from '../diagnose/score.js';
import type {Entry, Remediation, RemediationKind} from '../kb/schema.js';
import {NotTextError, type ClockPort, type FsPort, type JournalEntry, type JournalPort} from '../ports.js';
import {displayTemplate, fillTemplate, templateVars} from '../kb/template.js';
import {globToRegExp} from '../glob.js';
import {unifiedDiff} from './diff.js';

export {fillTemplate, templateVars};

export type PlanStatus = 'ready' | 'needs-cluster' | 'missing-input' | 'nothing-to-change' | 'advice' | 'run-yourself';

export type FileEdit = {path: string; before: string; after: string; diff: string; count: number};

export type RemediationPlan = {
	finding: string;
	key: string;
	title: string;
	kind: RemediationKind;
	change: string;
	verify: string;
	undo: string;
	destructive: boolean;
	status: PlanStatus;
	/** Why it cannot be applied here, in one line. */
	reason?: string;
	argv?: string[];
	/** For a command kdoctor runs: how it checks the command worked. */
	check?: {command: string[]; lacksLine: string};
	/** Where a re-run runs (the first run's working folder). */
	cwd?: string;
	edits?: FileEdit[];
};

export type PlanContext = {
	fs: FsPort;
	cwd: string;
	evidenceFile?: string;
	clusterAvailable?: boolean;
	/**
	 * Folders an edit never touches however the glob reads: kdoctor's own install (its KB, manifests, examples) and
	 * its state. An edit is for the user's project files.
	 */
	protectedRoots?: string[];
	/** Every file the finding was read from: a search edit never rewrites the logs it was found in. */
	evidenceFiles?: string[];
	/** The run.json of the `kdoctor up` run a log file belongs to, when it is one. */
	readRun?(logFile: string): {invocation?: string[]; cwd?: string} | undefined;
};

/** Works out exactly what a remediation would change, without changing anything. */
/** The entry's fixes this finding offers (those whose needed evidence it holds), in the entry's order. */
export function offeredFixes(entry: Entry, finding: Pick<Finding, 'remediations'>): Remediation[] {
	return entry.remediations.filter((r) => finding.remediations.some((x) => x.key === r.key));
}

/** Why a fix the entry has is not offered for this finding, in one line; undefined when it is offered or unknown. */
export function withheldReason(entry: Entry, finding: Pick<Finding, 'remediations'>, key: string): string | undefined {
	const r = entry.remediations.find((x) => x.key === key);
	if (!r || finding.remediations.some((x) => x.key === key)) return undefined;
	const needs = (r.needs ?? []).map((id) => entry.signals.find((s) => s.id === id)?.means ?? id);
	return `${entry.id}'s fix [${key}] ${r.title} is not offered here: it needs evidence that ${needs.join(', or that ')}`;
}

export function planRemediation(entry: Entry, rem: Remediation, finding: Finding, ctx: PlanContext): RemediationPlan {
	const vars = templateVars(rem, finding.captures);
	const base: RemediationPlan = {
		finding: entry.id,
		key: rem.key,
		title: displayTemplate(rem.title, vars),
		kind: rem.kind,
		change: displayTemplate(rem.change, vars),
		verify: displayTemplate(rem.verify, vars),
		undo: displayTemplate(rem.undo, vars),
		destructive: rem.destructive,
		status: 'advice',
	};
	switch (rem.kind) {
		case 'info':
			return base;
		case 'kube-patch':
			return {
				...base,
				status: 'needs-cluster',
				reason: 'patches a live object: kdoctor applies cluster patches only with live access to the cluster, never from a log',
			};
		case 'rerun': {
			// A kdoctor up run's log sits beside its run.json, which records the exact command: re-run that, changed.
			const run = rem.rerunWith && ctx.evidenceFile ? ctx.readRun?.(ctx.evidenceFile) : undefined;
			if (!rem.rerunWith || !run?.invocation)
				return {...base, status: 'run-yourself', reason: 're-runs a provisioning step with the change above: run that step yourself'};
			// The run's own flags, minus any the re-run sets itself (a flag and, unless it is a switch, its value).
			const flags = new Set(rem.rerunWith.filter((a) => a.startsWith('--')));
			const kept: string[] = [];
			for (let i = 0; i < run.invocation.length; i++) {
				const a = run.invocation[i]!;
				const name = a.split('=')[0]!;
				if (!flags.has(name)) {
					kept.push(a);
					continue;
				}
				const next = rem.rerunWith[rem.rerunWith.indexOf(name) + 1];
				if (!a.includes('=') && next !== undefined && !next.startsWith('--')) i++;
			}
			return {...base, status: 'ready', argv: ['kdoctor', ...kept, ...rem.rerunWith], cwd: run.cwd};
		}
		case 'command': {
			const filled = rem.command!.map((a) => fillTemplate(a, vars));
			const missing = [...new Set(filled.flatMap((f) => f.missing))];
			if (missing.length > 0)
				return {
					...base,
					status: 'missing-input',
					reason: `needs ${missing.join(', ')}, which the evidence does not show`,
					argv: filled.map((f) => f.text),
				};
			if (rem.run === 'confirmed')
				return {
					...base,
					status: 'ready',
					argv: filled.map((f) => f.text),
					check: rem.check && {
						command: rem.check.command.map((a) => fillTemplate(a, vars).text),
						lacksLine: fillTemplate(rem.check.lacksLine, vars).text,
					},
				};
			return {...base, status: 'run-yourself', reason: 'acts on the host: kdoctor prints it, you run it', argv: filled.map((f) => f.text)};
		}
		case 'edit-file':
			return planEdit(base, rem, vars, finding, ctx);
	}
}

function planEdit(
	base: RemediationPlan,
	rem: Remediation,
	vars: Record<string, string>,
	finding: Finding,
	ctx: PlanContext,
): RemediationPlan {
	const spec = rem.edit!;
	const find = fillTemplate(spec.find, vars);
	const replace = fillTemplate(spec.replace, vars);
	const missing = [...new Set([...find.missing, ...replace.missing])];
	if (missing.length > 0)
		return {...base, status: 'missing-input', reason: `needs ${missing.join(', ')}, which the evidence does not show`};
	let candidates: string[];
	/** For an edit in the evidence file, only the lines the evidence points at change. */
	let onlyLines: Set<number> | undefined;
	if (spec.in === 'evidence') {
		if (!ctx.evidenceFile || ctx.evidenceFile === '-')
			return {...base, status: 'missing-input', reason: 'the evidence came from standard input, so there is no file to edit'};
		if (!matchesGlob(spec.glob, ctx.evidenceFile, ctx.cwd))
			return {
				...base,
				status: 'missing-input',
				reason:
					`the evidence is in ${ctx.evidenceFile}, which is not a file this ` +
					`fix edits (${spec.glob.join(', ')}): diagnose that file itself`,
			};
		candidates = [resolve(ctx.cwd, ctx.evidenceFile)];
		onlyLines = new Set(finding.lines);
	} else {
		candidates = ctx.fs.list(ctx.cwd, spec.glob);
	}
	const re = literalPattern(find.text, spec.boundary);
	// In the evidence file each named line is filled from its own captures, so one fix covers every line it names.
	const perLine = new Map<number, {re: RegExp; replace: string}>();
	if (onlyLines && finding.lineCaptures)
		for (const [line, own] of Object.entries(finding.lineCaptures)) {
			const v = templateVars(rem, {...finding.captures, ...own});
			const f = fillTemplate(spec.find, v);
			const r = fillTemplate(spec.replace, v);
			if (f.missing.length === 0 && r.missing.length === 0)
				perLine.set(Number(line), {re: literalPattern(f.text, spec.boundary), replace: r.text});
		}
	const edits: FileEdit[] = [];
	const skipped: string[] = [];
	const seen = new Set<string>();
	const roots = (ctx.protectedRoots ?? []).map((r) => ctx.fs.canonical(r));
	const logs = new Set((ctx.evidenceFiles ?? []).filter((f) => f !== '-').map((f) => ctx.fs.canonical(resolve(ctx.cwd, f))));
	let own = 0;
	let evidence = 0;
	for (const candidate of candidates) {
		const path = ctx.fs.canonical(candidate);
		if (seen.has(path)) continue;
		seen.add(path);
		if (roots.some((r) => isInside(path, r))) {
			own++;
			continue;
		}
		if (spec.in !== 'evidence' && logs.has(path)) {
			evidence++;
			continue;
		}
		let before: string;
		try {
			before = ctx.fs.read(path);
		} catch (error) {
			if (error instanceof NotTextError) skipped.push(error.message);
			continue;
		}
		let count = 0;
		const swap = (text: string, line?: number) => {
			const own = line === undefined ? undefined : perLine.get(line);
			return text.replace(own?.re ?? re, () => {
				count++;
				return own?.replace ?? replace.text;
			});
		};
		const after = onlyLines
			? before
					.split('\n')
					.map((line, i) => (onlyLines!.has(i + 1) ? swap(line, i + 1) : line))
					.join('\n')
			: swap(before);
		if (count === 0 || after === before) continue;
		if (!ctx.fs.writable(path)) {
			skipped.push(`${path} is read-only; kdoctor leaves it alone`);
			continue;
		}
		const shown = isAbsolute(path) && !relative(ctx.cwd, path).startsWith('..') ? relative(ctx.cwd, path) : path;
		edits.push({path, before, after, diff: unifiedDiff(shown, before, after), count});
	}
	// Files kdoctor would never edit are named apart from the files it could not (not UTF-8, read-only).
	const guarded = [
		...(own > 0 ? [`${own} file${own === 1 ? '' : 's'} of kdoctor's own (its install or state folder), never edited`] : []),
		...(evidence > 0 ? [`the log${evidence === 1 ? '' : 's'} the finding was read from, never edited`] : []),
	];
	if (edits.length === 0) {
		if (skipped.length > 0) return {...base, status: 'missing-input', reason: [...skipped, ...guarded].join('; ')};
		const where = spec.in === 'evidence' ? ctx.evidenceFile : `files matching ${spec.glob.join(', ')} under ${ctx.cwd}`;
		return {
			...base,
			status: 'nothing-to-change',
			reason: `"${find.text}" does not appear in ${where}${guarded.length > 0 ? ` (left alone: ${guarded.join('; ')})` : ''}`,
		};
	}
	skipped.push(...guarded);
	const lines = edits.reduce((n, e) => n + e.count, 0);
	if (perLine.size > 1 && lines > 1)
		base = {...base, title: `${base.title} (and ${lines - 1} more line${lines === 2 ? '' : 's'} it names)`};
	return {...base, status: 'ready', edits, ...(skipped.length > 0 ? {reason: `also found but left alone: ${skipped.join('; ')}`} : {})};
}

function isInside(path: string, root: string): boolean {
	const rel = relative(root, path);
	return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** Whether a file is of the kind an edit is for (its glob), judged by its path under cwd or its name. */
function matchesGlob(globs: string[], file: string, cwd: string): boolean {
	const rel = relative(cwd, resolve(cwd, file)).split('\\').join('/');
	return globs.some((g) => {
		const re = globToRegExp(g);
		return re.test(rel) || re.test(basename(file)) || re.test(`x/${basename(file)}`);
	});
}

function literalPattern(text: string, boundary: 'image-ref' | 'none'): RegExp {
	const escaped = text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
	if (boundary === 'image-ref') return new RegExp(`(?<![\\w./:@-])${escaped}(?![\\w./:@-])`, 'g');
	return new RegExp(escaped, 'g');
}

/** A journal entry's id: sortable by time, and saying which fix it was. */
export function journalId(at: Date, finding: string, key: string): string {
	return `${at.toISOString().replace(/[:.]/g, '-')}-${finding}-${key}`;
}

/** What undoing a file edit would write, as a plan to preview: the same diff as the fix, the other way round. */
export function planUndo(entry: JournalEntry, fs: FsPort, cwd: string): RemediationPlan {
	const base: RemediationPlan = {
		finding: entry.finding,
		key: entry.remediation,
		title: `Undo: ${entry.title}`,
		kind: entry.kind,
		change: `puts back the ${entry.files.length} file${entry.files.length === 1 ? '' : 's'} kdoctor changed at ${entry.at}`,
		verify: 'each file reads as it did before the fix',
		undo: 'apply the fix again',
		destructive: false,
		status: 'ready',
	};
	if (entry.kind !== 'edit-file')
		return {...base, status: 'run-yourself', reason: `a ${entry.kind}: run kdoctor undo in a shell to take it back`};
	const edits: FileEdit[] = [];
	for (const f of entry.files) {
		if (!fs.exists(f.path) || fs.read(f.path) !== f.after)
			return {...base, status: 'nothing-to-change', reason: `${f.path} was changed after kdoctor edited it; not undoing (${entry.id})`};
		const shown = isAbsolute(f.path) && !relative(cwd, f.path).startsWith('..') ? relative(cwd, f.path) : f.path;
		edits.push({path: f.path, before: f.after, after: f.before, diff: unifiedDiff(shown, f.after, f.before), count: 1});
	}
	return {...base, edits};
}
