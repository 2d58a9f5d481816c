import {readKbSources} from '../../src/adapters/kb-files.js';
import {compileKb, type CompiledKb} from '../../src/core/kb/compile.js';
import {loadKb} from '../../src/core/kb/load.js';

let cached: CompiledKb | undefined;

/** The real, shipped knowledge base, compiled once per test file. */
export function realKb(): CompiledKb {
	cached ??= compileKb(loadKb(readKbSources()));
	return cached;
}

/** A tiny KB written inline, for engine tests that must not depend on the shipped entries. */
export function inlineKb(yaml: string): CompiledKb {
	return compileKb(loadKb([{path: 'inline.yaml', text: yaml}]));
}
