import {Box, measureElement, useInput, type DOMElement} from 'ink';
import {useLayoutEffect, useRef, useState, type ReactNode, type RefObject} from 'react';
import {oneKeyAtATime} from '../keyboard.js';
import {useTerminalSize} from '../terminal-size.js';
import {Text} from './text.js';

export type FrameProps = {
	header: ReactNode;
	footer: ReactNode;
	children: ReactNode;
	/** A new key (another view, another finding) starts the body at its top. */
	scrollKey?: string;
	/** A body line that must stay in view (the selected row of a list)... */
	focus?: number;
	/** ...or the element itself, where rows wrap or carry headings and their line cannot be counted. */
	focusRef?: RefObject<DOMElement | null>;
	/** Long views: ↑↓ and j k scroll by a line, as in less; lists keep them for the selection. */
	lineKeys?: boolean;
	/** Off while the screen reads typed text (a filter, an answer). */
	keys?: boolean;
	/** Lists: a page key moves the selection by this many rows (±Infinity: first, last) instead of the view. */
	onPage?: (rows: number) => void;
};

type Heights = {head: number; body: number; content: number; foot: number; focusTop?: number; focusHeight?: number};

/** Where an element sits inside the scrolled content: its top summed up the tree, as Yoga laid it out. */
function placeIn(el: DOMElement, content: DOMElement): {top: number; height: number} | undefined {
	let top = 0;
	for (let n: DOMElement | undefined = el; n && n !== content; n = n.parentNode) {
		if (!n.yogaNode) return undefined;
		top += n.yogaNode.getComputedTop();
		if (!n.parentNode) return undefined;
	}
	return {top, height: el.yogaNode?.getComputedHeight() ?? 1};
}

/** How far one key moves the body, or undefined when the key is not a scroll key here. */
export function scrollStep(
	input: string,
	key: {pageUp?: boolean; pageDown?: boolean; home?: boolean; end?: boolean; upArrow?: boolean; downArrow?: boolean; ctrl?: boolean},
	page: number,
	lineKeys: boolean,
): number | undefined {
	if (key.pageDown || (key.ctrl && input === 'f') || (lineKeys && input === ' ')) return Math.max(1, page - 1);
	if (key.pageUp || (key.ctrl && input === 'b')) return -Math.max(1, page - 1);
	if (key.ctrl && input === 'd') return Math.max(1, Math.floor(page / 2));
	if (key.ctrl && input === 'u') return -Math.max(1, Math.floor(page / 2));
	if (key.home || input === 'g') return Number.NEGATIVE_INFINITY;
	if (key.end || input === 'G') return Number.POSITIVE_INFINITY;
	if (!lineKeys) return undefined;
	if (key.downArrow || input === 'j') return 1;
	if (key.upArrow || input === 'k') return -1;
	return undefined;
}

/** The first body line to show: the wanted one, moved as little as needed to show the focus, within the content. */
export function clampOffset(offset: number, h: {body: number; content: number}, focus?: number, focusHeight = 1): number {
	let o = offset;
	if (focus !== undefined && h.body > 0) {
		const fh = Math.max(1, focusHeight);
		// All of the focus in view; one taller than the body may be scrolled through, never out of.
		if (fh <= h.body) o = Math.min(Math.max(o, focus + fh - h.body), focus);
		else o = Math.min(Math.max(o, focus), focus + fh - h.body);
	}
	return Math.max(0, Math.min(o, Math.max(0, h.content - h.body)));
}

/**
 * Every screen's layout: a fixed header and footer with a body between them that scrolls, sized to the terminal and
 * redrawn on resize (k9s and less behave so). Without a terminal height (a pipe) the body is shown whole.
 */
export function Frame({header, footer, children, scrollKey = '', focus, focusRef, lineKeys = false, keys = true, onPage}: FrameProps) {
	const {columns, rows} = useTerminalSize();
	const head = useRef<DOMElement>(null);
	const body = useRef<DOMElement>(null);
	const content = useRef<DOMElement>(null);
	const foot = useRef<DOMElement>(null);
	const [h, setH] = useState<Heights | undefined>();
	const [wanted, setWanted] = useState<{key: string; offset: number; focus?: number}>({key: scrollKey, offset: 0});
	const same = wanted.key === scrollKey;
	const offsetWanted = same ? wanted.offset : 0;
	const focusTop = focus ?? (focusRef ? h?.focusTop : undefined);
	// The focus pulls the view when it moves (a new selection); scrolled away on purpose, the view stays.
	const follow = !same || focusTop !== wanted.focus;
	const offset = h ? clampOffset(offsetWanted, h, follow ? focusTop : undefined, focus === undefined ? h.focusHeight : 1) : 0;

	useLayoutEffect(() => {
		if (!head.current || !body.current || !content.current || !foot.current) return;
		const placed = focusRef?.current ? placeIn(focusRef.current, content.current) : undefined;
		const next = {
			head: measureElement(head.current).height,
			body: measureElement(body.current).height,
			content: measureElement(content.current).height,
			foot: measureElement(foot.current).height,
			...(focusRef?.current ? {focusTop: placed?.top, focusHeight: placed?.height} : {}),
		};
		const unchanged =
			h &&
			next.head === h.head &&
			next.body === h.body &&
			next.content === h.content &&
			next.foot === h.foot &&
			next.focusTop === h.focusTop &&
			next.focusHeight === h.focusHeight;
		if (!unchanged) setH(next);
		// Keep where the focus moved the view, so moving back up inside it does not scroll.
		else if (offset !== offsetWanted || !same || focusTop !== wanted.focus) setWanted({key: scrollKey, offset, focus: focusTop});
	});

	useInput(
		oneKeyAtATime((input, key) => {
			if (!h) return;
			const step = scrollStep(input, key, h.body, lineKeys);
			if (step === undefined) return;
			if (onPage) return onPage(step);
			const to = step === Number.NEGATIVE_INFINITY ? 0 : step === Number.POSITIVE_INFINITY ? h.content : offset + step;
			// Scrolled on purpose: the focus line no longer pins the view until the selection moves.
			setWanted({key: scrollKey, offset: clampOffset(to, h), focus: focusTop});
		}),
		{isActive: keys && rows !== undefined},
	);

	const room = rows === undefined ? undefined : Math.max(3, rows - 1);
	// Until measured, take the whole height (it fits the screen); a shorter content then takes its own height (a
	// body squeezed to fewer rows than it holds would have Yoga squeeze its rows too, and measure nothing).
	const height = room === undefined ? undefined : !h || h.head + h.content + h.foot > room ? room : undefined;
	const overflow = h !== undefined && room !== undefined && h.content > h.body;
	const rule = ruleLine(columns, overflow && h ? {from: offset + 1, to: Math.min(h.content, offset + h.body), of: h.content} : undefined);

	return (
		<Box flexDirection="column" width={columns} height={height}>
			<Box ref={head} flexDirection="column" flexShrink={0}>
				{header}
			</Box>
			<Box ref={body} flexDirection="column" flexGrow={1} flexShrink={1} overflowY={room === undefined ? 'visible' : 'hidden'}>
				<Box ref={content} flexDirection="column" flexShrink={0} marginTop={-offset}>
					{children}
				</Box>
			</Box>
			<Box ref={foot} flexDirection="column" flexShrink={0}>
				<Text dimColor wrap="truncate-end">
					{rule}
				</Text>
				{footer}
			</Box>
		</Box>
	);
}

/** The rule above the footer; when the body scrolls, it says which lines are shown and how to see the rest. */
export function ruleLine(columns: number, at?: {from: number; to: number; of: number}): string {
	const width = Math.max(10, Math.min(columns, 160) - 2);
	if (!at) return '─'.repeat(width);
	const label = ` ${at.from}–${at.to} of ${at.of}${at.to < at.of ? ' · PgDn more' : ''} `;
	return ('──' + label).padEnd(width, '─').slice(0, Math.max(width, 0));
}

/** A footer's key hints that fit the width: the optional ones in order while they fit, the last ones always. */
export function keyHints(width: number, optional: (string | false | undefined)[], always: string[]): string {
	const tail = always.join('  ');
	const out: string[] = [];
	let used = tail.length;
	for (const h of optional) {
		if (!h) continue;
		if (used + h.length + 2 > width - 1) continue;
		out.push(h);
		used += h.length + 2;
	}
	return [...out, tail].join('  ');
}
