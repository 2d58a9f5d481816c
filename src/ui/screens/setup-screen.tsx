import {Box, useApp, useInput, type DOMElement, type Key} from 'ink';
import {Frame, keyHints} from '../components/frame.js';
import {Text} from '../components/text.js';
import {useEffect, useRef, useState} from 'react';
import {verdict} from '../../core/setup/checks.js';
import {GROUP_TITLES, type CheckResult, type CheckStatus} from '../../core/setup/types.js';
import {fixLines, MARK, STATUS_WORD} from '../../plain/setup-lines.js';
import type {SetupSlice} from '../../state/store.js';
import {colorWanted, hue, type Hue} from '../color.js';
import {oneKeyAtATime} from '../keyboard.js';
import {useDoctor, useDoctorStore} from '../store-context.js';
import {useTerminalSize} from '../terminal-size.js';

/** What a key press asks of the setup session; the composition root carries it out and reports into the store. */
export type SetupIntent = {type: 'fix'; resultId: string} | {type: 'apply'} | {type: 'cancel-fix'} | {type: 'recheck'};

/** Letters the screen answers to itself, never a fix key. */
export const SETUP_KEYS = new Set(['q', 'j', 'k', 'r']);

const HUE: Record<CheckStatus, Hue> = {ok: 'green', warning: 'yellow', failed: 'red', unknown: 'yellow'};
/** flutter doctor says a check is slow after 10 s; so does this screen. */
export const SLOW_MS = 10_000;

const HELP: [string, string][] = [
	['↑ ↓  j k', 'select a check'],
	['enter', 'details of the selected check'],
	['a–z', 'the fix shown on that key: previewed (exact commands or diff), applied only after y, then checked again'],
	['r', 'run every check again'],
	['esc', 'back'],
	['?', 'this help'],
	['q  ctrl-c', 'quit'],
];

export type SetupRow = {kind: 'result'; result: CheckResult} | {kind: 'running'; id: string; title: string; group: CheckResult['group']};

/** Rows in the checks' order: the results of a check that has ended, a "checking" row for one still running. */
export function setupRows(s: SetupSlice): SetupRow[] {
	return s.checks.flatMap((c): SetupRow[] =>
		s.results[c.id]
			? s.results[c.id]!.map((result) => ({kind: 'result' as const, result}))
			: [{kind: 'running' as const, id: c.id, title: c.title, group: c.group}],
	);
}

function resultRows(s: SetupSlice): CheckResult[] {
	return setupRows(s).flatMap((r) => (r.kind === 'result' ? [r.result] : []));
}

export function SetupScreen({onIntent, color, heading}: {onIntent(i: SetupIntent): void; color?: boolean; heading: string}) {
	const store = useDoctorStore();
	const s = useDoctor((st) => st.setup);
	const {exit} = useApp();
	const on = color ?? colorWanted();
	const {columns} = useTerminalSize();
	const focusRef = useRef<DOMElement>(null);
	const [now, setNow] = useState(Date.now());
	const rows = setupRows(s);
	const results = resultRows(s);
	const running = rows.filter((r) => r.kind === 'running');
	const selected = results[Math.min(s.selected, Math.max(results.length - 1, 0))];

	useEffect(() => {
		if (running.length === 0) return;
		const t = setInterval(() => setNow(Date.now()), 500);
		return () => clearInterval(t);
	}, [running.length]);

	useInput(oneKeyAtATime(handle));

	function handle(input: string, key: Key) {
		const st = store.getState().setup;
		const set = store.getState().setupSet;
		const list = resultRows(st);
		const cur = list[Math.min(st.selected, Math.max(list.length - 1, 0))];
		if (key.ctrl && input === 'c') return exit();
		if (st.fix) {
			if (st.fix.state === 'applying') return;
			if (st.fix.state === 'preview' && input === 'y' && st.fix.ready) return onIntent({type: 'apply'});
			if (key.escape || input === 'n' || input === 'q' || key.return) return onIntent({type: 'cancel-fix'});
			return;
		}
		if (st.help) return set({help: false});
		if (input === '?') return set({help: true});
		if (key.escape) return set({detail: false});
		if (input === 'q') return exit();
		if (key.downArrow || input === 'j') return set({selected: Math.min(st.selected + 1, Math.max(list.length - 1, 0))});
		if (key.upArrow || input === 'k') return set({selected: Math.max(st.selected - 1, 0)});
		if (key.return) return set({detail: !st.detail});
		if (input === 'r') return onIntent({type: 'recheck'});
		if (!input || SETUP_KEYS.has(input)) return;
		// The selected check's fix first; else the one check that offers this key.
		if (cur?.fix?.key === input && cur.status !== 'ok') return onIntent({type: 'fix', resultId: cur.id});
		const offering = list.filter((r) => r.fix?.key === input && r.status !== 'ok');
		if (offering.length === 1) {
			set({selected: list.indexOf(offering[0]!)});
			return onIntent({type: 'fix', resultId: offering[0]!.id});
		}
	}

	if (s.help)
		return (
			<Frame header={<Text bold>kdoctor setup — keys</Text>} footer={<Text dimColor>any key: back</Text>} scrollKey="help" lineKeys>
				{HELP.map(([k, what]) => (
					<Text key={k}>
						{`  ${k.padEnd(12)}`}
						{what}
					</Text>
				))}
			</Frame>
		);

	const v = verdict(results);
	let group: string | undefined;
	return (
		<Frame
			header={<Text bold>{heading}</Text>}
			footer={
				<>
					{running.length > 0 ? (
						<Text dimColor>{`${running.length} check${running.length > 1 ? 's' : ''} still running…`}</Text>
					) : (
						<Text color={hue(on, v.ready ? 'green' : v.failed > 0 ? 'red' : 'yellow')}>
							{`${v.ready ? 'Ready' : v.failed > 0 ? 'Not ready' : 'Not sure'}: ${v.failed} failed, ` +
								`${v.warnings} warning${v.warnings === 1 ? '' : 's'}, ${v.unknown} could not be checked.`}
						</Text>
					)}
					<Text dimColor wrap="truncate-end">
						{keyHints(columns, ['↑↓ select', 'enter details', 'letter: its fix', 'r re-check', 'PgUp/PgDn scroll'], ['? help', 'q quit'])}
					</Text>
				</>
			}
			scrollKey={s.fix ? 'fix' : 'list'}
			focusRef={focusRef}
			keys={!s.fix || s.fix.state === 'preview'}
		>
			{rows.map((r, i) => {
				const g = r.kind === 'result' ? r.result.group : r.group;
				const header = g !== group ? ((group = g), (<Text bold key={`g-${g}-${i}`}>{`\n${GROUP_TITLES[g]}`}</Text>)) : null;
				if (r.kind === 'running') {
					const slow = s.startedAt !== undefined && now - s.startedAt > SLOW_MS;
					return (
						<Box key={`r-${r.id}`} flexDirection="column">
							{header}
							<Text color={hue(on, 'cyan')}>{`  [·] ${r.title}: checking…${slow ? ' (taking longer than usual)' : ''}`}</Text>
						</Box>
					);
				}
				const res = r.result;
				const isSel = res === selected;
				const fixKey = res.fix && res.status !== 'ok' ? `  [${res.fix.key}] ${res.fix.title}` : '';
				return (
					<Box key={`x-${res.id}-${i}`} flexDirection="column" ref={isSel && !s.fix && !s.detail ? focusRef : undefined}>
						{header}
						<Text inverse={isSel}>
							{/* The marker, not only the inverse video: with NO_COLOR no style reaches the terminal. */}
							<Text color={hue(on, HUE[res.status])}>{`${isSel ? '›' : ' '} [${MARK[res.status]}]`}</Text>
							{` ${res.title}: ${res.summary}`}
							<Text color={hue(on, 'cyan')}>{fixKey}</Text>
						</Text>
					</Box>
				);
			})}
			{s.fix || (selected && s.detail) ? (
				<Box ref={focusRef} flexDirection="column">
					{s.fix ? <FixPane fix={s.fix} on={on} /> : <Detail r={selected!} on={on} />}
				</Box>
			) : null}
		</Frame>
	);
}

function Detail({r, on}: {r: CheckResult; on: boolean}) {
	return (
		<Box flexDirection="column" borderStyle="round" paddingX={1}>
			<Text bold>{`${r.title} — ${STATUS_WORD[r.status]}${r.finding ? ` (guards against ${r.finding})` : ''}`}</Text>
			<Text>{r.summary}</Text>
			{r.details.map((d, i) => (
				<Text key={`d${i}`} dimColor>{`• ${d}`}</Text>
			))}
			{fixLines(r).map((l, i) => (
				<Text key={`f${i}`} color={l.startsWith('fix') ? hue(on, 'cyan') : undefined}>
					{l}
				</Text>
			))}
		</Box>
	);
}

function FixPane({fix, on}: {fix: NonNullable<SetupSlice['fix']>; on: boolean}) {
	const foot =
		fix.state === 'preview'
			? fix.ready
				? 'y apply (journaled) · n / esc cancel'
				: 'cannot be applied here · esc back'
			: fix.state === 'applying'
				? 'applying…'
				: 'any key: back';
	return (
		<Box flexDirection="column" borderStyle="round" paddingX={1}>
			{fix.lines.map((l, i) => (
				<Text key={`l${i}`} color={l.startsWith('+') ? hue(on, 'green') : l.startsWith('-') ? hue(on, 'red') : undefined}>
					{l}
				</Text>
			))}
			{fix.message ? (
				<Text color={hue(on, fix.state === 'done' ? 'green' : fix.state === 'failed' ? 'red' : undefined)}>{fix.message}</Text>
			) : null}
			<Text dimColor>{foot}</Text>
		</Box>
	);
}
