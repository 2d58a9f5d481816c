import {createFsPort} from '../adapters/fs-port.js';
import type {FsPort, JournalEntry, JournalPort} from '../core/ports.js';
import {planUndo, undoEdit, type RemediationPlan} from '../core/remediate/plan.js';
import {shellLine} from '../plain/quote.js';

/**
 * The change service: which journaled change can be taken back, how undoing it is previewed, and undoing it.
 * `kdoctor undo` and every screen's u go through here, so a change one can undo the other can too.
 */

/** Whether an entry can be taken back at all, and if not, why (said by --list and when it is asked for). */
export function undoable(e: JournalEntry): string | undefined {
	if (e.undone) return `undone ${e.undone}`;
	if (e.kind === 'kube-patch') return e.kube ? undefined : 'no patch recorded';
	if (e.kind === 'command') return e.host?.undo ? undefined : (e.host?.noUndo ?? 'a command with no undo');
	return undefined;
}

/** The journal newest first (then by id, so two changes in one millisecond keep an order). */
export function newestFirst(entries: JournalEntry[]): JournalEntry[] {
	return [...entries].sort((a, b) => b.at.localeCompare(a.at) || b.id.localeCompare(a.id));
}

/** The newest change still in place that can be undone, of any kind: what `kdoctor undo` takes back by default. */
export function newestUndoable(journal: JournalPort): JournalEntry | undefined {
	return newestFirst(journal.list()).find((e) => undoable(e) === undefined);
}

/** Where a change was made, in one line. */
export function where(e: JournalEntry): string {
	if (e.kube) return `deployment/${e.kube.deployment} in ${e.kube.namespace} (${e.kube.field})`;
	if (e.host) return e.host.commands.map(shellLine).join('; ');
	return e.files.map((f) => f.path).join(', ') || '(no files)';
}

/** Undoing an entry as a plan to preview before y: a file edit's diff the other way round, a patch's field and value. */
export function undoPreview(e: JournalEntry, fs: FsPort, cwd: string): RemediationPlan {
	if (e.kind === 'edit-file') return planUndo(e, fs, cwd);
	const why = undoable(e);
	const base: RemediationPlan = {
		finding: e.finding,
		key: e.remediation,
		title: `Undo: ${e.title}`,
		kind: e.kind,
		change: '',
		verify: '',
		undo: 'apply the fix again',
		destructive: false,
		status: why === undefined ? 'ready' : 'nothing-to-change',
		...(why === undefined ? {} : {reason: `${e.id} cannot be undone: ${why}`}),
	};
	if (e.kind === 'kube-patch' && e.kube) {
		const k = e.kube;
		if (k.field === 'restart')
			return {...base, status: 'nothing-to-change', reason: `a rollout restart of deployment/${k.deployment} has nothing to restore`};
		return {
			...base,
			change: `sets ${k.field} of container ${k.container} in deployment/${k.deployment} (namespace ${k.namespace}) back from ${k.after} to ${k.before ?? 'unset'}, as kdoctor found it at ${e.at}`,
			verify: `the Deployment reads ${k.field} = ${k.before ?? 'unset'}; refused if it is no longer ${k.after}`,
		};
	}
	return {
		...base,
		change: `runs ${(e.host?.undo ?? []).map(shellLine).join('; ') || 'nothing'} (taking back ${where(e)}, run at ${e.at})`,
		verify: 'each command exits 0',
		argv: e.host?.undo?.length === 1 ? e.host.undo[0] : undefined,
	};
}

/** Takes back one entry of any kind and marks it undone; throws with the reason when it cannot (changed since, gone). */
export async function undoEntry(e: JournalEntry, journal: JournalPort, fs: FsPort = createFsPort()): Promise<string[]> {
	const why = undoable(e);
	if (why) throw new Error(`${e.id} cannot be undone: ${why}`);
	if (e.kind === 'kube-patch') {
		const {undoKubePatch, kubeForEntry} = await import('./live.js');
		const what = await undoKubePatch(e, kubeForEntry);
		journal.markUndone(e.id, new Date().toISOString());
		return [what];
	}
	if (e.kind === 'command') {
		const {undoHostCommands} = await import('./setup.js');
		const said = await undoHostCommands(e);
		journal.markUndone(e.id, new Date().toISOString());
		return said;
	}
	const {restored} = undoEdit({fs, journal, clock: {now: () => new Date()}}, e);
	return restored.map((p) => `restored ${p}`);
}
