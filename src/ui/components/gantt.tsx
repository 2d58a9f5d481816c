import {Box} from 'ink';
import {Text} from './text.js';
import {memo} from 'react';
import type {StepState} from '../../core/provision/events.js';
import {formatDuration, formatMiB} from '../../plain/up-lines.js';
import type {UpStep} from '../../state/store.js';
import {hue, type Hue} from '../color.js';
import {clip} from './finding-list.js';

type GanttProps = {
	steps: UpStep[];
	/** Run start: column 0 of every bar. */
	t0: number;
	now: number;
	/** The run is over: the axis stops at its end instead of following the clock and the estimates. */
	ended: boolean;
	width: number;
	selected?: string;
	/** The running glyph this frame ("▶" when the screen does not animate). */
	spinner: string;
	color: boolean;
};

type Color = Hue | undefined;

export const GLYPH: Record<StepState, string> = {waiting: '·', running: '▶', done: '✓', failed: '✗', skipped: '↷', cancelled: '⊘'};
const GLYPH_COLOR: Record<StepState, Color> = {
	waiting: 'gray',
	running: 'cyan',
	done: 'green',
	failed: 'red',
	skipped: 'gray',
	cancelled: 'yellow',
};
/** Each state has its own fill so the chart reads without colour (NO_COLOR): █ done, ▓ running, ▒ failed or stopped, ░ still expected. */
const FILL: Record<StepState, string> = {waiting: ' ', running: '▓', done: '█', failed: '▒', skipped: '▏', cancelled: '▒'};
const ESTIMATE = '░';
const DUR_W = 6;
const MEM_W = 9;

/** Column widths for a terminal width: titles and notes as wide as needed up to a share, bars get the rest. */
export function ganttLayout(width: number, steps: UpStep[]) {
	const titleW = Math.min(Math.max(12, ...steps.map((s) => s.title.length + attemptTag(s).length)), Math.max(16, Math.floor(width * 0.26)));
	const longestNote = Math.max(0, ...steps.map((s) => (s.note ? s.note.length + 1 : 0)));
	const noteW = width >= 80 ? Math.min(longestNote, Math.floor(width * 0.16)) : 0;
	const prefixW = 2 + 2 + titleW + 1 + DUR_W + 1 + MEM_W + 1;
	const barW = Math.max(10, width - 1 - prefixW - 2 - noteW);
	return {titleW, noteW, prefixW, barW};
}

/** The axis end: the run's end, or far enough ahead to hold every running step's estimate. */
export function axisEnd(steps: UpStep[], t0: number, now: number, ended: boolean): number {
	let t1 = now;
	for (const s of steps) {
		for (const sp of s.spans) t1 = Math.max(t1, sp.end ?? now);
		if (!ended && s.state === 'running' && s.startedAt !== undefined) t1 = Math.max(t1, s.startedAt + s.estimateMs);
	}
	return Math.max(t1, t0 + 1000);
}

/** "↻2": the attempt a retried step is on (or ended on). */
function attemptTag(s: UpStep): string {
	const n = Math.max(s.attempt, ...s.retries.map((r) => r.attempt));
	return n > 1 ? ` ↻${n}` : '';
}

/** Live for a running step; what the runner measured once it ended. */
export function stepDuration(s: UpStep, now: number): number | undefined {
	if (s.state === 'running' && s.startedAt !== undefined) return now - s.startedAt;
	return s.durationMs;
}

/** Measured peak once known, the scheduling estimate before. */
function memoryLabel(s: UpStep): string {
	if (s.peakMiB !== undefined) return `peak ${formatMiB(s.peakMiB)}`;
	if (s.state === 'skipped') return '';
	return s.memoryMiB > 0 ? `est ${formatMiB(s.memoryMiB)}` : '';
}

type Cell = {ch: string; color: Color; dim: boolean};

/** One bar as runs of same-styled cells; every span gets at least one column so short steps stay visible. */
export function barCells(s: UpStep, t0: number, t1: number, now: number, barW: number): Cell[] {
	const cells: Cell[] = Array.from({length: barW}, () => ({ch: ' ', color: undefined, dim: false}));
	const col = (t: number) => Math.min(barW, Math.max(0, Math.round(((t - t0) / (t1 - t0)) * barW)));
	const fill = (from: number, to: number, c: Cell) => {
		for (let i = from; i < to && i < barW; i++) cells[i] = c;
	};
	for (const sp of s.spans) {
		const end = sp.end ?? now;
		const from = Math.min(barW - 1, col(sp.start));
		const to = Math.max(from + 1, col(end));
		if (sp.end === undefined && s.startedAt !== undefined && s.startedAt + s.estimateMs > end)
			fill(to, Math.max(to, col(s.startedAt + s.estimateMs)), {ch: ESTIMATE, color: undefined, dim: true});
		fill(from, to, {ch: FILL[sp.state], color: GLYPH_COLOR[sp.state], dim: sp.state === 'skipped'});
	}
	return cells;
}

function runs(cells: Cell[]): Cell[] {
	const out: Cell[] = [];
	for (const c of cells) {
		const last = out[out.length - 1];
		if (last && last.color === c.color && last.dim === c.dim && last.ch[0] === c.ch) last.ch += c.ch;
		else out.push({...c});
	}
	return out;
}

/** "0s" under the start of the bars, the midpoint, and the span at their end. */
export function axisLabels(span: number, barW: number): string {
	const left = '0s';
	const mid = formatDuration(span / 2);
	const right = formatDuration(span);
	const chars = Array.from({length: barW + 2}, () => ' ');
	const put = (at: number, s: string) => [...s].forEach((c, i) => (chars[at + i] = c));
	put(1, left);
	const m = Math.round(barW / 2) + 1 - Math.floor(mid.length / 2);
	if (m > left.length + 2 && m + mid.length < barW + 1 - right.length - 1) put(m, mid);
	put(barW + 1 - right.length, right);
	return chars.join('');
}

/**
 * The timeline: one row per step in plan order on a shared time axis, so parallel steps sit side by side:
 *                                          0s            1m25s           2m50s
 *   › ▶ Build gateway image        1m12s est 1.4G │▓▓▓▓▓▓▓▓▓░░░░          │
 *     ✓ Create Kind cluster          15s peak 610M│██                     │
 *     · Deploy Gateway                   est 100M │                       │
 * Not <Static>: the axis stretches as the run goes on, so a finished row's bar is redrawn every tick.
 */
export const Gantt = memo(function Gantt({steps, t0, now, ended, width, selected, spinner, color}: GanttProps) {
	const {titleW, noteW, prefixW, barW} = ganttLayout(width, steps);
	const t1 = axisEnd(steps, t0, now, ended);
	return (
		<Box flexDirection="column">
			<Text dimColor>{' '.repeat(prefixW) + axisLabels(t1 - t0, barW)}</Text>
			{steps.map((s) => {
				const isSel = s.id === selected;
				const tag = attemptTag(s);
				const dur = stepDuration(s, now);
				return (
					<Box key={s.id}>
						<Text color={hue(color, isSel ? 'cyan' : undefined)}>{isSel ? '› ' : '  '}</Text>
						<Text color={hue(color, GLYPH_COLOR[s.state])}>{`${s.state === 'running' ? spinner : GLYPH[s.state]} `}</Text>
						<Text bold={isSel} dimColor={s.state === 'waiting' || s.state === 'skipped'}>
							{clip(s.title, titleW - tag.length)}
						</Text>
						<Text color={hue(color, 'yellow')}>{tag}</Text>
						<Text>{' '.repeat(Math.max(0, titleW - Math.min(s.title.length, titleW - tag.length) - tag.length))}</Text>
						<Text>{` ${(dur === undefined ? '' : formatDuration(dur)).padStart(DUR_W)} `}</Text>
						<Text dimColor>{`${memoryLabel(s).padEnd(MEM_W)} `}</Text>
						<Text dimColor>│</Text>
						{runs(barCells(s, t0, t1, now, barW)).map((r, i) => (
							<Text key={i} color={hue(color, r.color)} dimColor={r.dim}>
								{r.ch}
							</Text>
						))}
						<Text dimColor>│</Text>
						{noteW > 0 && s.note ? <Text dimColor>{` ${clip(s.note, noteW - 1)}`}</Text> : null}
					</Box>
				);
			})}
		</Box>
	);
});
