import {createHmac, randomBytes, timingSafeEqual} from 'node:crypto';
import {readdirSync, readFileSync} from 'node:fs';
import {isAbsolute, join} from 'node:path';
import type {JournalEntry, JournalPort, JournalProblem} from '../core/ports.js';
import {JOURNAL_SHAPE} from '../core/remediate/changes.js';
import {writeFileAtomic} from './fs-port.js';
import {ownerOnly, privateStateDir, stateDir} from './state-dir.js';

export {stateDir};

const KINDS = new Set(['edit-file', 'kube-patch', 'command']);

/** One line on what is wrong with a parsed journal record, or undefined when it has the shape kdoctor writes. */
export function entryProblem(v: unknown): string | undefined {
	if (v === null || typeof v !== 'object' || Array.isArray(v)) return 'not a journal entry (not a JSON object)';
	const e = v as Partial<JournalEntry>;
	if (e.v !== undefined && (typeof e.v !== 'number' || e.v > JOURNAL_SHAPE))
		return `shape ${JSON.stringify(e.v)}, written by a newer kdoctor`;
	if (typeof e.id !== 'string' || !/^[\w.-]+$/.test(e.id)) return 'no valid id';
	if (typeof e.at !== 'string' || Number.isNaN(Date.parse(e.at))) return 'no valid time';
	if (typeof e.kind !== 'string' || !KINDS.has(e.kind)) return `unknown kind ${JSON.stringify(e.kind)}`;
	if (typeof e.title !== 'string' || typeof e.finding !== 'string') return 'no title or finding';
	if (!Array.isArray(e.files)) return 'no files list';
	for (const f of e.files) {
		if (!f || typeof f !== 'object' || typeof f.path !== 'string' || typeof f.before !== 'string' || typeof f.after !== 'string')
			return 'a file change without path, before and after';
		if (!isAbsolute(f.path)) return `a file change with a relative path (${f.path})`;
	}
	return undefined;
}

/**
 * The undo journal: one JSON file per change, 0600 in a 0700 folder (they hold whole copies of edited files).
 * Each entry carries an HMAC under a key only this user's kdoctor holds (`journal/.key`), so an entry someone planted
 * or copied from another machine is reported as foreign and never undone: undo writes only where kdoctor wrote.
 * `verify: false` reads entries for display only (a report of a run folder copied from another machine).
 */
export function createJournal(dir: string = join(stateDir(), 'journal'), opts: {verify?: boolean} = {}): JournalPort {
	const verify = opts.verify ?? true;
	const path = (id: string) => join(dir, `${id}.json`);
	let key: Buffer | undefined;
	const keyOf = (create: boolean): Buffer | undefined => {
		if (key) return key;
		const file = join(dir, '.key');
		try {
			const k = Buffer.from(readFileSync(file, 'utf8').trim(), 'hex');
			if (k.length === 32) return (key = k);
		} catch {
			/* no key yet */
		}
		if (!create) return undefined;
		const k = randomBytes(32);
		writeFileAtomic(file, `${k.toString('hex')}\n`, {mode: 0o600});
		return (key = k);
	};
	const mac = (k: Buffer, entry: JournalEntry) => createHmac('sha256', k).update(JSON.stringify(entry)).digest('hex');
	const write = (entry: JournalEntry) => {
		if (dir === join(stateDir(), 'journal')) privateStateDir('journal');
		else ownerOnly(dir);
		const {mac: _old, ...plain} = entry as JournalEntry & {mac?: string};
		writeFileAtomic(path(entry.id), JSON.stringify({...plain, mac: mac(keyOf(true)!, plain)}, null, 2) + '\n', {mode: 0o600});
	};
	const read = (): {entries: JournalEntry[]; problems: JournalProblem[]} => {
		let names: string[];
		try {
			names = readdirSync(dir).filter((n) => n.endsWith('.json'));
		} catch {
			return {entries: [], problems: []};
		}
		const entries: JournalEntry[] = [];
		const problems: JournalProblem[] = [];
		const k = verify ? keyOf(false) : undefined;
		for (const n of names.sort()) {
			const file = join(dir, n);
			let value: unknown;
			try {
				value = JSON.parse(readFileSync(file, 'utf8'));
			} catch (error) {
				problems.push({file, why: `damaged: ${(error as Error).message.split('\n')[0]}`});
				continue;
			}
			const problem = entryProblem(value);
			if (problem) {
				problems.push({file, why: `damaged: ${problem}`});
				continue;
			}
			const {mac: given, ...plain} = value as JournalEntry & {mac?: unknown};
			if (verify) {
				if (typeof given !== 'string' || !k || !sameHex(given, mac(k, plain as JournalEntry))) {
					problems.push({file, why: 'foreign: not written by this kdoctor (no valid signature), so it is never undone'});
					continue;
				}
				if (n !== `${plain.id}.json`) {
					problems.push({file, why: `foreign: its id ${plain.id} is not its file name`});
					continue;
				}
			}
			entries.push(plain as JournalEntry);
		}
		return {entries, problems};
	};
	return {
		record: write,
		list: () => read().entries,
		problems: () => read().problems,
		markUndone(id, at) {
			const entry = read().entries.find((e) => e.id === id);
			if (!entry) throw new Error(`journal entry ${id} is not one kdoctor wrote here`);
			write({...entry, undone: at});
		},
	};
}

function sameHex(a: string, b: string): boolean {
	const x = Buffer.from(a, 'hex');
	const y = Buffer.from(b, 'hex');
	return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}
