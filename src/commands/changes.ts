import {createExec, reasonLine} from '../adapters/exec.js';
import {createFsPort} from '../adapters/fs-port.js';
import {createJournal} from '../adapters/journal.js';
import type {ClockPort, FsPort, JournalPort} from '../core/ports.js';
import type {ExecPort} from '../core/provision/ports.js';
import {createChangeService, newestFirst, undoable, where, type ChangeService} from '../core/remediate/changes.js';

export {newestFirst, undoable, where, type ChangeService};

/**
 * The change service (core/remediate/changes.ts) on this machine: the user's journal, real files, and the command
 * runner and cluster client loaded only when a change needs them. `kdoctor fix`, `kdoctor undo`, setup's fixes
 * and every screen's y and u go through it.
 */
export function changeService(p: {journal?: JournalPort; fs?: FsPort; clock?: ClockPort; exec?: ExecPort} = {}): ChangeService {
	return createChangeService({
		journal: p.journal ?? createJournal(),
		fs: p.fs ?? createFsPort(),
		clock: p.clock ?? {now: () => new Date()},
		exec: async () => p.exec ?? createExec(),
		kubeFor: async (k) => (await import('../adapters/kube.js')).createKube({kubeconfig: k.kubeconfig, context: k.context}),
		failure: reasonLine,
	});
}
