import {mkdirSync, readdirSync, readFileSync} from 'node:fs';
import {homedir} from 'node:os';
import {join} from 'node:path';
import type {JournalEntry, JournalPort} from '../core/ports.js';
import {writeFileAtomic} from './fs-port.js';

/** Where kdoctor keeps its state: KDOCTOR_STATE_DIR, else $XDG_STATE_HOME/kdoctor, else ~/.local/state/kdoctor. */
export function stateDir(): string {
	if (process.env.KDOCTOR_STATE_DIR) return process.env.KDOCTOR_STATE_DIR;
	const base = process.env.XDG_STATE_HOME || join(homedir(), '.local', 'state');
	return join(base, 'kdoctor');
}

/** One JSON file per change, written atomically; undo marks it rather than deleting it. */
export function createJournal(dir: string = join(stateDir(), 'journal')): JournalPort {
	const path = (id: string) => join(dir, `${id}.json`);
	return {
		record(entry) {
			mkdirSync(dir, {recursive: true});
			writeFileAtomic(path(entry.id), JSON.stringify(entry, null, 2) + '\n');
		},
		list() {
			let names: string[];
			try {
				names = readdirSync(dir).filter((n) => n.endsWith('.json'));
			} catch {
				return [];
			}
			const out: JournalEntry[] = [];
			for (const n of names) {
				try {
					out.push(JSON.parse(readFileSync(join(dir, n), 'utf8')) as JournalEntry);
				} catch {
					/* a damaged record is skipped, never fatal */
				}
			}
			return out;
		},
		markUndone(id, at) {
			const entry = JSON.parse(readFileSync(path(id), 'utf8')) as JournalEntry;
			writeFileAtomic(path(id), JSON.stringify({...entry, undone: at}, null, 2) + '\n');
		},
	};
}
