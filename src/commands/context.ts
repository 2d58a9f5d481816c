import {resolve, sep} from 'node:path';
import {findTeamKbDir, readCaseSources, readKbSources, defaultKbDir, packageVersion} from '../adapters/kb-files.js';
import {describeFsError, InputError} from '../adapters/input.js';
import {kbKey, readCachedKb, writeCachedKb} from '../adapters/kb-cache.js';
import {anyConfig} from './config-paths.js';
import {lazyCaseIndex} from '../core/diagnose/resemble.js';
import {compileKb, prefilterParts, type CompiledKb, type PrefilterParts} from '../core/kb/compile.js';
import type {Kb, KbSource} from '../core/kb/load.js';

/** `kbExtra`: team KB folders layered over the built-in one; `teamKb: false` (--no-team-kb) ignores .kdoctor/knowledge. */
export type GlobalOptions = {kb?: string; kbExtra?: string[]; teamKb?: boolean; config?: string; allowRegistry?: string[]};

/** The KB folders of a run: the built-in one (or --kb), then the team's nearest .kdoctor/knowledge, then --kb-extra. */
export function kbDirs(opts: GlobalOptions): {base: string; team: string[]} {
	const found = opts.teamKb === false ? undefined : findTeamKbDir();
	const team = [...(found ? [found] : []), ...(opts.kbExtra ?? []).map((d) => (d.endsWith(sep) ? d : d + sep))];
	return {base: opts.kb ?? defaultKbDir, team: [...new Set(team.map((d) => resolve(d) + sep))]};
}

/** The YAML of every KB folder of a run, the built-in (or --kb) first; an unreadable folder is one line. */
export function readAllKbSources(opts: GlobalOptions): KbSource[] {
	const {base, team} = kbDirs(opts);
	const read = (dir: string, layer?: 'team') => {
		try {
			return readKbSources(dir, layer);
		} catch (error) {
			throw new InputError(describeFsError(dir, error, 'file'));
		}
	};
	const sources = read(base);
	if (sources.length === 0) throw new InputError(`${base}: no knowledge base files (*.yaml) found`);
	return [...sources, ...team.flatMap((d) => read(d, 'team'))];
}

/** The case libraries (cases/*.jsonl) of these KB folders. */
export function readAllCaseSources(dirs: string[]): KbSource[] {
	return dirs.flatMap((d) => {
		try {
			return readCaseSources(d);
		} catch (error) {
			throw new InputError(describeFsError(`${d}cases`, error, 'file'));
		}
	});
}

/**
 * KB settings from the settings files (the user's config.yaml, then --config or ./kdoctor.yaml) and --allow-registry
 * last; YAML and zod load only when a file is there.
 */
export async function loadOverrides(opts: GlobalOptions): Promise<Record<string, string[]>> {
	let overrides: Record<string, string[]> = {};
	if (anyConfig(opts.config)) {
		const [{kbOverrides}, {configLayers}] = await Promise.all([import('../core/config.js'), import('./config-files.js')]);
		for (const layer of configLayers(opts.config)) overrides = {...overrides, ...kbOverrides(layer.config)};
	}
	if (opts.allowRegistry && opts.allowRegistry.length > 0) overrides.allowedBaseRegistries = opts.allowRegistry;
	return overrides;
}

/**
 * Loads, validates and compiles the KB. Validation (YAML + zod) runs once per distinct content: the result
 * is kept under the state dir keyed by a hash of the sources, so later runs skip straight to compiling.
 */
export async function loadCompiledKb(opts: GlobalOptions): Promise<CompiledKb> {
	const overrides = await loadOverrides(opts);
	const {base: dir, team} = kbDirs(opts);
	const sources = readAllKbSources(opts);
	const key = kbKey(sources, packageVersion);
	const cached = process.env.KDOCTOR_NO_KB_CACHE ? undefined : readCachedKb(key);
	let kb: Kb | undefined = cached?.kb;
	let parts: PrefilterParts | undefined = cached?.parts;
	if (!kb) {
		const {KbError, loadKb} = await import('../core/kb/load.js');
		try {
			kb = loadKb(sources);
		} catch (error) {
			if (error instanceof KbError) throw new InputError(`the knowledge base is invalid:\n${error.message}`);
			throw error;
		}
	}
	const compiled = compileKb({...kb, settings: {...kb.settings, ...overrides}}, parts);
	if (!parts && !process.env.KDOCTOR_NO_KB_CACHE) writeCachedKb(key, kb, prefilterParts(compiled));
	const cases = lazyCaseIndex(kb, () => readAllCaseSources([dir, ...team]));
	// A broken case library is the user's file (with --kb), not a bug: one line, naming it.
	compiled.cases = () => {
		try {
			return cases();
		} catch (error) {
			throw error instanceof InputError ? error : new InputError(`the case library is invalid: ${(error as Error).message}`);
		}
	};
	return compiled;
}
