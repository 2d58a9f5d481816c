import {existsSync, readdirSync, readFileSync, statSync} from 'node:fs';
import {dirname, join, resolve, sep} from 'node:path';
import {fileURLToPath} from 'node:url';
import type {KbSource} from '../core/kb/load.js';

/** The nearest folder up from this file whose package.json is kdoctor's: the same from src/, dist/ and the bundle. */
function findInstallDir(): {dir: string; version: string} {
	for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
		const file = join(dir, 'package.json');
		if (existsSync(file)) {
			const pkg = JSON.parse(readFileSync(file, 'utf8')) as {name?: string; version?: string};
			if (pkg.name === 'kdoctor') return {dir, version: pkg.version ?? '0.0.0'};
		}
		if (dirname(dir) === dir) throw new Error(`kdoctor cannot find its own package.json above ${fileURLToPath(import.meta.url)}`);
	}
}
const install = findInstallDir();

/** kdoctor's install folder (the package root, beside dist/ and knowledge/): a fix never edits a file in it. */
export const installDir = install.dir + sep;
/** kdoctor's version, from its package.json. */
export const packageVersion = install.version;

/** The KB shipped in the install folder. */
export const defaultKbDir = join(install.dir, 'knowledge') + sep;

/** Every file of a folder with one of these endings, in name order so load order is stable. */
function readFolder(dir: string, endings: string[]): KbSource[] {
	return readdirSync(dir)
		.filter((n) => endings.some((e) => n.endsWith(e)))
		.sort()
		.map((n) => ({path: join(dir, n), text: readFileSync(join(dir, n), 'utf8')}));
}

/** Reads every *.yaml of a KB folder. */
export function readKbSources(dir: string = defaultKbDir, layer?: 'team'): KbSource[] {
	return readFolder(dir, ['.yaml', '.yml']).map((s) => (layer ? {...s, layer} : s));
}

/** Where a team keeps its own entries: `.kdoctor/knowledge`, in this folder or the nearest one above it (as git finds .git). */
export const TEAM_KB = join('.kdoctor', 'knowledge');

/** The nearest team KB folder from `from` upward, or undefined. */
export function findTeamKbDir(from: string = process.cwd()): string | undefined {
	for (let dir = resolve(from); ; dir = dirname(dir)) {
		const candidate = join(dir, TEAM_KB);
		try {
			if (statSync(candidate).isDirectory()) return candidate + sep;
		} catch {
			// not here: look one folder up
		}
		if (dirname(dir) === dir) return undefined;
	}
}

/** The case library beside a KB's YAML (cases/*.jsonl), or nothing when the folder has none. */
export function readCaseSources(dir: string = defaultKbDir): KbSource[] {
	const folder = join(dir, 'cases');
	return existsSync(folder) ? readFolder(folder, ['.jsonl']) : [];
}
