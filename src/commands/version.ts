import {packageVersion} from '../adapters/kb-files.js';
import {kbKey} from '../adapters/kb-cache.js';
import {OUTPUT_SCHEMA_VERSION} from '../core/output-schema.js';
import {kbDirs, loadCompiledKb, readAllCaseSources, readAllKbSources, type GlobalOptions} from './context.js';

export type VersionInfo = {
	version: string;
	node: string;
	/** Content hash of every KB file in use (built-in and the team's): two machines with the same hash diagnose alike. */
	kbHash: string;
	entries: number;
	teamEntries: number;
	cases: number;
	schemaVersion: number;
};

/** `kdoctor version`: what a bug report needs to say which kdoctor, which Node and which knowledge gave an answer. */
export async function versionInfo(opts: GlobalOptions): Promise<VersionInfo> {
	const compiled = await loadCompiledKb(opts);
	const {base, team} = kbDirs(opts);
	// The hash is of the files as they are (the loaded KB does not keep its sources).
	const sources = readAllKbSources(opts);
	const cases = readAllCaseSources([base, ...team]);
	return {
		version: packageVersion,
		node: process.versions.node,
		kbHash: kbKey([...sources, ...cases], packageVersion).slice(0, 16),
		entries: compiled.kb.entries.length,
		teamEntries: compiled.kb.files.filter((f) => f.team).reduce((n, f) => n + f.ids.length, 0),
		cases: cases.reduce((n, s) => n + s.text.split('\n').filter((l) => l.trim()).length, 0),
		schemaVersion: OUTPUT_SCHEMA_VERSION,
	};
}
