import {existsSync} from 'node:fs';
import {homedir} from 'node:os';
import {join, resolve} from 'node:path';

// Where kdoctor's settings files are; no YAML here, so a command that finds none never loads a parser.

/** `$XDG_CONFIG_HOME/kdoctor/config.yaml`, else `~/.config/kdoctor/config.yaml`: the person's own defaults. */
export function userConfigPath(env: NodeJS.ProcessEnv = process.env): string {
	return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'kdoctor', 'config.yaml');
}

/** --config FILE (which must exist), else ./kdoctor.yaml when there is one. */
export function projectConfigPath(explicit: string | undefined, cwd: string = process.cwd()): string | undefined {
	if (explicit !== undefined) return resolve(cwd, explicit);
	const here = join(cwd, 'kdoctor.yaml');
	return existsSync(here) ? here : undefined;
}

/** True when either file is there: callers that only want the settings skip loading YAML and zod otherwise. */
export function anyConfig(explicit: string | undefined, cwd: string = process.cwd()): boolean {
	return explicit !== undefined || existsSync(userConfigPath()) || projectConfigPath(undefined, cwd) !== undefined;
}
