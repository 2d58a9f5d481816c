import type {CompiledKb} from '../core/kb/compile.js';
import type {ClockPort, FsPort, JournalPort} from '../core/ports.js';
import {applyEditPlan, offeredFixes, planRemediation, planUndo, undoEdit} from '../core/remediate/plan.js';
import type {DoctorStore, Row} from '../state/store.js';

/** What a key press may ask the engines to do; wired by the composition root. */
export type DiagnoseIntents = {
	preview(row: Row, key: string): void;
	apply(): void;
	/** Previews undoing this screen's newest change (y applies it). */
	undo(): void;
	/** The preview was left without applying it. */
	cancel?(): void;
};

export type RemediationPorts = {fs: FsPort; journal: JournalPort; clock: ClockPort; cwd: string; protectedRoots?: string[]};

/** Wires the screen's key presses to the remediation engine; results go back through the store. */
export function createRemediationIntents(compiled: CompiledKb, store: DoctorStore, ports: RemediationPorts): DiagnoseIntents {
	const fail = (error: unknown) => store.getState().say({kind: 'error', text: error instanceof Error ? error.message : String(error)});
	// What this screen applied, newest last: its u undoes those, never a change some other command made.
	const applied: string[] = [];
	let undoing: string | undefined;
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
			try {
				if (undoing) {
					const entry = ports.journal.list().find((e) => e.id === undoing && !e.undone);
					if (!entry) throw new Error('that change is no longer in the journal as still applied');
					const {restored} = undoEdit(ports, entry);
					applied.splice(applied.indexOf(entry.id), 1);
					undoing = undefined;
					s.showPlan(undefined);
					s.say({kind: 'ok', text: `Undone: ${entry.title} (${restored.join(', ')} restored)`});
					return;
				}
				const entry = applyEditPlan(plan, ports);
				applied.push(entry.id);
				const verified = entry.files.every((f) => ports.fs.read(f.path) === f.after);
				s.showPlan(undefined);
				s.say(
					verified
						? {
								kind: 'ok',
								text: `Applied: ${entry.files.length} file${entry.files.length === 1 ? '' : 's'} changed (${entry.files.map((f) => f.path).join(', ')}). Next: ${plan.verify}. Press u to undo.`,
							}
						: {kind: 'error', text: 'Applied, but a file does not read back as written; press u to undo'},
				);
			} catch (error) {
				fail(error);
			} finally {
				store.getState().setBusy(false);
			}
		},
		/** Previews undoing the newest change this screen made; y applies it, as any fix. */
		undo() {
			try {
				const id = applied.at(-1);
				const entry = id ? ports.journal.list().find((e) => e.id === id && !e.undone) : undefined;
				if (!entry) {
					store.getState().say({
						kind: 'info',
						text: 'Nothing to undo: this screen has changed nothing. kdoctor undo --list shows the journal; kdoctor undo ID takes one back.',
					});
					return;
				}
				undoing = entry.id;
				store.getState().showPlan(planUndo(entry, ports.fs, ports.cwd));
			} catch (error) {
				fail(error);
			}
		},
		cancel() {
			undoing = undefined;
		},
	};
}
