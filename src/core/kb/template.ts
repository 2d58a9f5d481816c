import {quoteArg} from '../text/quote.js';
import type {Remediation} from './schema.js';

const VAR = /\{\{(\w+)\}\}/g;

/** Fills {{name}} from the finding's captures; names it cannot fill are reported, never guessed. */
export function fillTemplate(template: string, vars: Record<string, string>): {text: string; missing: string[]} {
	const missing: string[] = [];
	const text = template.replace(VAR, (m, name: string) => {
		if (vars[name] !== undefined) return vars[name]!;
		missing.push(name);
		return m;
	});
	return {text, missing};
}

/**
 * Text for people: an unknown value reads as <name> rather than template syntax, and a known one is shell-quoted
 * when it holds anything but plain word characters, so a `verify:` or `undo:` line copied into a shell runs as shown.
 */
export function displayTemplate(template: string, vars: Record<string, string>): string {
	return template.replace(VAR, (_m, name: string) => (vars[name] === undefined ? `<${name}>` : quoteArg(vars[name]!)));
}

/** Template variables: the finding's captures plus the remediation's derived values. */
export function templateVars(rem: Pick<Remediation, 'derive'>, captures: Record<string, string>): Record<string, string> {
	const vars: Record<string, string> = {...captures};
	for (const [name, spec] of Object.entries(rem.derive ?? {})) {
		const source = vars[spec.from];
		if (source === undefined) continue;
		const rule = spec.rules.find((r) => new RegExp(r.match, 'i').test(source));
		if (rule) vars[name] = fillTemplate(rule.value, vars).text;
	}
	return vars;
}
