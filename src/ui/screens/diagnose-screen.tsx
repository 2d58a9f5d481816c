import {Box, useApp, useInput, useStdin} from 'ink';
import {Text} from '../components/text.js';
import {useMemo} from 'react';
import {REPORT_CONFIDENCE} from '../../core/diagnose/score.js';
import type {Entry} from '../../core/kb/schema.js';
import type {DiagnoseIntents} from '../../commands/remediation-intents.js';
import {FindingDetail, Fixes} from '../components/finding-detail.js';
import {clip, FindingList} from '../components/finding-list.js';
import {Frame, keyHints} from '../components/frame.js';
import {PlanView} from '../components/plan-view.js';
import {oneKeyAtATime} from '../keyboard.js';
import {fuzzyFilter} from '../fuzzy.js';
import {useDoctor, useDoctorStore} from '../store-context.js';
import {useTerminalSize} from '../terminal-size.js';

export type {DiagnoseIntents} from '../../commands/remediation-intents.js';

type DiagnoseScreenProps = {entries: Map<string, Entry>; intents: DiagnoseIntents};

const HELP: [string, string][] = [
	['↑ ↓  j k', 'move'],
	['enter  →', 'details: evidence in context, why this confidence'],
	['esc  ←', 'back'],
	['/', 'filter the findings (fuzzy)'],
	['s', 'search the knowledge base (fuzzy)'],
	['a–z', 'the fix on that key: preview, then y to apply'],
	['u', "undo what kdoctor undo would (this screen's change first): preview, then y"],
	['+', 'no confident cause: draft a team entry from this failure (kdoctor kb new), then y'],
	['?', 'this help'],
	['q  ctrl-c', 'quit'],
];

/** The interactive result of `kdoctor diagnose`: ranked findings, details, previews of fixes. */
export function DiagnoseScreen({entries, intents}: DiagnoseScreenProps) {
	const store = useDoctorStore();
	const inputs = useDoctor((s) => s.inputs);
	const rows = useDoctor((s) => s.rows);
	const selectedRaw = useDoctor((s) => s.selected);
	const view = useDoctor((s) => s.view);
	const filter = useDoctor((s) => s.filter);
	const filtering = useDoctor((s) => s.filtering);
	const plan = useDoctor((s) => s.plan);
	const busy = useDoctor((s) => s.busy);
	const message = useDoctor((s) => s.message);
	const search = useDoctor((s) => s.search);
	const {exit} = useApp();
	const {isRawModeSupported} = useStdin();
	const {columns} = useTerminalSize();
	const width = Math.min(columns, 160);

	const visible = useMemo(
		() =>
			fuzzyFilter(
				rows,
				filter,
				(r) => [r.finding.id, r.finding.title, r.file],
				(r) => [r.finding.summary],
			),
		[rows, filter],
	);
	const kbHits = useMemo(() => {
		const all = [...entries.values()];
		if (!search) return all.slice(0, 12);
		return fuzzyFilter(
			all,
			search,
			(e) => [e.id, e.title],
			(e) => [e.summary, ...e.signals.map((x) => x.means)],
		).slice(0, 12);
	}, [entries, search]);

	// No confident cause in a file (stdin cannot be read twice): the failure can become the team's own entry.
	const causes = rows.filter((r) => r.finding.confidence >= REPORT_CONFIDENCE).length;
	const draftFile = causes === 0 ? inputs.find((i) => i.file !== '-' && i.diagnosis?.status === 'ok')?.file : undefined;
	const listLength = view === 'search' ? kbHits.length : visible.length;
	const selected = listLength === 0 ? 0 : Math.max(0, Math.min(selectedRaw, listLength - 1));
	const current = visible[selected];

	useInput(
		oneKeyAtATime((input, key) => {
			const s = store.getState();
			// A burst of keys can change the view half-way: read it as it is now.
			const view = s.view;
			if (key.ctrl && input === 'c') return exit();
			if (s.filtering) {
				if (key.escape) {
					s.setFilter('');
					s.setFiltering(false);
				} else if (key.return) s.setFiltering(false);
				else if (key.backspace || key.delete) s.setFilter(s.filter.slice(0, -1));
				else if (input && !key.ctrl && !key.meta) s.setFilter(s.filter + input);
				return;
			}
			if (view === 'entry') {
				if (key.escape || key.leftArrow) s.setView('search');
				else if (input === 'q') exit();
				return;
			}
			if (view === 'search') {
				if (key.escape) {
					s.setSearch('');
					s.setView('list');
				} else if (key.return) {
					// Enter opens the entry, as in the KB's own kb show.
					if (kbHits[selected]) s.setView('entry');
				} else if (key.upArrow) s.select(selected - 1);
				else if (key.downArrow) s.select(selected + 1);
				else if (key.backspace || key.delete) s.setSearch(s.search.slice(0, -1));
				else if (input && !key.ctrl && !key.meta && !key.return) s.setSearch(s.search + input);
				return;
			}
			if (view === 'preview') {
				if (input === 'y' && plan?.status === 'ready' && !busy) intents.apply();
				else if (input === 'n' || key.escape || key.leftArrow) {
					intents.cancel?.();
					s.showPlan(undefined);
				} else if (input === 'q') exit();
				return;
			}
			if (view === 'draft') {
				if (input === 'y' && draftFile) intents.draft?.(draftFile);
				else if (input === 'n' || key.escape || key.leftArrow) s.setView('list');
				else if (input === 'q') exit();
				return;
			}
			if (view === 'help') {
				if (key.escape || input === '?' || input === 'q' || key.return) s.setView('list');
				return;
			}
			if (input === 'q') return exit();
			if (input === '?') return s.setView('help');
			if (input === '/') return s.setFiltering(true);
			if (input === 's') {
				s.setView('search');
				return;
			}
			if (input === 'u') return intents.undo();
			if (input === '+' && draftFile && intents.draft) return s.setView('draft');
			// In the details ↑↓ scroll the page (the frame's keys); esc goes back to the list to pick another.
			if ((key.upArrow || input === 'k') && view !== 'detail') return s.select(selected - 1);
			if ((key.downArrow || input === 'j') && view !== 'detail') return s.select(selected + 1);
			if (key.return || key.rightArrow) return s.setView('detail');
			if (key.escape || key.leftArrow) {
				s.say(undefined);
				return s.setView('list');
			}
			if (current && /^[a-z]$/.test(input) && current.finding.remediations.some((r) => r.key === input)) {
				intents.preview(current, input);
			}
		}),
		{isActive: isRawModeSupported === true},
	);

	const lines = inputs.reduce((n, i) => n + (i.diagnosis?.stats.lines ?? 0), 0);
	const files = inputs.map((i) => i.file).join(', ');
	const rule = '─'.repeat(Math.max(10, width - 2));
	const filterLine = filtering || filter ? 1 : 0;
	// The selected row stays in view in the lists; the long views scroll line by line instead.
	const focus = view === 'search' ? 1 + selected : view === 'list' && rows.length > 0 ? filterLine + selected : undefined;

	const header = (
		<>
			<Text wrap="truncate-end">
				<Text bold>kdoctor diagnose</Text>
				<Text>{` ${clip(files, Math.max(10, width - 60))} · ${lines.toLocaleString('en-US')} line${lines === 1 ? '' : 's'} · `}</Text>
				{causes > 0 ? (
					<Text color="red">{`${causes} likely cause${causes === 1 ? '' : 's'}`}</Text>
				) : (
					<Text color="green">no confident cause</Text>
				)}
				<Text dimColor>{`${rows.length - causes > 0 ? `, ${rows.length - causes} possible` : ''}   ? help`}</Text>
			</Text>
			<Text dimColor>{rule}</Text>
		</>
	);

	const footer = (
		<>
			{message ? <Text color={message.kind === 'error' ? 'red' : message.kind === 'ok' ? 'green' : 'yellow'}>{message.text}</Text> : null}
			<Text dimColor wrap="truncate-end">
				{view === 'preview'
					? keyHints(
							width,
							[plan?.status === 'ready' && 'y apply', plan?.status === 'ready' ? 'n/esc cancel' : 'esc back', 'PgUp/PgDn scroll'],
							['q quit'],
						)
					: view === 'entry'
						? keyHints(width, ['esc back to the search', '↑↓ scroll'], ['q quit'])
						: view === 'draft'
							? keyHints(width, ['y draft it', 'n/esc cancel'], ['q quit'])
							: view === 'search'
								? keyHints(width, ['type to search', '↑↓ move', 'enter open'], ['esc back'])
								: view === 'detail'
									? keyHints(width, ['esc back', 'letters: fixes', '↑↓ PgUp/PgDn g/G scroll', 'u undo'], ['? help', 'q quit'])
									: keyHints(
											width,
											[
												'↑↓ move',
												'enter details',
												draftFile && intents.draft && '+ draft your own',
												'letters: fixes',
												'u undo',
												'/ filter',
												's search KB',
												'esc back',
											],
											['? help', 'q quit'],
										)}
			</Text>
		</>
	);

	const body =
		view === 'help' ? (
			<Box flexDirection="column">
				{HELP.map(([k, what]) => (
					<Text key={k}>
						<Text color="green">{k.padEnd(12)}</Text>
						{what}
					</Text>
				))}
			</Box>
		) : view === 'search' ? (
			<Box flexDirection="column">
				<Text>
					<Text color="cyan">search KB: </Text>
					{search}
					<Text inverse> </Text>
				</Text>
				{kbHits.map((e, i) => (
					<Text key={e.id} wrap="truncate-end">
						<Text color={i === selected ? 'cyan' : undefined}>{i === selected ? '› ' : '  '}</Text>
						<Text bold={i === selected}>{e.id.padEnd(Math.min(30, Math.max(12, width - 40)))}</Text>
						<Text dimColor>{` ${e.layer.padEnd(9)} `}</Text>
						<Text>{clip(e.title, Math.max(10, width - 45))}</Text>
					</Text>
				))}
				{kbHits[selected] ? (
					<Box marginTop={1}>
						<Text dimColor>{kbHits[selected]!.summary.trim()}</Text>
					</Box>
				) : (
					<Text dimColor>no entry matches</Text>
				)}
			</Box>
		) : view === 'entry' && kbHits[selected] ? (
			<EntryView entry={kbHits[selected]!} width={width} />
		) : view === 'draft' && draftFile ? (
			<Box flexDirection="column">
				<Text>{`Draft a team entry from ${draftFile}: kdoctor kb new --from ${draftFile}`}</Text>
				<Text dimColor>
					It writes .kdoctor/knowledge/ID.yaml from the failing line (never over a file), opens it in $EDITOR, then lints and tests it.
				</Text>
			</Box>
		) : view === 'preview' && plan ? (
			<PlanView plan={plan} width={width} busy={busy} />
		) : rows.length === 0 ? (
			<Box flexDirection="column">
				{inputs.some((i) => i.diagnosis?.status === 'empty') ? (
					<Text color="yellow">The input is empty: there was nothing to look at (this is not a clean bill of health).</Text>
				) : inputs.some((i) => i.diagnosis?.unmatched?.length) ? (
					<Box flexDirection="column">
						<Text color="yellow">No known cause matched. The lines that look most like the failure:</Text>
						{inputs.flatMap((i) =>
							(i.diagnosis?.unmatched ?? []).map((u) => (
								<Text key={`${i.file}:${u.line}`} wrap="truncate-end">
									<Text color="cyan">{`  ${String(u.line).padStart(6)}`}</Text>
									<Text>{`│ ${clip(u.text.trim(), Math.max(20, width - 30))}`}</Text>
									<Text dimColor>{`  (${u.why})`}</Text>
								</Text>
							)),
						)}
					</Box>
				) : (
					<Text color="green">No known failure found in this output.</Text>
				)}
				<Text dimColor>
					kdoctor knows {entries.size} failure classes; press s to search them{draftFile && intents.draft ? ', + to draft your own' : ''}.
				</Text>
			</Box>
		) : (
			<Box flexDirection="column">
				{filtering || filter ? (
					<Text>
						<Text color="cyan">/</Text>
						{filter}
						{filtering ? <Text inverse> </Text> : null}
						<Text dimColor>{`  ${visible.length} of ${rows.length}`}</Text>
					</Text>
				) : null}
				{view === 'list' ? <FindingList rows={visible} selected={selected} width={width} showFile={inputs.length > 1} /> : null}
				{current ? (
					<Box marginTop={view === 'list' ? 1 : 0} flexDirection="column">
						{view === 'list' ? <Text dimColor>{rule}</Text> : null}
						<FindingDetail
							finding={current.finding}
							entry={entries.get(current.finding.id)!}
							file={current.file}
							width={width}
							full={view === 'detail'}
						/>
					</Box>
				) : null}
			</Box>
		);

	return (
		<Frame
			header={header}
			footer={footer}
			scrollKey={`${view}:${view === 'detail' || view === 'entry' ? selected : ''}`}
			focus={focus}
			lineKeys={focus === undefined}
			keys={!filtering && view !== 'search'}
			onPage={
				focus === undefined ? undefined : (n) => store.getState().select(Number.isFinite(n) ? selected + n : n < 0 ? 0 : listLength - 1)
			}
		>
			{body}
		</Frame>
	);
}

/** A KB entry opened from the search: what it is, what recognises it, what it is confused with, and its fixes. */
function EntryView({entry, width}: {entry: Entry; width: number}) {
	return (
		<Box flexDirection="column">
			<Text>
				<Text bold>{entry.title}</Text>
				<Text dimColor>{`  [${entry.id} · ${entry.layer}]`}</Text>
			</Text>
			<Text>{entry.summary.trim()}</Text>
			<Box marginTop={1} flexDirection="column">
				<Text bold>Recognised by</Text>
				{entry.signals
					.filter((x) => x.role !== 'against')
					.slice(0, 8)
					.map((x) => (
						<Text key={x.id}>{`  ${clip(x.means, Math.max(20, width - 4))}`}</Text>
					))}
			</Box>
			{entry.confusedWith.length > 0 ? (
				<Box marginTop={1} flexDirection="column">
					<Text bold>Not to be confused with</Text>
					{entry.confusedWith.map((c) => (
						<Text key={c.id}>{`  ${c.id}: ${clip(c.tellApart, Math.max(20, width - 8 - c.id.length))}`}</Text>
					))}
				</Box>
			) : null}
			<Fixes fixes={entry.remediations} />
		</Box>
	);
}
