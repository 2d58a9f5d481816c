import {existsSync, readFileSync} from 'node:fs';
import {describeFsError, InputError} from '../adapters/input.js';
import {parseConfig} from '../core/config.js';
import type {Profile} from '../core/provision/profile.js';

/** kdoctor's own folder: the demo profile's Dockerfiles, services and manifests live here. */
export const packageDir = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');

export type LoadedProfile = {name: string; profile: Profile; origin: string};

function readConfig(path: string) {
	let text: string;
	try {
		text = readFileSync(path, 'utf8');
	} catch (error) {
		throw new InputError(describeFsError(path, error, 'file'));
	}
	try {
		return parseConfig(text, path);
	} catch (error) {
		throw new InputError((error as Error).message);
	}
}

/** Built-in profiles (profiles.yaml beside kdoctor) and the user's kdoctor.yaml ones; the user's win by name. */
export function loadProfiles(configPath: string | undefined): Map<string, LoadedProfile> {
	const out = new Map<string, LoadedProfile>();
	const builtin = `${packageDir}/profiles.yaml`;
	for (const [name, profile] of Object.entries(readConfig(builtin).profiles ?? {})) out.set(name, {name, profile, origin: 'built-in'});
	const user = configPath ?? (existsSync('kdoctor.yaml') ? 'kdoctor.yaml' : undefined);
	if (user) for (const [name, profile] of Object.entries(readConfig(user).profiles ?? {})) out.set(name, {name, profile, origin: user});
	return out;
}

export function pickProfile(profiles: Map<string, LoadedProfile>, name: string): LoadedProfile {
	const p = profiles.get(name);
	if (!p) throw new InputError(`no profile called ${name} (known: ${[...profiles.keys()].join(', ')})`);
	return p;
}
