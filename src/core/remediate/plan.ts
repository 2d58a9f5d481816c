import {isAbsolute, relative} from 'node:path';
import type {Finding} from '../diagnose/score.js';
import type {Entry, Remediation, RemediationKind} from '../kb/schema.js';
import type {ClockPort, FsPort, JournalEntry, JournalPort} from '../ports.js';
import {displayTemplate, fillTemplate, templateVars} from '../kb/template.js';
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
	edits?: FileEdit[];
};

export type PlanContext = {fs: FsPort; cwd: string; evidenceFile?: string; clusterAvailable?: boolean};

/** Works out exactly what a remediation would change, without changing anything. */
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
			return {...base, status: 'needs-cluster', reason: 'patches a live object: run kdoctor triage against the cluster to preview and apply it'};
		case 'rerun':
			return {...base, status: 'run-yourself', reason: 're-runs a provisioning step: use kdoctor up (it re-runs only what changed)'};
		case 'command': {
			const filled = rem.command!.map((a) => fillTemplate(a, vars));
			const missing = [...new Set(filled.flatMap((f) => f.missing))];
			if (missing.length > 0) return {...base, status: 'missing-input', reason: `needs ${missing.join(', ')}, which the evidence does not show`, argv: filled.map((f) => f.text)};
			return {...base, status: 'run-yourself', reason: 'acts on the host: kdoctor prints it, you run it', argv: filled.map((f) => f.text)};
		}
		case 'edit-file':
			return planEdit(base, rem, vars, ctx);
	}
}

function planEdit(base: RemediationPlan, rem: Remediation, vars: Record<string, string>, ctx: PlanContext): RemediationPlan {
	const spec = rem.edit!;
	const find = fillTemplate(spec.find, vars);
	const replace = fillTemplate(spec.replace, vars);
	const missing = [...new Set([...find.missing, ...replace.missing])];
	if (missing.length > 0) return {...base, status: 'missing-input', reason: `needs ${missing.join(', ')}, which the evidence does not show`};
	let candidates: string[];
	if (spec.in === 'evidence') {
		if (!ctx.evidenceFile || ctx.evidenceFile === '-') return {...base, status: 'missing-input', reason: 'the evidence came from standard input, so there is no file to edit'};
		candidates = [ctx.evidenceFile];
	} else {
		candidates = ctx.fs.list(ctx.cwd, spec.glob);
	}
	const re = literalPattern(find.text, spec.boundary);
	const edits: FileEdit[] = [];
	for (const path of candidates) {
		let before: string;
		try {
			before = ctx.fs.read(path);
		} catch {
			continue;
		}
		let count = 0;
		const after = before.replace(re, () => {
			count++;
			return replace.text;
		});
		const shown = isAbsolute(path) && !relative(ctx.cwd, path).startsWith('..') ? relative(ctx.cwd, path) : path;
		if (count > 0 && after !== before) edits.push({path, before, after, diff: unifiedDiff(shown, before, after), count});
	}
	if (edits.length === 0) {
		const where = spec.in === 'evidence' ? ctx.evidenceFile : `files matching ${spec.glob.join(', ')} under ${ctx.cwd}`;
		return {...base, status: 'nothing-to-change', reason: `"${find.text}" does not appear in ${where}`};
	}
	return {...base, status: 'ready', edits};
}

function literalPattern(text: string, boundary: 'image-ref' | 'none'): RegExp {
	const escaped = text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
	if (boundary === 'image-ref') return new RegExp(`(?<![\\w./:@-])${escaped}(?![\\w./:@-])`, 'g');
	return new RegExp(escaped, 'g');
}

export type ApplyContext = {fs: FsPort; journal: JournalPort; clock: ClockPort};

/** Applies a ready edit plan: journal first (so undo always knows), then atomic writes. */
export function applyEditPlan(plan: RemediationPlan, ctx: ApplyContext): JournalEntry {
	if (plan.status !== 'ready' || !plan.edits) throw new Error(`${plan.finding} [${plan.key}] cannot be applied: ${plan.reason ?? plan.status}`);
	for (const e of plan.edits) {
		if (ctx.fs.read(e.path) !== e.before) throw new Error(`${e.path} changed since the preview; nothing was written (preview again)`);
	}
	const at = ctx.clock.now();
	const entry: JournalEntry = {
		id: `${at.toISOString().replace(/[:.]/g, '-')}-${plan.finding}-${plan.key}`,
		at: at.toISOString(),
		finding: plan.finding,
		remediation: plan.key,
		title: plan.title,
		kind: 'edit-file',
		files: plan.edits.map((e) => ({path: e.path, before: e.before, after: e.after})),
	};
	ctx.journal.record(entry);
	for (const e of plan.edits) ctx.fs.writeAtomic(e.path, e.after);
	return entry;
}

/** Reverts the newest change not yet undone; refuses if a file was edited since, so nothing is lost. */
export function undoLast(ctx: ApplyContext): {entry: JournalEntry; restored: string[]} {
	const pending = ctx.journal
		.list()
		.filter((e) => !e.undone && e.kind === 'edit-file')
		.sort((a, b) => b.at.localeCompare(a.at) || b.id.localeCompare(a.id));
	const entry = pending[0];
	if (!entry) throw new Error('nothing to undo: the journal has no change that is still applied');
	for (const f of entry.files) {
		if (!ctx.fs.exists(f.path)) throw new Error(`${f.path} no longer exists; restore it by hand from the journal (${entry.id})`);
		if (ctx.fs.read(f.path) !== f.after) throw new Error(`${f.path} was changed after kdoctor edited it; not undoing (${entry.id})`);
	}
	for (const f of entry.files) ctx.fs.writeAtomic(f.path, f.before);
	ctx.journal.markUndone(entry.id, ctx.clock.now().toISOString());
	return {entry, restored: entry.files.map((f) => f.path)};
}
