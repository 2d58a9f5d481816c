import {existsSync, readdirSync, readFileSync, statSync} from 'node:fs';
import {dirname, join, resolve} from 'node:path';
import {InputError} from '../adapters/input.js';
import {installDir} from '../adapters/kb-files.js';
import {configLayers, readBuiltinConfig} from './config-files.js';
import {globToRegExp} from '../core/glob.js';
import type {Profile} from '../core/provision/profile.js';

/** kdoctor's own folder: the demo profile's Dockerfiles, services and manifests live here. */
export const packageDir = installDir.replace(/\/$/, '');

export type LoadedProfile = {name: string; profile: Profile; origin: string};

/**
 * Built-in profiles (profiles.yaml beside kdoctor), then the user's config.yaml ones, then this project's (--config or
 * ./kdoctor.yaml): a later one wins by name. A profile's origin is the file it came from (its paths are relative to it).
 */
export function loadProfiles(configPath: string | undefined, cwd: string = process.cwd()): Map<string, LoadedProfile> {
	const out = new Map<string, LoadedProfile>();
	const builtin = `${packageDir}/profiles.yaml`;
	for (const [name, profile] of Object.entries(readBuiltinConfig(builtin).profiles ?? {}))
		out.set(name, {name, profile, origin: 'built-in'});
	for (const layer of configLayers(configPath, cwd))
		for (const [name, profile] of Object.entries(layer.config.profiles ?? {})) out.set(name, {name, profile, origin: layer.path});
	return out;
}

export function pickProfile(profiles: Map<string, LoadedProfile>, name: string): LoadedProfile {
	const p = profiles.get(name);
	if (!p) throw new InputError(`no profile called ${name} (known: ${[...profiles.keys()].join(', ')})`);
	return p;
}

/** kdoctor's own version, as package.json says: recorded in a run, shown in its report. */
export function kdoctorVersion(): string | undefined {
	try {
		return (JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as {version?: string}).version;
	} catch {
		return undefined;
	}
}

/** The folder a profile builds from: --source for a `$source` profile, else its `source` beside the file that defines it. */
export function profileSourceDir(loaded: LoadedProfile, o: {source?: string; cwd: string}): string {
	if (loaded.profile.source === '$source') {
		if (!o.source) throw new InputError(`the ${loaded.name} profile builds from a checkout: pass --source DIR`);
		const dir = resolve(o.cwd, o.source);
		if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new InputError(`--source ${o.source}: not a folder`);
		return dir;
	}
	return resolve(loaded.origin === 'built-in' ? packageDir : dirname(resolve(o.cwd, loaded.origin)), o.source ?? loaded.profile.source);
}

/** A profile's paths as files: `kdoctor:` ones in kdoctor's folder, others in the source folder; one-level globs expanded. */
export function profilePaths(sourceDir: string) {
	const resolvePath = (p: string) => (p.startsWith('kdoctor:') ? join(packageDir, p.slice('kdoctor:'.length)) : resolve(sourceDir, p));
	const expandFiles = (p: string): string[] => {
		const full = resolvePath(p);
		if (!/[*?]/.test(full)) return [full];
		const dir = dirname(full);
		const found = filesMatching(dir, full.slice(dir.length + 1)).map((f) => join(dir, f));
		if (found.length === 0) throw new InputError(`no file matches ${p} (looked in ${dir})`);
		return found;
	};
	return {resolvePath, expandFiles};
}

/** Names of the files in dir that match a one-level glob, sorted; none when dir does not exist. */
export function filesMatching(dir: string, glob: string): string[] {
	const re = globToRegExp(glob);
	return existsSync(dir)
		? readdirSync(dir)
				.filter((f) => re.test(f))
				.sort()
		: [];
}
