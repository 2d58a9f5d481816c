import {constants, createReadStream, lstatSync, openSync, readlinkSync, statSync} from 'node:fs';
import {Socket} from 'node:net';
import {TextDecoder} from 'node:util';

/** A user-facing input problem: one line saying what happened, and optionally a hint line saying what to do. */
export class InputError extends Error {
	constructor(
		message: string,
		readonly hint?: string,
	) {
		super(message);
		this.name = 'InputError';
	}
}

/** The name the commands use: a mistake the user can fix, never a bug (exit 2, one line, no stack). */
export const UserError = InputError;

const CHUNK = 4 * 1024 * 1024;

const COMPRESSED: [number[], string][] = [
	[[0x1f, 0x8b], 'gzip'],
	[[0x28, 0xb5, 0x2f, 0xfd], 'zstd'],
	[[0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], 'xz'],
	[[0x42, 0x5a, 0x68], 'bzip2'],
];

/**
 * Looks at the first bytes: compressed input is refused with the command to use, and UTF-16 (what Windows
 * PowerShell writes) is turned into UTF-8; everything else passes through untouched.
 */
export async function* sniffed(path: string, source: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
	let decoder: TextDecoder | undefined;
	let first = true;
	for await (const chunk of source) {
		if (first && chunk.length > 0) {
			first = false;
			for (const [magic, kind] of COMPRESSED) {
				if (magic.every((b, i) => chunk[i] === b)) {
					const cat = kind === 'gzip' ? 'zcat' : kind === 'zstd' ? 'zstdcat' : kind === 'xz' ? 'xzcat' : 'bzcat';
					throw new InputError(`${path} is ${kind}-compressed: run '${cat} ${path === '-' ? 'FILE' : path} | kdoctor diagnose -'`);
				}
			}
			if (chunk[0] === 0xff && chunk[1] === 0xfe) decoder = new TextDecoder('utf-16le');
			else if (chunk[0] === 0xfe && chunk[1] === 0xff) decoder = new TextDecoder('utf-16be');
		}
		yield decoder ? Buffer.from(decoder.decode(chunk, {stream: true}), 'utf8') : chunk;
	}
	if (decoder) {
		const rest = decoder.decode();
		if (rest) yield Buffer.from(rest, 'utf8');
	}
}

/** Opens a file (or '-' for stdin) as a byte stream, turning fs errors into one clear line. */
export function openInput(path: string, stdin: NodeJS.ReadableStream = process.stdin): AsyncIterable<Uint8Array> {
	return sniffed(path, openRaw(path, stdin));
}

function openRaw(path: string, stdin: NodeJS.ReadableStream): AsyncIterable<Uint8Array> {
	if (path === '-') return stdin as AsyncIterable<Uint8Array>;
	let st;
	try {
		st = statSync(path);
	} catch (error) {
		throw new InputError(describeFsError(path, error));
	}
	if (st.isDirectory()) throw new InputError(`${path} is a directory: give a log file inside it, or '-' to read standard input`);
	// A FIFO opened the usual way blocks a libuv thread until a writer comes, and then neither Ctrl-C nor SIGTERM can
	// end the process. Opened non-blocking it waits in the event loop instead (Linux reports no hang-up until a writer
	// has come and gone), so a signal still ends it at once.
	const stream = st.isFIFO() ? fifoStream(path) : createReadStream(path, {highWaterMark: CHUNK});
	return (async function* () {
		try {
			for await (const chunk of stream) yield chunk as Uint8Array;
		} catch (error) {
			throw new InputError(describeFsError(path, error));
		}
	})();
}

function fifoStream(path: string): AsyncIterable<Uint8Array> {
	let fd: number;
	try {
		fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
	} catch (error) {
		throw new InputError(describeFsError(path, error));
	}
	return new Socket({fd, readable: true, writable: false});
}

export function describeFsError(path: string, error: unknown, what: 'log' | 'file' = 'log'): string {
	const code = (error as NodeJS.ErrnoException).code;
	switch (code) {
		case 'ENOENT': {
			// A link whose target is gone reads as "no such file": say what it really is, and where it points.
			const target = brokenLinkTarget(path);
			if (target !== undefined) return `${path}: a broken symbolic link (it points to ${target}, which does not exist)`;
			return what === 'log'
				? `${path}: no such file (check the path, or pipe the log with '-')`
				: `${path}: no such file or folder (check the path)`;
		}
		case 'EACCES':
		case 'EPERM':
			return `${path}: permission denied (run as a user who can read it, or copy it somewhere readable)`;
		case 'EISDIR':
			return `${path} is a directory: give a log file inside it`;
		default:
			return `${path}: cannot read (${code ?? (error as Error).message})`;
	}
}

function brokenLinkTarget(path: string): string | undefined {
	try {
		return lstatSync(path).isSymbolicLink() ? readlinkSync(path) : undefined;
	} catch {
		return undefined;
	}
}
