import {render} from 'ink';
import {createKube} from '../adapters/kube.js';
import type {ChangeService} from '../commands/changes.js';
import type {TriageOptions} from '../commands/triage.js';
import type {CompiledKb} from '../core/kb/compile.js';
import {displayTemplate, templateVars} from '../core/kb/template.js';
import type {LivePort} from '../core/cluster/ports.js';
import {createDoctorStore, type DoctorStore} from '../state/store.js';
import {keyboard} from './keyboard.js';
import {TriageScreen, type TriageIntent} from './screens/triage-screen.js';
import {StoreProvider} from './store-context.js';

/** What the screen's intents do: plan a live fix (asking for a value when it needs one), apply and verify it. */
export function triageIntents(c: CompiledKb, store: DoctorStore, opts: TriageOptions, live?: LivePort, changes?: ChangeService) {
	const service = async () => (changes ??= (await import('../commands/changes.js')).changeService());
	let kube: ReturnType<typeof createKube> | undefined;
	const api = () => (kube ??= createKube({kubeconfig: opts.kubeconfig, context: opts.context}));
	const ac = new AbortController();
	const state = () => store.getState();
	const plan = async (workloadKey: string, key: string, value?: string) => {
		const w = [...(state().triage.snapshot?.failing ?? [])].find((x) => x.key === workloadKey);
		const finding = w?.findings[0];
		if (!w || !finding) return state().triageFix(undefined);
		const {planLiveFix} = await import('../commands/live.js');
		const k = await api();
		const nodeImages = live?.nodeImages ? () => live.nodeImages!() : () => k.nodeImages();
		const p = await planLiveFix(c, k, nodeImages, {namespace: w.namespace, workload: w.name, pods: w.troubled, finding, key, value});
		if (p.status === 'missing-input' && value === undefined) {
			const rem = c.kb.byId.get(finding.id)?.remediations.find((r) => r.key === key);
			const ask = rem?.patch?.ask ? displayTemplate(rem.patch.ask, templateVars(rem, finding.captures)) : (p.reason ?? 'a value');
			return state().triageFix({workload: workloadKey, key, state: 'asking', ask, input: '', plan: p});
		}
		if (p.status !== 'ready')
			return state().triageFix({
				workload: workloadKey,
				key,
				state: 'failed',
				input: value ?? '',
				plan: p,
				message: `${p.status}: ${p.reason ?? ''}`,
			});
		state().triageFix({workload: workloadKey, key, state: 'preview', input: value ?? '', plan: p});
	};
	const fail = (error: unknown) => {
		const fix = state().triage.fix;
		state().triageFix({
			workload: fix?.workload ?? '',
			key: fix?.key ?? '?',
			input: '',
			...fix,
			state: 'failed',
			message: (error as Error).message,
		});
	};
	return {
		onIntent(i: TriageIntent) {
			const fix = state().triage.fix;
			switch (i.type) {
				case 'fix':
					if (state().triage.readOnly) return;
					state().triageFix({workload: i.workload, key: i.key, state: 'planning', input: ''});
					return void plan(i.workload, i.key).catch(fail);
				case 'answer':
					if (!fix) return;
					state().triageFix({...fix, state: 'planning'});
					return void plan(fix.workload, fix.key, i.value).catch(fail);
				case 'undo': {
					if (state().triage.readOnly || (fix && fix.state !== 'verified' && fix.state !== 'failed')) return;
					void (async () => {
						const {where} = await import('../core/remediate/changes.js');
						const ch = await service();
						const e = ch.newestUndoable();
						if (!e)
							return state().triageFix({
								workload: '',
								key: 'u',
								state: 'failed',
								input: '',
								message: 'Nothing to undo: the journal has no change that is still applied (kdoctor undo --list shows it)',
							});
						const p = ch.undoPreview(e, process.cwd());
						const undo = {
							id: e.id,
							title: `${p.title} (made ${e.at}: ${where(e)})`,
							change: p.change,
							diff: p.edits?.map((x) => x.diff).join(''),
						};
						if (p.status !== 'ready')
							return state().triageFix({workload: '', key: 'u', state: 'failed', input: '', undo, message: p.reason ?? p.status});
						state().triageFix({workload: '', key: 'u', state: 'preview', input: '', undo});
					})().catch(fail);
					return;
				}
				case 'apply': {
					if (fix?.undo && fix.state === 'preview' && !state().triage.readOnly) {
						const undo = fix.undo;
						state().triageFix({...fix, state: 'applying'});
						void (async () => {
							const ch = await service();
							const e = ch.journal.list().find((x) => x.id === undo.id);
							if (!e) throw new Error('that change is no longer in the journal');
							const said = await ch.undo(e);
							state().triageFix({...state().triage.fix!, state: 'verified', message: `Undone: ${e.title} (${said.join('; ')})`});
						})().catch(fail);
						return;
					}
					if (!fix?.plan || fix.state !== 'preview' || state().triage.readOnly) return;
					state().triageFix({...fix, state: 'applying'});
					void (async () => {
						const {applyLiveFix} = await import('../commands/live.js');
						const {verify} = await applyLiveFix(await api(), fix.plan!, opts, {timeoutMs: 120_000, signal: ac.signal});
						state().triageFix({
							...state().triage.fix!,
							state: verify.ok ? 'verified' : 'failed',
							verify,
							message: verify.ok ? undefined : `NOT verified: ${verify.message}`,
						});
					})().catch(fail);
					return;
				}
				case 'cancel-fix':
					if (fix?.state === 'applying') return;
					return state().triageFix(undefined);
			}
		},
		stop: () => ac.abort(),
	};
}

/** `kdoctor triage` on a terminal: the live screen until q. */
export async function runTriageTui(c: CompiledKb, opts: TriageOptions & {readOnly: boolean}): Promise<void> {
	const {startTriage} = await import('../commands/triage.js');
	const {createLivePort} = await import('../adapters/kube-live.js');
	const store = createDoctorStore();
	store.getState().triageSet({
		readOnly: opts.readOnly,
		where: opts.allNamespaces ? 'all namespaces' : `namespace ${opts.namespace}${opts.context ? ` (${opts.context})` : ''}`,
	});
	const live = await createLivePort(opts);
	const ac = new AbortController();
	await startTriage(c, opts, (s) => store.getState().triageSnapshot(s), ac.signal, live);
	const intents = triageIntents(c, store, opts, live);
	const stdin = keyboard();
	const app = render(
		<StoreProvider store={store}>
			<TriageScreen onIntent={intents.onIntent} />
		</StoreProvider>,
		{stdin, exitOnCtrlC: false},
	);
	try {
		await app.waitUntilExit();
	} finally {
		ac.abort();
		intents.stop();
		if (stdin !== process.stdin) stdin.destroy();
	}
}
