import {createHash} from 'node:crypto';
import {lstatSync, readdirSync, readFileSync, readlinkSync} from 'node:fs';
import {join, relative, sep} from 'node:path';
import {globToRegExp} from '../core/glob.js';

type Rule = {re: RegExp; negate: boolean};

/** .dockerignore as the engine reads it: later lines win, `!` re-includes, a pattern also covers what is under it. */
export function parseDockerignore(text: string): Rule[] {
	const rules: Rule[] = [];
	for (const raw of text.split(/\r?\n/)) {
		let line = raw.trim();
		if (!line || line.startsWith('#')) continue;
		const negate = line.startsWith('!');
		if (negate) line = line.slice(1).trim();
		line = line.replace(/^\.?\//, '').replace(/\/+$/, '');
		if (!line) continue;
		rules.push({re: new RegExp(`${globToRegExp(line).source.slice(0, -1)}(?:/.*)?$`), negate});
	}
	return rules;
}

function ignored(rules: Rule[], rel: string): boolean {
	let out = false;
	for (const r of rules) if (r.re.test(rel)) out = !r.negate;
	return out;
}

export type HashInput = {dockerfile: string; context: string; buildArgs: Record<string, string>; platform?: string};

/**
 * The build cache key: the Dockerfile, every file the engine would send as context (after .dockerignore),
 * with its path and mode, the build args and the platform. Same key, same image — so it need not be built.
 */
export function contextHash(input: HashInput): string {
	const h = createHash('sha256');
	h.update('kdoctor-build-v1\0');
	h.update(readFileSync(input.dockerfile));
	h.update('\0');
	for (const k of Object.keys(input.buildArgs).sort()) h.update(`arg ${k}=${input.buildArgs[k]}\0`);
	h.update(`platform ${input.platform ?? 'native'}\0`);
	let rules: Rule[] = [];
	try {
		rules = parseDockerignore(readFileSync(join(input.context, '.dockerignore'), 'utf8'));
	} catch {
		// No .dockerignore: the whole folder is context.
	}
	const walk = (dir: string) => {
		for (const name of readdirSync(dir).sort()) {
			const full = join(dir, name);
			const rel = relative(input.context, full).split(sep).join('/');
			if (ignored(rules, rel)) continue;
			const st = lstatSync(full);
			if (st.isDirectory()) walk(full);
			else if (st.isSymbolicLink()) h.update(`link ${rel} ${readlinkSync(full)}\0`);
			else if (st.isFile()) {
				h.update(`file ${rel} ${st.mode & 0o777}\0`);
				h.update(readFileSync(full));
				h.update('\0');
			}
		}
	};
	walk(input.context);
	return h.digest('hex');
}
