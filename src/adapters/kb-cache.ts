import {createHash} from 'node:crypto';
import {mkdirSync, readFileSync} from 'node:fs';
import {join} from 'node:path';
import type {Kb, KbSource} from '../core/kb/load.js';
import type {Entry} from '../core/kb/schema.js';
import {writeFileAtomic} from './fs-port.js';
import {stateDir} from './journal.js';

type Cached = {entries: Entry[]; settings: Kb['settings']; files: Kb['files']};

/** Content address of the KB sources (and of kdoctor's own version, whose schema validated them). */
export function kbKey(sources: KbSource[], version: string): string {
	const h = createHash('sha256').update(version);
	for (const s of sources) h.update('\0').update(s.path).update('\0').update(s.text);
	return h.digest('hex').slice(0, 32);
}

const dir = () => join(stateDir(), 'kb-cache');

/** A KB validated earlier from exactly these sources, or undefined (any problem means: validate again). */
export function readCachedKb(key: string): Kb | undefined {
	try {
		const c = JSON.parse(readFileSync(join(dir(), `${key}.json`), 'utf8')) as Cached;
		return {...c, byId: new Map(c.entries.map((e) => [e.id, e]))};
	} catch {
		return undefined;
	}
}

/** Remembers a validated KB; caching is an optimisation, so a read-only state dir is not an error. */
export function writeCachedKb(key: string, kb: Kb): void {
	try {
		mkdirSync(dir(), {recursive: true});
		const c: Cached = {entries: kb.entries, settings: kb.settings, files: kb.files};
		writeFileAtomic(join(dir(), `${key}.json`), JSON.stringify(c));
	} catch {
		/* no cache this time */
	}
}
