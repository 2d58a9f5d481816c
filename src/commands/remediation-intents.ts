import type {CompiledKb} from '../core/kb/compile.js';
import type {ClockPort, FsPort, JournalPort} from '../core/ports.js';
import {applyEditPlan, planRemediation, undoLast} from '../core/remediate/plan.js';
import type {DoctorStore, Row} from '../state/store.js';
import type {DiagnoseIntents} from '../ui/screens/diagnose-screen.js';

export type RemediationPorts = {fs: FsPort; journal: JournalPort; clock: ClockPort; cwd: string};

/** Wires the screen's key presses to the remediation engine; results go back through the store. */
export function createRemediationIntents(compiled: CompiledKb, store: DoctorStore, ports: RemediationPorts): DiagnoseIntents {
	const fail = (error: unknown) => store.getState().say({kind: 'error', text: error instanceof Error ? error.message : String(error)});
	return {
		preview(row: Row, key: string) {
			try {
				const entry = compiled.kb.byId.get(row.finding.id);
				const rem = entry?.remediations.find((r) => r.key === key);
				if (!entry || !rem) return;
				store.getState().say(undefined);
				store.getState().showPlan(planRemediation(entry, rem, row.finding, {fs: ports.fs, cwd: ports.cwd, evidenceFile: row.file}));
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
				const entry = applyEditPlan(plan, ports);
				const verified = entry.files.every((f) => ports.fs.read(f.path) === f.after);
				s.showPlan(undefined);
				s.say(
					verified
						? {kind: 'ok', text: `Applied: ${entry.files.length} file${entry.files.length === 1 ? '' : 's'} changed (${entry.files.map((f) => f.path).join(', ')}). Next: ${plan.verify}. Press u to undo.`}
						: {kind: 'error', text: 'Applied, but a file does not read back as written; press u to undo'},
				);
			} catch (error) {
				fail(error);
			} finally {
				store.getState().setBusy(false);
			}
		},
		undo() {
			try {
				const {entry, restored} = undoLast(ports);
				store.getState().say({kind: 'ok', text: `Undone: ${entry.title} (${restored.join(', ')} restored)`});
			} catch (error) {
				fail(error);
			}
		},
	};
}
