import type {KubePort} from '../cluster/ports.js';
import type {ClockPort, FsPort, JournalEntry, JournalPort} from '../ports.js';
import type {ExecPort, ExecResult} from '../provision/ports.js';
import {verifyRollout, type KubeFixPlan, type VerifyResult} from './kube-fix.js';
import {sleep} from '../sleep.js';
import {shellLine} from '../text/quote.js';
import {journalId, planUndo, type RemediationPlan} from './plan.js';

/**
 * The change service: the one place that applies a change (a file edit, a live patch, host commands, a re-run),
 * journals it, records whether it worked, previews undoing it and undoes it. Every command and screen goes
 * through it, so every change has one journal shape and whatever one of them can undo, all can.
 */

/** The journal entry shape this kdoctor writes (entries without `v` are shape 1 too). */
export const JOURNAL_SHAPE = 1;

export type KubeTarget = NonNullable<JournalEntry['kube']>;

export type ChangePorts = {
	journal: JournalPort;
	fs: FsPort;
	clock: ClockPort;
	/** Loaded only by a change that runs something. */
	exec?: () => Promise<ExecPort>;
	/** The cluster an entry's patch went to (its kubeconfig and context), loaded only to undo one. */
	kubeFor?: (k: KubeTarget) => Promise<KubePort>;
	/** Why a command failed, in one line (the runner's own reading of its output). */
	failure: (r: ExecResult) => string;
};

export type CommandChange = {
	finding: string;
	remediation: string;
	title: string;
	commands: string[][];
	undo?: string[][];
	noUndo?: string;
	/** The evidence the fix was found in (`fix --from`). */
	from?: string[];
	cwd?: string;
	timeoutMs: number;
	signal?: AbortSignal;
	/** Called before each command runs (a re-run says what it starts). */
	onRun?: (argv: string[]) => void;
};

export type CommandOutcome = {
	record: JournalEntry;
	ran: {argv: string[]; result: ExecResult}[];
	failed?: {argv: string[]; result: ExecResult};
};

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

export type ChangeService = ReturnType<typeof createChangeService>;

export function createChangeService(p: ChangePorts) {
	const entry = (base: Omit<JournalEntry, 'id' | 'at' | 'v'>): JournalEntry => {
		const at = p.clock.now();
		return {v: JOURNAL_SHAPE, id: journalId(at, base.finding, base.remediation), at: at.toISOString(), ...base};
	};
	const needExec = async () => {
		if (!p.exec) throw new Error('this change runs commands, and no command runner was given');
		return p.exec();
	};

	const service = {
		journal: p.journal,

		/** The newest change still in place that can be undone, of any kind: what `kdoctor undo` takes back by default. */
		newestUndoable(): JournalEntry | undefined {
			return newestFirst(p.journal.list()).find((e) => undoable(e) === undefined);
		},

		/** Records whether a change worked (a rollout watch, a check run after it), so a later report can tell. */
		verified(record: JournalEntry, verify: NonNullable<JournalEntry['verify']>): JournalEntry {
			const next = {...record, verify};
			p.journal.record(next);
			return next;
		},

		/**
		 * Applies a ready edit plan all or nothing: every new file is written to a temp file first, then the journal
		 * entry, then the renames. A failure before the renames changes nothing; one during them is rolled back.
		 */
		applyEdit(plan: RemediationPlan, o: {from?: string[]} = {}): JournalEntry {
			if (plan.status !== 'ready' || !plan.edits)
				throw new Error(`${plan.finding} [${plan.key}] cannot be applied: ${plan.reason ?? plan.status}`);
			for (const e of plan.edits) {
				if (p.fs.read(e.path) !== e.before) throw new Error(`${e.path} changed since the preview; nothing was written (preview again)`);
			}
			const record = entry({
				finding: plan.finding,
				remediation: plan.key,
				title: plan.title,
				kind: 'edit-file',
				files: plan.edits.map((e) => ({path: e.path, before: e.before, after: e.after})),
				...(o.from ? {from: o.from} : {}),
			});
			const staged: {commit(): void; abort(): void}[] = [];
			try {
				for (const e of plan.edits) staged.push(p.fs.stage(e.path, e.after));
				p.journal.record(record);
			} catch (error) {
				for (const s of staged) s.abort();
				throw new Error(`nothing was changed: ${(error as Error).message}`);
			}
			const done: number[] = [];
			try {
				staged.forEach((s, i) => {
					s.commit();
					done.push(i);
				});
			} catch (error) {
				for (const s of staged) s.abort();
				for (const i of done) p.fs.writeAtomic(plan.edits[i]!.path, plan.edits[i]!.before);
				p.journal.markUndone(record.id, p.clock.now().toISOString());
				throw new Error(`the change was rolled back: ${(error as Error).message}`);
			}
			return record;
		},

		/** Patches a Deployment: journaled first (so there is always a way back), patched, then the rollout watched. */
		async applyPatch(
			plan: KubeFixPlan,
			kube: KubePort,
			where: {kubeconfig?: string; context?: string},
			o: {timeoutMs: number; signal: AbortSignal},
		): Promise<{record: JournalEntry; verify: VerifyResult}> {
			if (plan.status !== 'ready') throw new Error(`${plan.finding} [${plan.key}] cannot be applied: ${plan.reason ?? plan.status}`);
			const record = entry({
				finding: plan.finding,
				remediation: plan.key,
				title: plan.title,
				kind: 'kube-patch',
				files: [],
				kube: {
					kubeconfig: where.kubeconfig,
					context: where.context,
					namespace: plan.namespace,
					deployment: plan.deployment,
					container: plan.container,
					field: plan.field,
					before: plan.before,
					after: plan.after!,
					patch: plan.patch!,
					undoPatch: plan.undoPatch!,
				},
			});
			p.journal.record(record);
			try {
				await kube.patchDeployment(plan.namespace, plan.deployment, plan.patch!);
			} catch (error) {
				p.journal.markUndone(record.id, p.clock.now().toISOString());
				throw new Error(`nothing was changed: ${(error as Error).message}`);
			}
			const verify = await verifyRollout(kube, plan.namespace, plan.deployment, {
				timeoutMs: o.timeoutMs,
				now: () => p.clock.now().getTime(),
				sleep,
				signal: o.signal,
			});
			return {record: service.verified(record, {ok: verify.ok, message: verify.message, ms: verify.ms}), verify};
		},

		/** Runs commands on the host (argv, never a shell) one after another, journaled before the first; stops at the first failure. */
		async runCommands(c: CommandChange): Promise<CommandOutcome> {
			const exec = await needExec();
			const record = entry({
				finding: c.finding,
				remediation: c.remediation,
				title: c.title,
				kind: 'command',
				files: [],
				host: {commands: c.commands, ...(c.undo ? {undo: c.undo} : {}), ...(c.noUndo ? {noUndo: c.noUndo} : {})},
				...(c.from ? {from: c.from} : {}),
			});
			p.journal.record(record);
			const ran: CommandOutcome['ran'] = [];
			for (const argv of c.commands) {
				c.onRun?.(argv);
				const result = await exec.run({argv, cwd: c.cwd, timeoutMs: c.timeoutMs, signal: c.signal});
				ran.push({argv, result});
				if (result.exitCode !== 0 || result.cancelled) return {record, ran, failed: {argv, result}};
			}
			return {record, ran};
		},

		/** Undoing an entry as a plan to preview before y: a file edit's diff the other way round, a patch's field and value. */
		undoPreview(e: JournalEntry, cwd: string): RemediationPlan {
			if (e.kind === 'edit-file') return planUndo(e, p.fs, cwd);
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
					change:
						`sets ${k.field} of container ${k.container} in deployment/${k.deployment} (namespace ` +
						`${k.namespace}) back from ${k.after} to ${k.before ?? 'unset'}, as kdoctor found it at ${e.at}`,
					verify: `the Deployment reads ${k.field} = ${k.before ?? 'unset'}; refused if it is no longer ${k.after}`,
				};
			}
			return {
				...base,
				change: `runs ${(e.host?.undo ?? []).map(shellLine).join('; ') || 'nothing'} (taking back ${where(e)}, run at ${e.at})`,
				verify: 'each command exits 0',
				argv: e.host?.undo?.length === 1 ? e.host.undo[0] : undefined,
			};
		},

		/** Takes back one entry of any kind and marks it undone; throws with the reason when it cannot (changed since, gone). */
		async undo(e: JournalEntry): Promise<string[]> {
			const why = undoable(e);
			if (why) throw new Error(`${e.id} cannot be undone: ${why}`);
			let said: string[];
			if (e.kind === 'kube-patch') said = [await undoPatch(e)];
			else if (e.kind === 'command') said = await undoCommands(e);
			else said = undoFiles(e);
			p.journal.markUndone(e.id, p.clock.now().toISOString());
			return said;
		},
	};

	/** Restores each file of an edit; refuses if one was edited since, so nothing is lost. */
	function undoFiles(e: JournalEntry): string[] {
		for (const f of e.files) {
			if (!p.fs.exists(f.path)) throw new Error(`${f.path} no longer exists; restore it by hand from the journal (${e.id})`);
			if (p.fs.read(f.path) !== f.after) throw new Error(`${f.path} was changed after kdoctor edited it; not undoing (${e.id})`);
		}
		for (const f of e.files) p.fs.writeAtomic(f.path, f.before);
		return e.files.map((f) => `restored ${f.path}`);
	}

	/** Puts the patched field back, only while it still holds the value kdoctor set (else someone changed it since). */
	async function undoPatch(e: JournalEntry): Promise<string> {
		const k = e.kube!;
		// A restart has no previous state to go back to: it is recorded, and undo passes over it with that said.
		if (k.field === 'restart') return `deployment/${k.deployment}: a rollout restart is not reverted (nothing to restore)`;
		if (!p.kubeFor) throw new Error(`undoing a live patch needs the cluster, and no cluster client was given (${e.id})`);
		const kube = await p.kubeFor(k);
		const d = await kube.deployment(k.namespace, k.deployment);
		if (!d) throw new Error(`deployment ${k.namespace}/${k.deployment} no longer exists; nothing to undo (${e.id})`);
		const c = d.containers.find((x) => x.name === k.container);
		const now = c && currentValue(c, k.field);
		if (now !== k.after)
			throw new Error(
				`${k.field} of deployment/${k.deployment} is now ${now ?? 'unset'}, ` +
					`not the ${k.after} kdoctor set: changed since, not undoing (${e.id})`,
			);
		await kube.patchDeployment(k.namespace, k.deployment, k.undoPatch);
		return `deployment/${k.deployment} container ${k.container}: ${k.field} back to ${k.before ?? 'unset'}`;
	}

	async function undoCommands(e: JournalEntry): Promise<string[]> {
		const exec = await needExec();
		const said: string[] = [];
		for (const argv of e.host?.undo ?? []) {
			const r = await exec.run({argv, timeoutMs: 600_000});
			if (r.exitCode !== 0) throw new Error(`${shellLine(argv)} failed: ${p.failure(r)}; the change is still in place`);
			said.push(`ran ${shellLine(argv)}`);
		}
		return said;
	}

	return service;
}

type Container = NonNullable<Awaited<ReturnType<KubePort['deployment']>>>['containers'][number];

function currentValue(c: Container, field: string): string | undefined {
	if (field === 'image') return c.image;
	if (field === 'resources.limits.memory') return c.memoryLimit;
	if (field === 'readinessProbe.httpGet.path') return c.readinessProbe?.path;
	if (field.startsWith('env ')) return c.env.find((x) => x.name === field.slice(4))?.value;
	return undefined;
}

/** Where a change was made, in one line. */
export function where(e: JournalEntry): string {
	if (e.kube) return `deployment/${e.kube.deployment} in ${e.kube.namespace} (${e.kube.field})`;
	if (e.host) return e.host.commands.map(shellLine).join('; ');
	return e.files.map((f) => f.path).join(', ') || '(no files)';
}
