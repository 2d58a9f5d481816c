import {readdirSync, readFileSync} from 'node:fs';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import type {KbSource} from '../core/kb/load.js';

/** The KB shipped beside dist/ and src/: both resolve ../../knowledge to the same folder. */
export const defaultKbDir = fileURLToPath(new URL('../../knowledge/', import.meta.url));

/** Reads every *.yaml of a KB folder, in name order so load order is stable. */
export function readKbSources(dir: string = defaultKbDir): KbSource[] {
	const names = readdirSync(dir)
		.filter((n) => n.endsWith('.yaml') || n.endsWith('.yml'))
		.sort();
	return names.map((n) => ({path: join(dir, n), text: readFileSync(join(dir, n), 'utf8')}));
}

/** kdoctor's install folder (the package root, beside dist/ and knowledge/): a fix never edits a file in it. */
export const installDir = fileURLToPath(new URL('../../', import.meta.url));
