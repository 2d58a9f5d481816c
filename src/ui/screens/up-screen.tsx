import {Box, useApp, useInput, useStdin} from 'ink';
import {Frame, keyHints} from '../components/frame.js';
import {Text} from '../components/text.js';
import {useEffect, useMemo, useState} from 'react';
import {formatDuration} from '../../plain/up-lines.js';
import type {UpSlice, UpStep} from '../../state/store.js';
import {colorWanted, hue} from '../color.js';
import {DiagnosisPanel} from '../components/diagnosis-panel.js';
import {Gantt} from '../components/gantt.js';
import {StepTail} from '../components/step-tail.js';
import {oneKeyAtATime} from '../keyboard.js';
import {useTerminalSize} from '../terminal-size.js';
import {useDoctor, useDoctorStore} from '../store-context.js';

/** What a key press asks the run to do; the composition root wires it. */
export type UpIntent = {type: 'remediation'; findingId: string; key: string};

export type UpScreenProps = {
	/** q or Ctrl-C during the run: stop it (a second Ctrl-C calls it again, so the runner may escalate). */
	onCancel(): void;
	onIntent(intent: UpIntent): void;
	/** Wall clock for live durations; the latest event time is a floor, so a fixed clock gives fixed frames. */
	clock?: () => number;
	/** Redraw period while the run goes on (spinner, live durations, elapsed); 0 draws only on events and keys. */
	tickMs?: number;
	/** Colour on or off; defaults to the environment (NO_COLOR, FORCE_COLOR=0). */
	color?: boolean;
};

/** Letters the screen itself answers to; a fix on one of these keys is pressed with Shift instead. */
export const SCREEN_KEYS = new Set(['q', 't', 'j', 'k']);
export const remediationKeyLabel = (key: string) => (SCREEN_KEYS.has(key) ? key.toUpperCase() : key);

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

const HELP: [string, string][] = [
	['↑ ↓  j k', 'select a step'],
	['enter  t', "show or hide the selected step's output (its last 15 lines)"],
	['esc', 'hide the output, close this help'],
	['a–z', 'the fix on that key in the diagnosis panel (Shift+letter when shown in capitals)'],
	['?', 'this help'],
	['q  ctrl-c', 'stop the run (running steps are stopped); once it is over, quit'],
];
const LEGEND = [
	'· waiting  ▶ running  ✓ done  ✗ failed  ↷ skipped (cached)  ⊘ cancelled  ↻2 second attempt',
	'bars: █ done  ▓ running  ░ still expected  ▒ failed or stopped   est/peak: memory assumed/measured',
];

/** The step the user picked, else the one to watch: running, then failed, then the last that started. */
export function defaultSelection(up: Pick<UpSlice, 'order' | 'steps' | 'selected'>): string | undefined {
	if (up.selected && up.steps[up.selected]) return up.selected;
	const steps = up.order.map((id) => up.steps[id]!).filter(Boolean);
	const running = steps.find((s) => s.state === 'running');
	if (running) return running.id;
	const failed = steps.find((s) => s.state === 'failed');
	if (failed) return failed.id;
	const started = steps.filter((s) => s.spans.length > 0).sort((a, b) => (b.spans.at(-1)!.start ?? 0) - (a.spans.at(-1)!.start ?? 0));
	return started[0]?.id ?? steps[0]?.id;
}

function counts(steps: UpStep[]) {
	const by = (st: UpStep['state']) => steps.filter((s) => s.state === st).length;
	return {
		running: by('running'),
		done: by('done'),
		failed: by('failed'),
		skipped: by('skipped'),
		cancelled: by('cancelled'),
		waiting: by('waiting'),
	};
}

/** Memory the scheduler counts as held now: running steps' peaks and finished steps' resident memory. */
function memoryInUse(steps: UpStep[]): number {
	return steps.reduce((n, s) => n + (s.state === 'running' ? s.memoryMiB + s.residentMiB : s.state === 'done' ? s.residentMiB : 0), 0);
}

/** The live view of `kdoctor up`: the plan as a timeline, a step's output on demand, the diagnosis, the verdict. */
export function UpScreen({onCancel, onIntent, clock = Date.now, tickMs = 100, color = colorWanted()}: UpScreenProps) {
	const store = useDoctorStore();
	const run = useDoctor((s) => s.up.run);
	const order = useDoctor((s) => s.up.order);
	const stepMap = useDoctor((s) => s.up.steps);
	const diagnosis = useDoctor((s) => s.up.diagnosis);
	const end = useDoctor((s) => s.up.end);
	const lastAt = useDoctor((s) => s.up.lastAt);
	const cancelling = useDoctor((s) => s.up.cancelling);
	const picked = useDoctor((s) => s.up.selected);
	const tailOpen = useDoctor((s) => s.up.tail);
	const help = useDoctor((s) => s.up.help);
	const message = useDoctor((s) => s.message);
	const {exit} = useApp();
	const {isRawModeSupported} = useStdin();
	const {columns} = useTerminalSize();
	const width = Math.min(columns, 160);

	const steps = useMemo(() => order.map((id) => stepMap[id]!).filter(Boolean), [order, stepMap]);
	const [wall, setWall] = useState(clock);
	const [frame, setFrame] = useState(0);
	useEffect(() => {
		if (tickMs <= 0 || !run || end) return;
		const t = setInterval(() => {
			setWall(clock());
			setFrame((f) => f + 1);
		}, tickMs);
		return () => clearInterval(t);
	}, [tickMs, run, end, clock]);
	// Without a keyboard nobody can press q: leave when the run is over.
	useEffect(() => {
		if (end && isRawModeSupported !== true) exit();
	}, [end, isRawModeSupported, exit]);

	const now = end ? end.at : Math.max(wall, lastAt);
	const selected = defaultSelection({order, steps: stepMap, selected: picked});
	const top = diagnosis?.findings[0];

	useInput(
		oneKeyAtATime((input, key) => {
			const s = store.getState();
			const up = s.up;
			if (key.ctrl && input === 'c') {
				if (up.end) return exit();
				s.upCancelling();
				return onCancel();
			}
			if (up.help) {
				if (key.escape || key.return || input === '?' || input === 'q') s.upHelp(false);
				return;
			}
			if (input === 'q') {
				if (up.end) return exit();
				if (up.cancelling) return;
				s.upCancelling();
				return onCancel();
			}
			if (input === '?') return s.upHelp(true);
			const sel = defaultSelection(up);
			const at = sel ? up.order.indexOf(sel) : 0;
			if (key.upArrow || input === 'k') return s.upSelect(up.order[Math.max(0, at - 1)]);
			if (key.downArrow || input === 'j') return s.upSelect(up.order[Math.min(up.order.length - 1, at + 1)]);
			if (key.return || input === 't') return s.upTail(!up.tail);
			if (key.escape) return s.upTail(false);
			const finding = up.diagnosis?.findings[0];
			const fix = finding?.remediations.find((r) => remediationKeyLabel(r.key) === input);
			if (finding && fix) onIntent({type: 'remediation', findingId: finding.id, key: fix.key});
		}),
		{isActive: isRawModeSupported === true},
	);

	const rule = '─'.repeat(Math.max(10, width - 2));
	const c = counts(steps);
	const elapsed = run ? (end ? end.durationMs : now - run.at) : 0;
	const header = run
		? `${run.profile} · ${run.provider} · ${run.engine} · run ${run.runId} · budget ` +
			`${run.budgetMiB} MiB (${run.budgetSource}) · ${formatDuration(elapsed)}`
		: 'waiting for the plan…';
	const selStep = selected ? stepMap[selected] : undefined;
	const diagnosedTitle = diagnosis?.step ? (stepMap[diagnosis.step]?.title ?? diagnosis.step) : undefined;

	const focus = help || !selected ? undefined : order.indexOf(selected) + 1;
	return (
		<Frame
			header={
				<>
					<Text wrap="truncate-end">
						<Text bold>kdoctor up</Text>
						<Text>{`  ${header}`}</Text>
					</Text>
					<Text wrap="truncate-end">
						{end ? (
							<Text color={hue(color, end.ok ? 'green' : 'red')}>
								{end.ok
									? `✓ finished in ${formatDuration(end.durationMs)}`
									: c.failed > 0
										? `✗ failed after ${formatDuration(end.durationMs)}`
										: `⊘ stopped after ${formatDuration(end.durationMs)}`}
							</Text>
						) : cancelling ? (
							<Text color={hue(color, 'yellow')}>stopping… (waiting for running steps to exit)</Text>
						) : (
							<Text color={hue(color, 'cyan')}>{c.running > 0 ? `${c.running} running` : run ? 'starting' : ''}</Text>
						)}
						<Text dimColor>
							{run
								? ` · ${c.done + c.skipped}/${steps.length} ` +
									`done${c.skipped ? ` (${c.skipped} cached)` : ''}${c.failed ? ` · ${c.failed} failed` : ''}` +
									`${c.cancelled ? ` · ${c.cancelled} cancelled` : ''}${end ? '' : ` · mem ~${memoryInUse(steps)}/${run.budgetMiB} MiB`} ` +
									`  ? help`
								: ''}
						</Text>
					</Text>
					<Text dimColor>{rule}</Text>
				</>
			}
			footer={
				<>
					{message ? (
						<Text color={hue(color, message.kind === 'error' ? 'red' : message.kind === 'ok' ? 'green' : 'yellow')}>{message.text}</Text>
					) : null}
					<Text dimColor wrap="truncate-end">
						{help
							? 'esc close help'
							: keyHints(
									width,
									['↑↓ select', 'enter/t output', top && top.remediations.length > 0 && 'letters: fixes', 'PgUp/PgDn scroll'],
									['? help', end ? 'q quit' : cancelling ? 'stopping…' : 'q stop'],
								)}
					</Text>
				</>
			}
			scrollKey={help ? 'help' : 'run'}
			focus={focus}
			lineKeys={help}
		>
			{help ? (
				<Box flexDirection="column">
					{HELP.map(([k, what]) => (
						<Text key={k}>
							<Text color={hue(color, 'green')}>{k.padEnd(12)}</Text>
							{what}
						</Text>
					))}
					<Box marginTop={1} flexDirection="column">
						{LEGEND.map((l) => (
							<Text key={l} dimColor>
								{l}
							</Text>
						))}
					</Box>
				</Box>
			) : (
				<Box flexDirection="column">
					{run ? (
						<Gantt
							steps={steps}
							t0={run.at}
							now={now}
							ended={!!end}
							width={width}
							selected={selected}
							spinner={tickMs > 0 ? SPINNER[frame % SPINNER.length]! : '▶'}
							color={color}
						/>
					) : null}
					{tailOpen && selStep ? (
						<Box marginTop={1} flexDirection="column">
							<SelectedTail id={selStep.id} title={selStep.title} width={width} color={color} />
						</Box>
					) : null}
					{diagnosis ? (
						<Box marginTop={1} flexDirection="column">
							<DiagnosisPanel
								findings={diagnosis.findings}
								stepTitle={diagnosedTitle}
								width={width}
								keyLabel={remediationKeyLabel}
								color={color}
							/>
						</Box>
					) : null}
					{end ? (
						<Box marginTop={1} flexDirection="column">
							<Text color={hue(color, end.ok ? 'green' : 'red')} bold>
								{end.ok ? `✓ ready in ${formatDuration(end.durationMs)}` : `✗ ${end.message}`}
							</Text>
							{end.ok && end.message ? <Text>{`  ${end.message}`}</Text> : null}
							{end.bundle ? (
								<Text>
									<Text dimColor>{'  bundle  '}</Text>
									{end.bundle}
								</Text>
							) : null}
							{end.resume ? (
								<Text>
									<Text dimColor>{'  resume  '}</Text>
									<Text color={hue(color, 'cyan')}>{end.resume}</Text>
								</Text>
							) : null}
						</Box>
					) : null}
				</Box>
			)}
		</Frame>
	);
}

/** Only this component reads the output lines, so a burst of lines redraws the tail and not the chart. */
function SelectedTail({id, title, width, color}: {id: string; title: string; width: number; color: boolean}) {
	const tail = useDoctor((s) => s.up.tails[id]);
	return <StepTail title={title} tail={tail} width={width} color={color} />;
}
