import {Box, useApp, useInput, type DOMElement, type Key} from 'ink';
import {Frame, keyHints} from '../components/frame.js';
import {Text} from '../components/text.js';
import {useRef, useState} from 'react';
import {homeActions, type HomeAction, type HomeState} from '../../commands/home.js';
import {colorWanted, hue} from '../color.js';
import {oneKeyAtATime} from '../keyboard.js';
import {useTerminalSize} from '../terminal-size.js';

function ago(iso: string | undefined, now: number): string {
	if (!iso) return '';
	const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
	if (s < 90) return `${s}s ago`;
	if (s < 5400) return `${Math.round(s / 60)} min ago`;
	if (s < 172800) return `${Math.round(s / 3600)} h ago`;
	return `${Math.round(s / 86400)} days ago`;
}

/** `kdoctor` alone: what happened last, and the one-key way on from there. Props in, the chosen action out. */
export function HomeScreen({
	state,
	onChoose,
	color,
	now = Date.now(),
}: {
	state: HomeState;
	onChoose(a: HomeAction | undefined): void;
	color?: boolean;
	now?: number;
}) {
	const on = color ?? colorWanted();
	const {exit} = useApp();
	const {columns} = useTerminalSize();
	const selectedRef = useRef<DOMElement>(null);
	const [profileIndex, setProfileIndex] = useState(
		Math.max(
			0,
			state.profiles.findIndex((p) => p.name === (state.last?.profile ?? 'demo')),
		),
	);
	const profile = state.profiles[profileIndex]?.name ?? 'demo';
	const actions = homeActions(state, profile);
	const [asking, setAsking] = useState<HomeAction | undefined>(undefined);
	useInput(
		oneKeyAtATime((input: string, key: Key) => {
			if (asking) {
				// A change to the machine starts only on y: any other key leaves it.
				if (input === 'y') {
					onChoose(asking);
					return exit();
				}
				if (key.ctrl && input === 'c') {
					onChoose(undefined);
					return exit();
				}
				return setAsking(undefined);
			}
			if (input === 'q' || key.escape || (key.ctrl && input === 'c')) {
				onChoose(undefined);
				return exit();
			}
			if (key.downArrow || input === 'j') return setProfileIndex((i) => Math.min(i + 1, Math.max(state.profiles.length - 1, 0)));
			if (key.upArrow || input === 'k') return setProfileIndex((i) => Math.max(i - 1, 0));
			const a = key.return ? actions.find((x) => x.primary) : actions.find((x) => x.key === input);
			if (a?.confirm) return setAsking(a);
			if (a) {
				onChoose(a);
				exit();
			}
		}),
	);
	const last = state.last;
	const header = (
		<>
			<Text bold>kdoctor</Text>
			{last ? (
				<Text>
					{'Last run: '}
					<Text color={hue(on, last.ok ? 'green' : 'red')}>
						{last.ok ? 'up' : last.cancelled ? 'stopped' : `failed at ${last.failedStep ?? '?'}`}
					</Text>
					{` — profile ${last.profile}, ` +
						`${ago(last.startedAt, now)}${last.durationMs !== undefined ? `, took ${Math.round(last.durationMs / 1000)}s` : ''}`}
				</Text>
			) : (
				<Text>{state.firstRun ? 'No run yet on this machine: start by checking it.' : 'No run recorded.'}</Text>
			)}
			{last?.finding ? (
				<Text>{`  cause: ${last.finding.title} (${last.finding.id}, ${Math.round(last.finding.confidence * 100)}%)`}</Text>
			) : null}
			{state.cluster ? (
				<Text
					color={hue(on, state.cluster.healthy ? 'green' : 'yellow')}
				>{`  cluster: ${state.cluster.healthy ? 'answering' : `not answering (${state.cluster.detail})`}`}</Text>
			) : null}
		</>
	);
	return (
		<Frame
			header={header}
			footer={
				asking ? (
					<Text color={hue(on, 'yellow')}>{`${asking.confirm}. Start it? y yes · any other key no`}</Text>
				) : (
					<Text dimColor wrap="truncate-end">
						{keyHints(columns, ['↑↓ choose the profile', 'a letter or enter', 'kdoctor --help lists every command'], ['q quit'])}
					</Text>
				)
			}
			focusRef={selectedRef}
			keys={!asking}
		>
			<Text> </Text>
			{actions.map((a) => (
				<Text key={a.key} color={a.primary ? hue(on, 'cyan') : undefined} bold={a.primary}>
					{`  [${a.key}] ${a.label}${a.primary ? '   ← enter' : ''}`}
				</Text>
			))}
			<Text> </Text>
			<Text bold>Profiles</Text>
			{state.profiles.map((p, i) => (
				<Box key={p.name} ref={i === profileIndex ? selectedRef : undefined}>
					<Text
						inverse={i === profileIndex}
						wrap="truncate-end"
					>{`${i === profileIndex ? '› ' : '  '}${p.name.padEnd(20)} ${p.description}${p.origin !== 'built-in' ? ` (${p.origin})` : ''}`}</Text>
				</Box>
			))}
		</Frame>
	);
}
