import {readCaseSources, readKbSources} from '../../src/adapters/kb-files.js';
import {lazyCaseIndex} from '../../src/core/diagnose/resemble.js';
import {compileKb, type CompiledKb} from '../../src/core/kb/compile.js';
import {loadKb} from '../../src/core/kb/load.js';

let cached: CompiledKb | undefined;

/** The real, shipped knowledge base, compiled once per test file. */
export function realKb(): CompiledKb {
	if (!cached) {
		const kb = loadKb(readKbSources());
		cached = compileKb(kb);
		cached.cases = lazyCaseIndex(kb, () => readCaseSources());
	}
	return cached;
}

/** A tiny KB written inline, for engine tests that must not depend on the shipped entries. */
export function inlineKb(yaml: string): CompiledKb {
	return compileKb(loadKb([{path: 'inline.yaml', text: yaml}]));
}
