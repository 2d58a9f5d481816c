import {openSync} from 'node:fs';
import {ReadStream} from 'node:tty';
import type {Key} from 'ink';

/** Keys still work when stdin is a pipe (a log piped in): read them from the terminal. */
export function keyboard(): NodeJS.ReadStream {
	if (process.stdin.isTTY) return process.stdin;
	try {
		return new ReadStream(openSync('/dev/tty', 'r')) as unknown as NodeJS.ReadStream;
	} catch {
		return process.stdin;
	}
}

/**
 * Keys typed fast, pasted, or sent by tmux reach Ink as one chunk ("/mis\r"): hands them to the screen one key at
 * a time, so a filter typed quickly is a filter and not a lost burst. A lone line feed is Enter too: a key typed
 * before the screen set raw mode went through the tty's CR-to-LF translation.
 */
export function oneKeyAtATime(handler: (input: string, key: Key) => void): (input: string, key: Key) => void {
	return (input, key) => {
		if (input.length > 1 && !key.ctrl && !key.meta && !key.escape) {
			for (const ch of input) handler(ch === '\r' || ch === '\n' ? '' : ch, {...key, return: ch === '\r' || ch === '\n'});
			return;
		}
		if (input === '\n') return handler('', {...key, return: true});
		handler(input, key);
	};
}
