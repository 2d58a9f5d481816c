import {EventEmitter} from 'node:events';
import type {ReactElement} from 'react';
import {render as inkRender} from 'ink';
import stringWidth from 'string-width';
import {expect} from 'vitest';

/** ink-testing-library's stdout is always 100 columns and has no rows: this one has the size a test gives it. */
class SizedStdout extends EventEmitter {
	frames: string[] = [];
	isTTY = true;
	constructor(
		public columns: number,
		public rows: number,
	) {
		super();
	}
	write = (frame: string) => {
		this.frames.push(frame);
		return true;
	};
	lastFrame = () => this.frames.at(-1);
	resize(columns: number, rows: number) {
		this.columns = columns;
		this.rows = rows;
		this.emit('resize');
	}
}

class Stdin extends EventEmitter {
	isTTY = true;
	data: string | null = null;
	write = (data: string) => {
		this.data = data;
		this.emit('readable');
		this.emit('data', data);
	};
	setEncoding() {}
	setRawMode() {}
	resume() {}
	pause() {}
	ref() {}
	unref() {}
	read = () => {
		const {data} = this;
		this.data = null;
		return data;
	};
}

export function renderSized(tree: ReactElement, columns: number, rows: number) {
	const stdout = new SizedStdout(columns, rows);
	const stdin = new Stdin();
	const instance = inkRender(tree, {
		stdout: stdout as unknown as NodeJS.WriteStream,
		stderr: new SizedStdout(columns, rows) as unknown as NodeJS.WriteStream,
		stdin: stdin as unknown as NodeJS.ReadStream,
		debug: true,
		exitOnCtrlC: false,
		patchConsole: false,
	});
	return {stdout, stdin, lastFrame: () => stdout.lastFrame() ?? '', unmount: () => instance.unmount()};
}

const ANSI = /\u001B\[[0-9;?]*[ -/]*[@-~]/g;

/** The frame as the terminal shows it: its lines without colour codes and without trailing blanks. */
export function screenLines(frame: string): string[] {
	const lines = frame.replace(ANSI, '').split('\n');
	while (lines.length && lines.at(-1)!.trim() === '') lines.pop();
	return lines;
}

/** What every screen owes a terminal of that size: it fits, and nothing runs past the right edge. */
export function expectFits(frame: string, columns: number, rows: number): string[] {
	const lines = screenLines(frame);
	if (process.env.KDOCTOR_SHOW_FRAMES) console.log(`--- ${columns}×${rows}\n${lines.join('\n')}`);
	expect(lines.length, `${lines.length} lines on a ${rows}-row terminal`).toBeLessThanOrEqual(rows - 1);
	for (const l of lines) expect(stringWidth(l), `line wider than ${columns}: ${JSON.stringify(l)}`).toBeLessThanOrEqual(columns);
	return lines;
}
