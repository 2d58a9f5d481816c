import {createStore, type StoreApi} from 'zustand/vanilla';
import type {Diagnosis} from '../core/diagnose/diagnose.js';
import type {Finding} from '../core/diagnose/score.js';
import type {RemediationPlan} from '../core/remediate/plan.js';

export type View = 'list' | 'detail' | 'help' | 'preview' | 'search';
export type Message = {kind: 'ok' | 'error' | 'info'; text: string};

export type InputResult = {file: string; diagnosis?: Diagnosis; error?: string};

/** A finding as the screen lists it: with the file it came from. */
export type Row = {file: string; finding: Finding};

export type DoctorState = {
	inputs: InputResult[];
	rows: Row[];
	selected: number;
	view: View;
	filter: string;
	filtering: boolean;
	plan?: RemediationPlan;
	/** A fix is being applied: a second key press must not apply it twice. */
	busy: boolean;
	message?: Message;
	search: string;
	setInputs(inputs: InputResult[]): void;
	/** Selects a row; the screen clamps the index to what it shows. */
	select(index: number): void;
	setView(view: View): void;
	setFilter(filter: string): void;
	setFiltering(on: boolean): void;
	setSearch(text: string): void;
	showPlan(plan: RemediationPlan | undefined): void;
	setBusy(busy: boolean): void;
	say(message: Message | undefined): void;
};

export type DoctorStore = StoreApi<DoctorState>;

function rowsOf(inputs: InputResult[]): Row[] {
	return inputs.flatMap((i) => (i.diagnosis ? i.diagnosis.findings.map((finding) => ({file: i.file, finding})) : []));
}

/** One store per session; engines report into it through these actions, screens only read it. */
export function createDoctorStore(initial: Partial<Pick<DoctorState, 'inputs' | 'view'>> = {}): DoctorStore {
	return createStore<DoctorState>()((set) => ({
		inputs: initial.inputs ?? [],
		rows: rowsOf(initial.inputs ?? []),
		selected: 0,
		view: initial.view ?? 'list',
		filter: '',
		filtering: false,
		busy: false,
		search: '',
		setInputs: (inputs) => set({inputs, rows: rowsOf(inputs), selected: 0}),
		select: (index) => set({selected: Math.max(0, index)}),
		setView: (view) => set({view}),
		setFilter: (filter) => set({filter, selected: 0}),
		setFiltering: (filtering) => set({filtering}),
		setSearch: (search) => set({search, selected: 0}),
		showPlan: (plan) => set({plan, view: plan ? 'preview' : 'detail'}),
		setBusy: (busy) => set({busy}),
		say: (message) => set({message}),
	}));
}
