import {
	closeSync,
	existsSync,
	fsyncSync,
	lstatSync,
	openSync,
	readdirSync,
	readFileSync,
	realpathSync,
	renameSync,
	statSync,
	unlinkSync,
	writeSync,
} from 'node:fs';
import {basename, dirname, join, relative, sep} from 'node:path';
import {globToRegExp} from '../core/glob.js';
import {NotTextError, type FsPort} from '../core/ports.js';

const SKIP = new Set(['node_modules', '.git', 'dist', 'vendor', '.cache', 'coverdata']);
const MAX_FILES = 20_000;
const MAX_SIZE = 1024 * 1024;

/** Writes a temp file beside the target (same folder, so the rename is atomic); returns its path. */
function writeTemp(path: string, text: string | Uint8Array, mode?: number): string {
	const tmp = join(dirname(path), `.${basename(path)}.kdoctor-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}.tmp`);
	// 'wx': a temp name that exists (a planted link) is refused rather than followed.
	const fd = openSync(tmp, 'wx', mode ?? (existsSync(path) ? statSync(path).mode & 0o777 : 0o644));
	try {
		if (typeof text === 'string') writeSync(fd, text);
		else writeSync(fd, text);
		fsyncSync(fd);
	} catch (error) {
		closeSync(fd);
		unlinkQuiet(tmp);
		throw error;
	}
	closeSync(fd);
	return tmp;
}

function unlinkQuiet(path: string): void {
	try {
		unlinkSync(path);
	} catch {
		/* already gone */
	}
}

/** Writes via a temp file in the same folder and renames it over the target (with `mode`, that mode, e.g. 0600). */
export function writeFileAtomic(path: string, text: string | Uint8Array, opts: {mode?: number} = {}): void {
	const tmp = writeTemp(path, text, opts.mode);
	try {
		renameSync(tmp, path);
	} catch (error) {
		unlinkQuiet(tmp);
		throw error;
	}
}

const utf8 = new TextDecoder('utf-8', {fatal: true});

export function createFsPort(): FsPort {
	return {
		list(root, globs) {
			const res = globs.map(globToRegExp);
			const out: string[] = [];
			let seen = 0;
			const walk = (dir: string) => {
				let names: string[];
				try {
					names = readdirSync(dir);
				} catch {
					return;
				}
				for (const name of names.sort()) {
					if (seen++ > MAX_FILES) return;
					if (SKIP.has(name) || (name.startsWith('.') && name !== '.')) continue;
					const full = join(dir, name);
					let st;
					try {
						st = lstatSync(full);
					} catch {
						continue;
					}
					// Links are not followed: their targets are edited where they live, once.
					if (st.isSymbolicLink()) continue;
					if (st.isDirectory()) walk(full);
					else if (st.isFile() && st.size <= MAX_SIZE) {
						const rel = relative(root, full).split(sep).join('/');
						if (res.some((r) => r.test(rel))) out.push(full);
					}
				}
			};
			walk(root);
			return out;
		},
		read(path) {
			const bytes = readFileSync(path);
			try {
				return utf8.decode(bytes);
			} catch {
				throw new NotTextError(`${path} is not UTF-8 text; kdoctor only edits UTF-8 files, so it leaves this one alone`);
			}
		},
		exists: (path) => existsSync(path),
		writable(path) {
			try {
				return (statSync(path).mode & 0o222) !== 0;
			} catch {
				return false;
			}
		},
		canonical(path) {
			try {
				return realpathSync(path);
			} catch {
				return path;
			}
		},
		writeAtomic: writeFileAtomic,
		stage(path, text) {
			const tmp = writeTemp(path, text);
			return {
				commit: () => renameSync(tmp, path),
				abort: () => unlinkQuiet(tmp),
			};
		},
	};
}
