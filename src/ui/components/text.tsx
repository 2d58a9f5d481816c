import {Children, type ComponentProps, type ReactNode} from 'react';
import {Text as InkText} from 'ink';
import {visible} from '../../core/text/visible.js';

/** Tabs would break Ink's width arithmetic; a log's tab is shown as spaces. */
const safe = (s: string) => visible(s).replace(/\t/g, '    ');

function clean(children: ReactNode): ReactNode {
	return Children.map(children, (c) => (typeof c === 'string' ? safe(c) : c));
}

/**
 * The only Text the screens use: every string it shows goes through visible(), so a pod name, an event or a log line
 * can never carry a terminal sequence (title, clipboard, cursor) into the screen. Ink's own Text is imported here only.
 */
export function Text(props: ComponentProps<typeof InkText>) {
	return <InkText {...props}>{clean(props.children)}</InkText>;
}
