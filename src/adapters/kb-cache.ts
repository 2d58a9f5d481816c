import {createHash} from 'node:crypto';
import {closeSync, openSync, readdirSync, readFileSync, readSync, statSync, unlinkSync} from 'node:fs';
import {join} from 'node:path';
import type {PrefilterParts} from '../core/kb/compile.js';
import type {Kb, KbSource} from '../core/kb/load.js';
import type {Entry} from '../core/kb/schema.js';
import type {AutomatonParts} from '../core/kb/aho.js';
import {writeFileAtomic} from './fs-port.js';
import {privateStateDir, stateDir} from './state-dir.js';

type Cached = {
	entries: Entry[];
	contexts: Kb['contexts'];
	settings: Kb['settings'];
	files: Kb['files'];
	overridden?: Kb['overridden'];
	itemLiterals?: PrefilterParts['itemLiterals'];
	literals?: string[];
	outputs?: number[][];
};

/** Content address of the KB sources (and of kdoctor's own version, whose schema validated them). */
export function kbKey(sources: KbSource[], version: string): string {
	// The cached prefilter's layout changes with kdoctor's code as much as with the KB: its format is part of the key.
	const h = createHash('sha256').update(version).update('\0prefilter-3');
	for (const s of sources) h.update('\0').update(s.path).update('\0').update(s.text);
	return h.digest('hex').slice(0, 32);
}

const dir = () => join(stateDir(), 'kb-cache');

/** A KB validated earlier from exactly these sources (and its prefilter), or undefined: then validate again. */
export function readCachedKb(key: string): {kb: Kb; parts?: PrefilterParts} | undefined {
	let c: Cached;
	try {
		c = JSON.parse(readFileSync(join(dir(), `${key}.json`), 'utf8')) as Cached;
	} catch {
		return undefined;
	}
	const kb: Kb = {
		entries: c.entries,
		contexts: c.contexts ?? [],
		settings: c.settings,
		files: c.files,
		overridden: c.overridden ?? [],
		byId: new Map(c.entries.map((e) => [e.id, e])),
	};
	let parts: PrefilterParts | undefined;
	try {
		if (c.itemLiterals && c.literals && c.outputs) {
			const file = join(dir(), `${key}.ac`);
			// The table has one 256-entry row per state plus the newline and escape rows.
			const size = (c.outputs.length + 2) * 256 * 4;
			if (statSync(file).size !== size) throw new Error('truncated automaton');
			// Read when first scanned, straight into an aligned typed array (no copy).
			const bytes = () => {
				const table = new Int32Array(size / 4);
				const fd = openSync(file, 'r');
				try {
					if (readSync(fd, new Uint8Array(table.buffer), 0, size, 0) !== size) throw new Error('truncated automaton');
				} finally {
					closeSync(fd);
				}
				return table;
			};
			parts = {itemLiterals: c.itemLiterals, automaton: {literals: c.literals, outputs: c.outputs, bytes}};
		}
	} catch {
		parts = undefined;
	}
	return {kb, parts};
}

/** Remembers a validated KB and its prefilter; caching is an optimisation, so a read-only state dir is fine. */
export function writeCachedKb(key: string, kb: Kb, parts: PrefilterParts & {automaton: AutomatonParts}): void {
	try {
		privateStateDir('kb-cache');
		const a = parts.automaton;
		writeFileAtomic(join(dir(), `${key}.ac`), Buffer.from(a.bytes.buffer, a.bytes.byteOffset, a.bytes.byteLength));
		const c: Cached = {
			entries: kb.entries,
			contexts: kb.contexts,
			settings: kb.settings,
			files: kb.files,
			overridden: kb.overridden,
			itemLiterals: parts.itemLiterals,
			literals: a.literals,
			outputs: a.outputs,
		};
		writeFileAtomic(join(dir(), `${key}.json`), JSON.stringify(c));
		// Only the current KB is worth keeping: drop caches of earlier versions.
		for (const name of readdirSync(dir())) if (!name.startsWith(key)) unlinkSync(join(dir(), name));
	} catch {
		/* no cache this time */
	}
}
