import type {CompiledKb} from '../core/kb/compile.js';
import type {ClockPort, FsPort, JournalPort} from '../core/ports.js';
import {offeredFixes, planRemediation} from '../core/remediate/plan.js';
import {changeService, undoable, where, type ChangeService} from './changes.js';
import type {DoctorStore, Row} from '../state/store.js';

/** What a key press may ask the engines to do; wired by the composition root. */
export type DiagnoseIntents = {
	preview(row: Row, key: string): void;
	apply(): void;
	/** Previews undoing this screen's newest change (y applies it). */
	undo(): void;
	/** The preview was left without applying it. */
	cancel?(): void;
	/** Nothing matched: leave the screen and draft a team entry from this file with `kdoctor kb new` (after y). */
	draft?(file: string): void;
};

export type RemediationPorts = {
	fs: FsPort;
	journal: JournalPort;
	clock: ClockPort;
	cwd: string;
	protectedRoots?: string[];
	/** Defaults to the change service on these ports, with this machine's command runner and cluster client. */
	changes?: ChangeService;
};

/** Wires the screen's key presses to the remediation engine; results go back through the store. */
export function createRemediationIntents(compiled: CompiledKb, store: DoctorStore, ports: RemediationPorts): DiagnoseIntents {
	const fail = (error: unknown) => store.getState().say({kind: 'error', text: error instanceof Error ? error.message : String(error)});
	// What this screen applied, newest last: its u undoes those, never a change some other command made.
	const applied: string[] = [];
	let undoing: string | undefined;
	const changes = ports.changes ?? changeService(ports);
	return {
		preview(row: Row, key: string) {
			try {
				const entry = compiled.kb.byId.get(row.finding.id);
				// Only a fix this finding offers: the screen lists no other, and a key for another does nothing.
				const rem = entry ? offeredFixes(entry, row.finding).find((r) => r.key === key) : undefined;
				if (!entry || !rem) return;
				store.getState().say(undefined);
				undoing = undefined;
				store.getState().showPlan(
					planRemediation(entry, rem, row.finding, {
						fs: ports.fs,
						cwd: ports.cwd,
						evidenceFile: row.file,
						evidenceFiles: store.getState().inputs.map((i) => i.file),
						protectedRoots: ports.protectedRoots,
					}),
				);
			} catch (error) {
				fail(error);
			}
		},
		apply() {
			const s = store.getState();
			const plan = s.plan;
			if (!plan || s.busy) return;
			s.setBusy(true);
			let async = false;
			try {
				if (undoing) {
					const entry = ports.journal.list().find((e) => e.id === undoing && undoable(e) === undefined);
					if (!entry) throw new Error('that change is no longer in the journal as still applied');
					undoing = undefined;
					// A live patch or a host command is undone through the cluster or a child: the screen waits, busy.
					async = true;
					void changes
						.undo(entry)
						.then((said) => {
							if (applied.includes(entry.id)) applied.splice(applied.indexOf(entry.id), 1);
							store.getState().showPlan(undefined);
							store.getState().say({kind: 'ok', text: `Undone: ${entry.title} (${said.join('; ')})`});
						})
						.catch((error: unknown) => {
							// The preview goes with the failure, so a second y cannot apply it as a new change.
							store.getState().showPlan(undefined);
							fail(error);
						})
						.finally(() => store.getState().setBusy(false));
					return;
				}
				const entry = changes.applyEdit(plan);
				applied.push(entry.id);
				const verified = entry.files.every((f) => ports.fs.read(f.path) === f.after);
				s.showPlan(undefined);
				s.say(
					verified
						? {
								kind: 'ok',
								text:
									`Applied: ${entry.files.length} file${entry.files.length === 1 ? '' : 's'} changed ` +
									`(${entry.files.map((f) => f.path).join(', ')}). Next: ${plan.verify}. Press u to undo.`,
							}
						: {kind: 'error', text: 'Applied, but a file does not read back as written; press u to undo'},
				);
			} catch (error) {
				fail(error);
			} finally {
				if (!async) store.getState().setBusy(false);
			}
		},
		/**
		 * Previews undoing what `kdoctor undo` would: this screen's newest change still in place, else the journal's
		 * newest of any kind (a live patch, a host command, an edit made elsewhere), saying where it is; y applies it.
		 */
		undo() {
			try {
				const own = [...applied].reverse().map((id) => ports.journal.list().find((e) => e.id === id && undoable(e) === undefined));
				const entry = own.find((e) => e !== undefined) ?? changes.newestUndoable();
				if (!entry) {
					store.getState().say({
						kind: 'info',
						text: 'Nothing to undo: the journal has no change that is still applied (kdoctor undo --list shows it).',
					});
					return;
				}
				undoing = entry.id;
				const plan = changes.undoPreview(entry, ports.cwd);
				const elsewhere = applied.includes(entry.id) ? '' : ` (made outside this screen at ${entry.at}: ${where(entry)})`;
				store.getState().showPlan({...plan, title: `${plan.title}${elsewhere}`});
			} catch (error) {
				fail(error);
			}
		},
		cancel() {
			undoing = undefined;
		},
	};
}
