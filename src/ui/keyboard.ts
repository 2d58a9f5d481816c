import {openSync} from 'node:fs';
import {ReadStream} from 'node:tty';

/** Keys still work when stdin is a pipe (a log piped in): read them from the terminal. */
export function keyboard(): NodeJS.ReadStream {
	if (process.stdin.isTTY) return process.stdin;
	try {
		return new ReadStream(openSync('/dev/tty', 'r')) as unknown as NodeJS.ReadStream;
	} catch {
		return process.stdin;
	}
}
