import {closeSync, existsSync, fsyncSync, openSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeSync} from 'node:fs';
import {basename, dirname, join, relative, sep} from 'node:path';
import type {FsPort} from '../core/ports.js';

const SKIP = new Set(['node_modules', '.git', 'dist', 'vendor', '.cache', 'coverdata']);
const MAX_FILES = 20_000;
const MAX_SIZE = 1024 * 1024;

/** Turns a small glob (**, *, ?) into a regex over '/'-separated relative paths. */
export function globToRegExp(glob: string): RegExp {
	let re = '';
	for (let i = 0; i < glob.length; i++) {
		const c = glob[i]!;
		if (c === '*' && glob[i + 1] === '*') {
			if (glob[i + 2] === '/') {
				re += '(?:.*/)?';
				i += 2;
			} else {
				re += '.*';
				i++;
			}
		} else if (c === '*') re += '[^/]*';
		else if (c === '?') re += '[^/]';
		else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
	}
	return new RegExp(`^${re}$`);
}

/** Writes via a temp file in the same folder and renames it over the target. */
export function writeFileAtomic(path: string, text: string | Uint8Array): void {
	const tmp = join(dirname(path), `.${basename(path)}.kdoctor-${process.pid}-${Date.now()}.tmp`);
	const fd = openSync(tmp, 'w', existsSync(path) ? statSync(path).mode & 0o777 : 0o644);
	try {
		if (typeof text === 'string') writeSync(fd, text);
		else writeSync(fd, text);
		fsyncSync(fd);
	} finally {
		closeSync(fd);
	}
	try {
		renameSync(tmp, path);
	} catch (error) {
		try {
			unlinkSync(tmp);
		} catch {
			/* already gone */
		}
		throw error;
	}
}

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
						st = statSync(full);
					} catch {
						continue;
					}
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
		read: (path) => readFileSync(path, 'utf8'),
		exists: (path) => existsSync(path),
		writeAtomic: writeFileAtomic,
	};
}
