import {existsSync, readFileSync} from 'node:fs';
import {readKbSources, defaultKbDir} from '../adapters/kb-files.js';
import {describeFsError, InputError} from '../adapters/input.js';
import {kbOverrides, parseConfig, type Config} from '../core/config.js';
import {compileKb, type CompiledKb} from '../core/kb/compile.js';
import {KbError, loadKb} from '../core/kb/load.js';

export type GlobalOptions = {kb?: string; config?: string; allowRegistry?: string[]};

/** Reads kdoctor.yaml (explicit --config, or ./kdoctor.yaml when present). */
export function loadConfig(opts: GlobalOptions): Config {
	const path = opts.config ?? (existsSync('kdoctor.yaml') ? 'kdoctor.yaml' : undefined);
	if (!path) return parseConfig('{}', '(defaults)');
	let text: string;
	try {
		text = readFileSync(path, 'utf8');
	} catch (error) {
		throw new InputError(describeFsError(path, error));
	}
	return parseConfig(text, path);
}

/** Loads, validates and compiles the KB once per process. */
export function loadCompiledKb(opts: GlobalOptions): CompiledKb {
	const config = loadConfig(opts);
	const overrides: Record<string, string[]> = kbOverrides(config);
	if (opts.allowRegistry && opts.allowRegistry.length > 0) overrides.allowedBaseRegistries = opts.allowRegistry;
	const dir = opts.kb ?? defaultKbDir;
	let sources;
	try {
		sources = readKbSources(dir);
	} catch (error) {
		throw new InputError(describeFsError(dir, error));
	}
	if (sources.length === 0) throw new InputError(`${dir}: no knowledge base files (*.yaml) found`);
	try {
		return compileKb(loadKb(sources, overrides));
	} catch (error) {
		if (error instanceof KbError) throw new InputError(`the knowledge base is invalid:\n${error.message}`);
		throw error;
	}
}
