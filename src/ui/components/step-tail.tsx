import {Box} from 'ink';
import {Text} from './text.js';
import type {UpTail} from '../../state/store.js';
import {hue} from '../color.js';
import {clip} from './finding-list.js';

/** Lines of a step's output the tail shows: a screenful next to the chart. */
export const TAIL_SHOWN = 15;

type StepTailProps = {title: string; tail: UpTail | undefined; width: number; color: boolean};

/**
 * The end of one step's output, stderr in yellow:
 *   output · Build gateway image · last 15 of 2,341 lines
 *   │ STEP 7/9: RUN go build ./cmd/gateway
 */
export function StepTail({title, tail, width, color}: StepTailProps) {
	const lines = tail ? tail.lines.slice(-TAIL_SHOWN) : [];
	const total = tail?.total ?? 0;
	const head =
		total === 0
			? 'no output yet'
			: total > lines.length
				? `last ${lines.length} of ${total.toLocaleString('en-US')} lines`
				: `${total} line${total === 1 ? '' : 's'}`;
	return (
		<Box flexDirection="column">
			<Text>
				<Text bold>output</Text>
				<Text dimColor>{` · ${clip(title, Math.max(10, width - 40))} · ${head}`}</Text>
			</Text>
			{lines.map((l, i) => (
				<Text key={i} color={hue(color, l.stream === 'stderr' ? 'yellow' : undefined)} wrap="truncate-end">
					<Text dimColor>{'│ '}</Text>
					{clip(l.line, Math.max(10, width - 3))}
				</Text>
			))}
		</Box>
	);
}
