import {closeSync, fstatSync, lstatSync, openSync, readdirSync, readSync, realpathSync, constants} from 'node:fs';
import {isAbsolute, join, relative, sep} from 'node:path';

/**
 * Reads below one folder and nowhere else: a run folder copied from another machine is someone else's text, and a
 * link in it (`steps/x.log -> ~/.ssh/id_rsa`, `bundle/root -> /`) or a path in its run.json (`../../..`) must not
 * pull a file of this machine into a report. Every refusal is kept, to be said in the report.
 */
export type ConfinedReader = {
	readonly root: string;
	/** The bytes of root/rel (up to max from its end when tail is set), or undefined (missing, or refused: see refused). */
	read(rel: string, opts?: {max?: number; tail?: boolean}): Buffer | undefined;
	/** Every regular file below root/rel with its size, links and special files left out (and said), bounded. */
	walk(rel: string, limit: number): {files: {path: string; bytes: number}[]; truncated: boolean};
	exists(rel: string): boolean;
	readonly refused: string[];
};

/** A relative path that stays inside: no absolute path, no `..` segment, no NUL. */
export function isPlainRelative(rel: string): boolean {
	return rel.length > 0 && !isAbsolute(rel) && !rel.includes('\0') && !rel.split(/[\\/]/).includes('..');
}

export function confinedReader(root: string): ConfinedReader {
	const real = realpathSync(root);
	const refused: string[] = [];
	const refuse = (rel: string, why: string) => {
		const line = `${rel}: ${why}`;
		if (!refused.includes(line)) refused.push(line);
	};
	const inside = (p: string) => {
		const r = relative(real, p);
		return r === '' || (!r.startsWith('..') && !isAbsolute(r));
	};
	/** The path to open, or undefined when rel leaves the folder (by its spelling or by a link on the way). */
	const locate = (rel: string): string | undefined => {
		if (!isPlainRelative(rel)) {
			refuse(rel, 'not a path inside the run folder (absolute or with ..): not read');
			return undefined;
		}
		const full = join(real, rel);
		let target: string;
		try {
			target = realpathSync(full);
		} catch {
			return undefined;
		}
		if (!inside(target)) {
			refuse(rel, 'a link that leaves the run folder: not followed');
			return undefined;
		}
		return target;
	};
	return {
		root: real,
		refused,
		exists: (rel) => locate(rel) !== undefined,
		read(rel, opts = {}) {
			const path = locate(rel);
			if (!path) return undefined;
			let fd: number;
			try {
				// O_NOFOLLOW: the file checked above cannot be swapped for a link before it is opened.
				fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
			} catch {
				return undefined;
			}
			try {
				const st = fstatSync(fd);
				if (!st.isFile()) {
					refuse(rel, 'not a regular file: not read');
					return undefined;
				}
				// A hard link is another name for a file anywhere on the disk; kdoctor never writes one in a run.
				if (st.nlink > 1) {
					refuse(rel, 'a hard link (another name of a file elsewhere): not read');
					return undefined;
				}
				const len = opts.max === undefined ? st.size : Math.min(st.size, opts.max);
				const buf = Buffer.alloc(len);
				let got = 0;
				const from = opts.tail ? st.size - len : 0;
				while (got < len) {
					const n = readSync(fd, buf, got, len - got, from + got);
					if (n === 0) break;
					got += n;
				}
				return buf.subarray(0, got);
			} finally {
				closeSync(fd);
			}
		},
		walk(rel, limit) {
			const files: {path: string; bytes: number}[] = [];
			let truncated = false;
			const start = locate(rel);
			if (!start) return {files, truncated};
			const visit = (dir: string) => {
				let names: string[];
				try {
					names = readdirSync(dir).sort();
				} catch {
					return;
				}
				for (const n of names) {
					if (files.length >= limit) {
						truncated = true;
						return;
					}
					const full = join(dir, n);
					const shown = relative(start, full).split(sep).join('/');
					let st;
					try {
						st = lstatSync(full);
					} catch {
						continue;
					}
					if (st.isSymbolicLink()) {
						let to: string | undefined;
						try {
							to = realpathSync(full);
						} catch {
							to = undefined;
						}
						refuse(
							`${rel}/${shown}`,
							to && inside(to) ? 'a link (listed once, at its target)' : 'a link that leaves the run folder: not followed',
						);
						continue;
					}
					if (st.isDirectory()) visit(full);
					else if (st.isFile() && st.nlink <= 1) files.push({path: shown, bytes: st.size});
					else if (st.isFile()) refuse(`${rel}/${shown}`, 'a hard link (another name of a file elsewhere): not read');
				}
			};
			visit(start);
			return {files, truncated};
		},
	};
}
