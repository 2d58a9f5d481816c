import {createReadStream, statSync} from 'node:fs';

/** A user-facing input problem: one line saying what happened and what to do. */
export class InputError extends Error {
	constructor(message: string) {
		super(message);
		this.name = 'InputError';
	}
}

const CHUNK = 4 * 1024 * 1024;

/** Opens a file (or '-' for stdin) as a byte stream, turning fs errors into one clear line. */
export function openInput(path: string, stdin: NodeJS.ReadableStream = process.stdin): AsyncIterable<Uint8Array> {
	if (path === '-') return stdin as AsyncIterable<Uint8Array>;
	let st;
	try {
		st = statSync(path);
	} catch (error) {
		throw new InputError(describeFsError(path, error));
	}
	if (st.isDirectory()) throw new InputError(`${path} is a directory: give a log file inside it, or '-' to read standard input`);
	const stream = createReadStream(path, {highWaterMark: CHUNK});
	return (async function* () {
		try {
			for await (const chunk of stream) yield chunk as Uint8Array;
		} catch (error) {
			throw new InputError(describeFsError(path, error));
		}
	})();
}

export function describeFsError(path: string, error: unknown): string {
	const code = (error as NodeJS.ErrnoException).code;
	switch (code) {
		case 'ENOENT':
			return `${path}: no such file (check the path, or pipe the log with '-')`;
		case 'EACCES':
		case 'EPERM':
			return `${path}: permission denied (run as a user who can read it, or copy it somewhere readable)`;
		case 'EISDIR':
			return `${path} is a directory: give a log file inside it`;
		default:
			return `${path}: cannot read (${code ?? (error as Error).message})`;
	}
}
