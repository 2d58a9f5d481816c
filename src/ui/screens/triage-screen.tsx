import {Box, useApp, useInput, type DOMElement, type Key} from 'ink';
import {useRef} from 'react';
import {Frame, keyHints} from '../components/frame.js';
import {Text} from '../components/text.js';
import {REPORT_CONFIDENCE} from '../../core/diagnose/score.js';
import type {TimelineItem, TriageSnapshot, TriageWorkload} from '../../core/cluster/engine.js';
import type {TriageFix, TriageSlice} from '../../state/store.js';
import {colorWanted, hue} from '../color.js';
import {clip} from '../components/finding-list.js';
import {oneKeyAtATime} from '../keyboard.js';
import {useDoctor, useDoctorStore} from '../store-context.js';
import {useTerminalSize} from '../terminal-size.js';

/** What a key press asks of the live session; the composition root carries it out and reports into the store. */
export type TriageIntent =
	{type: 'fix'; workload: string; key: string} | {type: 'answer'; value: string} | {type: 'apply'} | {type: 'cancel-fix'} | {type: 'undo'};

/** Letters the screen answers to itself; a fix on one of these is pressed with Shift. */
export const TRIAGE_KEYS = new Set(['q', 'j', 'k', 'l', 'e', 'd', 'u']);
const fixLabel = (key: string) => (TRIAGE_KEYS.has(key) ? key.toUpperCase() : key);

const HELP: [string, string][] = [
	['↑ ↓  j k', 'select a workload'],
	['enter', 'details: the finding, its evidence, and events and logs on one timeline'],
	['l  e  d', 'logs only, events only, pods and containers (describe)'],
	['/', 'filter by workload name or finding id (esc clears)'],
	['a–z', 'the fix on that key (previewed first, applied only after y; Shift+letter when shown in capitals)'],
	['u', 'undo the newest change kdoctor made (any kind, made anywhere): previewed first, undone only after y'],
	['esc', 'back'],
	['?', 'this help'],
	['q  ctrl-c', 'quit'],
];

/** Failing workloads first (ranked by the top finding's confidence), then those still settling. */
export function visibleWorkloads(s: TriageSnapshot | undefined, filter: string): TriageWorkload[] {
	if (!s) return [];
	const f = filter.toLowerCase();
	const match = (w: TriageWorkload) =>
		!f || w.name.toLowerCase().includes(f) || w.findings.some((x) => x.id.includes(f)) || w.kind.toLowerCase().includes(f);
	return [...s.failing, ...s.settling].filter(match);
}

export function TriageScreen({onIntent, color}: {onIntent(i: TriageIntent): void; color?: boolean}) {
	const store = useDoctorStore();
	const t = useDoctor((s) => s.triage);
	const {exit} = useApp();
	const {columns} = useTerminalSize();
	const width = Math.max(20, Math.min(columns, 200) - 1);
	const fixRef = useRef<DOMElement>(null);
	const on = color ?? colorWanted();
	const rows = visibleWorkloads(t.snapshot, t.filter);
	const selected = rows.find((w) => w.key === t.selected) ?? rows[0];
	const set = store.getState().triageSet;

	useInput(oneKeyAtATime(handle));

	function handle(input: string, key: Key) {
		// Keys can arrive faster than frames: read the store as it is now, not as this render saw it.
		const t = store.getState().triage;
		const rows = visibleWorkloads(t.snapshot, t.filter);
		const selected = rows.find((w) => w.key === t.selected) ?? rows[0];
		const fix = t.fix;
		if (key.ctrl && input === 'c') return exit();
		if (fix?.state === 'asking') {
			if (key.escape) return onIntent({type: 'cancel-fix'});
			if (key.return) return onIntent({type: 'answer', value: fix.input});
			if (key.backspace || key.delete) return store.getState().triageFix({...fix, input: fix.input.slice(0, -1)});
			if (input && !key.ctrl && !key.meta) return store.getState().triageFix({...fix, input: fix.input + input});
			return;
		}
		if (fix?.state === 'preview') {
			if (input === 'y') return onIntent({type: 'apply'});
			if (input === 'n' || key.escape) return onIntent({type: 'cancel-fix'});
			return;
		}
		if (fix && (fix.state === 'verified' || fix.state === 'failed') && (key.escape || key.return)) return onIntent({type: 'cancel-fix'});
		if (fix?.state === 'applying' || fix?.state === 'planning') return;
		if (t.filtering) {
			if (key.escape) return set({filtering: false, filter: ''});
			if (key.return) return set({filtering: false});
			if (key.backspace || key.delete) return set({filter: t.filter.slice(0, -1)});
			if (input && !key.ctrl && !key.meta) return set({filter: t.filter + input});
			return;
		}
		if (input === 'q') return exit();
		if (input === '?') return set({view: t.view === 'help' ? 'list' : 'help'});
		if (key.escape)
			return set({view: t.view === 'list' ? 'list' : t.view === 'detail' ? 'list' : 'detail', ...(t.view === 'list' ? {filter: ''} : {})});
		if (input === '/') return set({filtering: true, filter: ''});
		// A fixed workload may have left the failing list: u works with nothing selected.
		if (input === 'u' && !t.readOnly) return onIntent({type: 'undo'});
		const i = Math.max(
			0,
			rows.findIndex((w) => w.key === selected?.key),
		);
		// Outside the list ↑↓ scroll the page (the frame's keys); esc goes back to pick another workload.
		const listing = t.view === 'list';
		if ((key.upArrow || input === 'k') && listing) return rows.length && set({selected: rows[Math.max(0, i - 1)]!.key});
		if ((key.downArrow || input === 'j') && listing) return rows.length && set({selected: rows[Math.min(rows.length - 1, i + 1)]!.key});
		if (!selected) return;
		if (key.return) return set({view: 'detail', selected: selected.key});
		if (input === 'l') return set({view: 'logs', selected: selected.key});
		if (input === 'e') return set({view: 'events', selected: selected.key});
		if (input === 'd') return set({view: 'describe', selected: selected.key});
		if (t.readOnly || !input || input.length !== 1) return;
		const wanted = TRIAGE_KEYS.has(input.toLowerCase()) ? (input === input.toUpperCase() ? input.toLowerCase() : undefined) : input;
		const rem = selected.findings[0]?.remediations.find((r) => r.key === wanted && r.kind === 'kube-patch');
		if (rem) onIntent({type: 'fix', workload: selected.key, key: rem.key});
	}

	const listing = t.view === 'list' || !selected;
	const at = Math.max(
		0,
		rows.findIndex((w) => w.key === selected?.key),
	);
	const page = (n: number) => {
		const to = Number.isFinite(n) ? Math.max(0, Math.min(rows.length - 1, at + n)) : n < 0 ? 0 : rows.length - 1;
		if (rows[to]) set({selected: rows[to]!.key});
	};
	return (
		<Frame
			header={<Header s={t.snapshot} where={t.where} readOnly={t.readOnly} on={on} />}
			footer={
				<Text dimColor wrap="truncate-end">
					{t.filtering ? `/${t.filter}▏  (enter keeps it, esc clears)` : footer(t, width)}
				</Text>
			}
			scrollKey={t.fix ? `fix:${t.fix.state}` : `${t.view}:${listing ? '' : selected?.key}`}
			focus={t.fix || t.view === 'help' || !listing || rows.length === 0 ? undefined : at}
			focusRef={t.fix ? fixRef : undefined}
			lineKeys={!listing || t.view === 'help'}
			keys={!t.filtering && t.fix?.state !== 'asking'}
			onPage={listing && !t.fix && t.view !== 'help' ? page : undefined}
		>
			{t.view === 'help' ? (
				<Help />
			) : listing ? (
				<List rows={rows} selected={selected?.key} width={width} on={on} settled={t.snapshot?.healthy ?? 0} />
			) : (
				<Detail w={selected} view={t.view} width={width} readOnly={t.readOnly} on={on} />
			)}
			{t.fix ? (
				<Box ref={fixRef} flexDirection="column">
					<FixPanel fix={t.fix} on={on} />
				</Box>
			) : null}
		</Frame>
	);
}

function footer(t: TriageSlice, width: number): string {
	const fixes = t.readOnly ? ['read-only'] : ['letters: fixes', 'u undo'];
	const keys =
		t.view === 'list'
			? ['↑↓ select', 'enter details', ...fixes, 'l logs', 'e events', 'd describe', '/ filter']
			: ['esc back', ...fixes, '↑↓ PgUp/PgDn scroll', 'l logs', 'e events', 'd describe'];
	// A filter in force is said first: it explains why rows are missing.
	const shown = t.filter ? `filter: ${t.filter} · ` : '';
	return shown + keyHints(width - shown.length, keys, ['? help', 'q quit']);
}

function Header({s, where, readOnly, on}: {s?: TriageSnapshot; where: string; readOnly: boolean; on: boolean}) {
	if (!s) return <Text>{`kdoctor triage — ${where}: listing…`}</Text>;
	const watching = s.resources.every((r) => r.state === 'watching');
	const trouble = s.resources.filter((r) => r.state !== 'watching');
	return (
		<Box flexDirection="column" marginBottom={1}>
			<Text>
				<Text bold>{`kdoctor triage — ${where}`}</Text>
				{`  ${s.pods} pods · ${s.workloads} workloads · `}
				<Text color={hue(on, 'green')}>{`${s.healthy} healthy`}</Text>
				{' · '}
				<Text color={hue(on, s.failing.length ? 'red' : undefined)}>{`${s.failing.length} failing`}</Text>
				{` · ${s.settling.length} settling`}
				<Text
					dimColor
				>{`  ${watching ? 'live' : trouble.map((r) => `${r.resource} ${r.state}`).join(', ')}${readOnly ? ' · read-only' : ''}`}</Text>
			</Text>
			{s.couldNotLook.map((c) => (
				<Text key={c} color={hue(on, 'yellow')}>{`could not look: ${c} — what is shown was checked without it`}</Text>
			))}
		</Box>
	);
}

function List({
	rows,
	selected,
	width,
	on,
	settled,
}: {
	rows: TriageWorkload[];
	selected?: string;
	width: number;
	on: boolean;
	settled: number;
}) {
	if (rows.length === 0) return <Text color={hue(on, 'green')}>{`✓ nothing unhealthy (${settled} workloads healthy)`}</Text>;
	const nameWidth = Math.min(36, Math.max(...rows.map((w) => `${w.kind.toLowerCase()}/${w.name}`.length)));
	return (
		<Box flexDirection="column">
			{rows.map((w) => {
				const f = w.findings[0];
				const isSel = w.key === selected;
				const name = clip(`${w.kind.toLowerCase()}/${w.name}`, nameWidth).padEnd(nameWidth);
				const mark = w.state === 'settling' ? '…' : f && f.confidence >= REPORT_CONFIDENCE ? '✗' : '?';
				const what =
					w.state === 'settling'
						? `settling: not ready yet (grace ends in ${Math.max(0, Math.round(((w.settlesAt ?? 0) - Date.now()) / 1000))}s)`
						: f
							? `${String(Math.round(f.confidence * 100)).padStart(3)}%  ${f.title}`
							: w.diagnosedAt
								? 'no known cause'
								: 'diagnosing…';
				return (
					<Text key={w.key} wrap="truncate">
						<Text color={hue(on, isSel ? 'cyan' : undefined)}>{isSel ? '›' : ' '}</Text>
						<Text color={hue(on, w.state === 'settling' ? 'gray' : mark === '✗' ? 'red' : 'yellow')}>{` ${mark} `}</Text>
						<Text bold={isSel} inverse={isSel}>
							{name}
						</Text>
						<Text>{`  ${clip(what, Math.max(10, width - nameWidth - 36))}`}</Text>
						<Text dimColor>{`  ${f ? f.id : ''}  ${w.troubled.length}/${w.pods.length} pods`}</Text>
					</Text>
				);
			})}
		</Box>
	);
}

function Detail({w, view, width, readOnly, on}: {w: TriageWorkload; view: string; width: number; readOnly: boolean; on: boolean}) {
	const f = w.findings[0];
	const timeline = w.timeline
		.filter((x) => (view === 'logs' ? x.source === 'log' : view === 'events' ? x.source === 'event' : true))
		.slice(-200);
	return (
		<Box flexDirection="column">
			<Text bold>{`${w.kind.toLowerCase()}/${w.name}  (namespace ${w.namespace})`}</Text>
			{w.final ? <Text color={hue(on, 'red')}>{clip(w.final, width)}</Text> : null}
			{view === 'describe' ? (
				<Describe w={w} width={width} />
			) : (
				<>
					{f && view === 'detail' ? (
						<Box flexDirection="column" marginTop={1}>
							<Text>
								<Text color={hue(on, f.confidence >= REPORT_CONFIDENCE ? 'red' : 'yellow')}>
									{f.confidence >= REPORT_CONFIDENCE ? '✗ ' : '? '}
								</Text>
								<Text bold>{f.title}</Text>
								<Text dimColor>{`  [${f.id} · ${Math.round(f.confidence * 100)}%]`}</Text>
							</Text>
							{f.evidence.slice(0, 6).map((e, i) => (
								<Text key={i}>{`  ${clip(e.text.trim(), width - 4)}`}</Text>
							))}
							{readOnly
								? null
								: f.remediations.map((r) => (
										<Text
											key={r.key}
											color={hue(on, r.kind === 'kube-patch' ? 'cyan' : undefined)}
											dimColor={r.kind !== 'kube-patch'}
										>{`  [${fixLabel(r.key)}] ${r.title}${r.kind === 'kube-patch' ? '' : ` (${r.kind})`}`}</Text>
									))}
							{w.findings.slice(1, 3).map((o) => (
								<Text key={o.id} dimColor>{`  also possible: ${o.id} ${Math.round(o.confidence * 100)}%`}</Text>
							))}
						</Box>
					) : null}
					<Box flexDirection="column" marginTop={1}>
						<Text dimColor>
							{view === 'logs'
								? 'logs (current and previous containers)'
								: view === 'events'
									? 'events'
									: 'timeline: events, status and logs'}
						</Text>
						{timeline.length === 0 ? (
							<Text dimColor> (nothing yet)</Text>
						) : (
							timeline.map((x, i) => <Text key={i}>{line(x, view === 'detail' ? width : Number.POSITIVE_INFINITY)}</Text>)
						)}
					</Box>
					{w.couldNotRead.map((c) => (
						<Text key={c} color={hue(on, 'yellow')}>{`could not read: ${c}`}</Text>
					))}
				</>
			)}
		</Box>
	);
}

function line(x: TimelineItem, width: number): string {
	const at = x.at.slice(11, 19);
	const who = x.source === 'log' ? `${x.container}${x.previous ? ' (prev)' : ''}` : x.source;
	return clip(`  ${at}  ${who.padEnd(12)} ${x.text}`, width);
}

function Describe({w, width}: {w: TriageWorkload; width: number}) {
	return (
		<Box flexDirection="column" marginTop={1}>
			{w.pods.map((p) => (
				<Box key={p.name} flexDirection="column">
					<Text bold>
						{`${p.name}  ` +
							`${p.phase}${p.ready ? ' ready' : ' not ready'}${p.unschedulableMessage ? `  unschedulable: ${p.unschedulableMessage}` : ''}`}
					</Text>
					{p.containers.map((c) => (
						<Text key={c.name}>
							{clip(
								`  ${c.name}  ${c.image}  restarts ` +
									`${c.restartCount}${c.waitingReason ? `  waiting: ${c.waitingReason}` : ''}` +
									`${c.lastTerminatedReason ? `  last: ${c.lastTerminatedReason} (exit ${c.lastExitCode ?? '?'})` : ''}`,
								width,
							)}
						</Text>
					))}
				</Box>
			))}
		</Box>
	);
}

function FixPanel({fix, on}: {fix: TriageFix; on: boolean}) {
	return (
		<Box flexDirection="column" borderStyle="round" paddingX={1} marginTop={1}>
			<Text bold>{fix.undo ? fix.undo.title : `[${fix.key}] ${fix.plan?.title ?? 'fix'}`}</Text>
			{fix.undo && fix.state === 'preview' ? <Text>{fix.undo.change}</Text> : null}
			{fix.state === 'asking' ? (
				<>
					<Text>{fix.ask}</Text>
					<Text color={hue(on, 'cyan')}>{`> ${fix.input}▏`}</Text>
					<Text dimColor>enter: preview the change · esc: cancel</Text>
				</>
			) : null}
			{fix.state === 'planning' ? <Text dimColor>working out the change…</Text> : null}
			{(fix.undo?.diff ?? fix.plan?.diff) && fix.state !== 'asking'
				? (fix.undo?.diff ?? fix.plan!.diff!)
						.trimEnd()
						.split('\n')
						.map((l, i) => (
							<Text key={i} color={hue(on, l.startsWith('+') ? 'green' : l.startsWith('-') ? 'red' : undefined)}>
								{l}
							</Text>
						))
				: null}
			{fix.state === 'preview' ? (
				<Text color={hue(on, 'yellow')}>
					{fix.undo
						? 'take this change back? y: undo · n: keep it'
						: 'apply this change to the cluster? y: apply (journaled; kdoctor undo reverts it) · n: cancel'}
				</Text>
			) : null}
			{fix.state === 'applying' ? <Text>{fix.undo ? 'undoing…' : 'applying, then watching the rollout…'}</Text> : null}
			{fix.state === 'verified' && fix.undo ? <Text color={hue(on, 'green')}>{`✓ ${fix.message ?? 'undone'} (enter)`}</Text> : null}
			{fix.state === 'verified' && !fix.undo ? (
				<Text color={hue(on, 'green')}>{`✓ verified: ${fix.verify?.message ?? ''} — kdoctor undo reverts it (enter)`}</Text>
			) : null}
			{fix.state === 'failed' ? <Text color={hue(on, 'red')}>{`✗ ${fix.message ?? fix.verify?.message ?? 'failed'} (enter)`}</Text> : null}
		</Box>
	);
}

function Help() {
	return (
		<Box flexDirection="column">
			{HELP.map(([k, v]) => (
				<Text key={k}>{`  ${k.padEnd(12)} ${v}`}</Text>
			))}
		</Box>
	);
}
