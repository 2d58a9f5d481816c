import {existsSync, readFileSync} from 'node:fs';
import {describeFsError, InputError} from '../adapters/input.js';
import {parseConfig, type Config} from '../core/config.js';
import {projectConfigPath, userConfigPath} from './config-paths.js';

/** One settings file and where it came from: the user's (every project) or this project's (wins over the user's). */
export type ConfigLayer = {path: string; origin: 'user' | 'project'; config: Config};

function readLayer(path: string, origin: ConfigLayer['origin']): ConfigLayer {
	let text: string;
	try {
		text = readFileSync(path, 'utf8');
	} catch (error) {
		throw new InputError(describeFsError(path, error, 'file'));
	}
	try {
		return {path, origin, config: parseConfig(text, path)};
	} catch (error) {
		throw new InputError((error as Error).message);
	}
}

const read = new Map<string, ConfigLayer[]>();

/** The one reader of kdoctor's settings files, in the order they apply: the user's, then the project's (read once a run). */
export function configLayers(explicit: string | undefined, cwd: string = process.cwd()): ConfigLayer[] {
	const key = `${explicit ?? ''}\0${cwd}\0${userConfigPath()}`;
	const known = read.get(key);
	if (known) return known;
	const layers: ConfigLayer[] = [];
	const user = userConfigPath();
	if (existsSync(user)) layers.push(readLayer(user, 'user'));
	const project = projectConfigPath(explicit, cwd);
	if (project !== undefined && project !== user) layers.push(readLayer(project, 'project'));
	read.set(key, layers);
	return layers;
}

/** kdoctor's own profiles.yaml, read as a settings file is. */
export function readBuiltinConfig(path: string): Config {
	return readLayer(path, 'project').config;
}
