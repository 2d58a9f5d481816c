import {isNode, LineCounter, parseDocument} from 'yaml';
import type {z} from 'zod';
import {mayBacktrack, signalPatterns} from './patterns.js';
import {KbFileSchema, type Context, type Entry, type KbFile} from './schema.js';

/** `layer: 'team'`: a team's own entries (.kdoctor/knowledge, --kb-extra), layered over the built-in KB. */
export type KbSource = {path: string; text: string; layer?: 'team'};

export type KbProblem = {path: string; line: number; message: string};

export type Kb = {
	entries: Entry[];
	contexts: Context[];
	byId: Map<string, Entry>;
	settings: Record<string, string | string[]>;
	files: {path: string; topic: string; ids: string[]; team?: boolean}[];
	/** Built-in entries a team entry of the same id replaced. */
	overridden: {id: string; by: string}[];
};

export class KbError extends Error {
	constructor(readonly problems: KbProblem[]) {
		super(problems.map((p) => `${p.path}:${p.line}: ${p.message}`).join('\n'));
		this.name = 'KbError';
	}
}

/** Parses and validates KB sources; every problem carries the file and line it comes from. */
export function loadKb(sources: KbSource[], overrides: Record<string, string | string[]> = {}): Kb {
	const problems: KbProblem[] = [];
	const files: {path: string; parsed: KbFile; lines: number[]; team: boolean}[] = [];
	for (const src of sources) {
		const lc = new LineCounter();
		const doc = parseDocument(src.text, {lineCounter: lc, prettyErrors: false, uniqueKeys: true});
		if (doc.errors.length > 0) {
			for (const e of doc.errors) problems.push({path: src.path, line: lc.linePos(e.pos[0]).line, message: e.message.split('\n')[0]!});
			continue;
		}
		const result = KbFileSchema.safeParse(doc.toJS());
		if (!result.success) {
			for (const issue of result.error.issues) problems.push({path: src.path, line: lineOf(doc, lc, issue), message: describeIssue(issue)});
			continue;
		}
		const lines = result.data.entries.map((_, i) => {
			const node = doc.getIn(['entries', i], true);
			return isNode(node) && node.range ? lc.linePos(node.range[0]).line : 1;
		});
		files.push({path: src.path, parsed: result.data, lines, team: src.layer === 'team'});
	}

	const byId = new Map<string, Entry>();
	const fromTeam = new Set<string>();
	const overridden: {id: string; by: string}[] = [];
	const settings: Record<string, string | string[]> = Object.assign({}, ...files.map((f) => f.parsed.settings));
	for (const {path, parsed, lines, team} of files) {
		for (const [index, parsedEntry] of parsed.entries.entries()) {
			const line = lines[index]!;
			const entry = team ? asTeamEntry(parsedEntry) : parsedEntry;
			// A team entry may replace a built-in one of the same id; two of one layer are a mistake.
			if (team && byId.has(entry.id) && !fromTeam.has(entry.id)) overridden.push({id: entry.id, by: path});
			else if (byId.has(entry.id)) problems.push({path, line, message: `duplicate id "${entry.id}"`});
			if (team) {
				fromTeam.add(entry.id);
				for (const problem of teamProblems(entry)) problems.push({path, line, message: problem});
			}
			byId.set(entry.id, entry);
			const sigIds = new Set<string>();
			for (const s of entry.signals) {
				if (sigIds.has(s.id)) problems.push({path, line, message: `${entry.id}: duplicate signal id "${s.id}"`});
				sigIds.add(s.id);
				for (const p of signalPatterns(s)) {
					const err = regexError(p);
					if (err) problems.push({path, line, message: `${entry.id}/${s.id}: invalid pattern: ${err}`});
				}
				const unless = s.capture?.unlessPrefix;
				if (typeof unless === 'string' && !(unless.slice(1) in settings))
					problems.push({path, line, message: `${entry.id}/${s.id}: unknown setting ${unless}`});
			}
			if (!entry.signals.some((s) => s.role === 'signature'))
				problems.push({path, line, message: `${entry.id}: needs at least one signal with role: signature`});
			const keys = new Set<string>();
			for (const r of entry.remediations) {
				if (keys.has(r.key)) problems.push({path, line, message: `${entry.id}: remediation key "${r.key}" used twice`});
				keys.add(r.key);
			}
		}
	}
	if (problems.length > 0) throw new KbError(problems);
	Object.assign(settings, overrides);
	const contexts = files.flatMap((f) => f.parsed.contexts);
	const contextIds = new Set<string>();
	for (const c of contexts) {
		if (contextIds.has(c.id)) problems.push({path: '(contexts)', line: 1, message: `duplicate context id "${c.id}"`});
		contextIds.add(c.id);
		for (const p of Array.isArray(c.pattern) ? c.pattern : [c.pattern]) {
			const err = regexError(p);
			if (err) problems.push({path: '(contexts)', line: 1, message: `context ${c.id}: invalid pattern: ${err}`});
		}
	}
	if (problems.length > 0) throw new KbError(problems);
	return {
		entries: [...byId.values()],
		contexts,
		byId,
		settings,
		files: files.map((f) => ({
			path: f.path,
			topic: f.parsed.topic,
			// An overridden built-in entry is listed once, under the team file that replaced it.
			ids: f.parsed.entries.map((e) => e.id).filter((id) => f.team || !fromTeam.has(id)),
			...(f.team ? {team: true} : {}),
		})),
		overridden,
	};
}

/**
 * A team's entries come from a repository someone else may have written: a command they name is only ever printed
 * for the person to run (never run by kdoctor on a key), whatever the file says.
 */
function asTeamEntry(entry: Entry): Entry {
	return {...entry, remediations: entry.remediations.map((r) => (r.run === 'confirmed' ? {...r, run: 'print' as const} : r))};
}

/** A team pattern that could backtrack without end would hang every diagnosis: refused at load, not only by lint. */
function teamProblems(entry: Entry): string[] {
	const out: string[] = [];
	for (const s of entry.signals)
		for (const p of signalPatterns(s)) if (mayBacktrack(p)) out.push(`${entry.id}/${s.id}: pattern may backtrack catastrophically: /${p}/`);
	return out;
}

function regexError(source: string): string | undefined {
	try {
		new RegExp(source, 'i');
		return undefined;
	} catch (error) {
		return (error as Error).message;
	}
}

function describeIssue(issue: z.core.$ZodIssue): string {
	const where = issue.path.length > 0 ? issue.path.join('.') + ': ' : '';
	return where + issue.message;
}

function lineOf(doc: ReturnType<typeof parseDocument>, lc: LineCounter, issue: z.core.$ZodIssue): number {
	const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
	for (let n = path.length; n >= 0; n--) {
		const node = doc.getIn(path.slice(0, n), true);
		if (isNode(node) && node.range) return lc.linePos(node.range[0]).line;
	}
	return 1;
}
