import {existsSync, readdirSync, readFileSync, realpathSync, statSync} from 'node:fs';
import {basename, dirname, extname, isAbsolute, join, relative, resolve} from 'node:path';
import {confinedReader, type ConfinedReader} from '../adapters/confined.js';
import {writeFileAtomic} from '../adapters/fs-port.js';
import {stepLogPath} from '../core/run-folder.js';
import {terminalSafe} from '../core/text/visible.js';
import {describeFsError, InputError} from '../adapters/input.js';
import {createJournal, stateDir} from '../adapters/journal.js';
import type {JournalEntry} from '../core/ports.js';
import type {RunEvent} from '../core/provision/events.js';
import {ganttSvg} from '../core/report/gantt-svg.js';
import {renderHtml} from '../core/report/html.js';
import {redactionFooter, renderMarkdown} from '../core/report/markdown.js';
import {buildReportModel, type ReportInputs, type ReportModel, type RunRecord} from '../core/report/model.js';
import {readRunRecord, textOf} from './run-record.js';
import {Redactor, secretValuesInDocuments, secretValuesInEnv} from '../core/report/redact.js';
import {cleanLine, formatDuration} from '../plain/up-lines.js';
import {kdoctorVersion, loadProfiles, pickProfile, profilePaths, profileSourceDir} from './profiles.js';

type Out = {write(s: string): void};

/** The run's own duration format, with milliseconds for what took under a second (a pre-flight check). */
const duration = (ms: number) => (ms < 1000 ? `${Math.round(Math.max(0, ms))} ms` : formatDuration(ms));

export type ReportOptions = {output?: string; html?: boolean; json?: boolean};

/** Lines of the failed step's output the report shows; the whole log stays in the run folder. */
const TAIL_LINES = 30;
/** Files larger than this are not read for secrets (image archives); they are listed in the bundle all the same. */
const MAX_TEXT_BYTES = 16 * 1024 * 1024;
const MAX_BUNDLE_FILES = 500;

function realOr(path: string): string {
	try {
		return realpathSync(path);
	} catch {
		return resolve(path);
	}
}

function isInside(path: string, root: string): boolean {
	const r = relative(root, path);
	return r === '' || (!r.startsWith('..') && !isAbsolute(r));
}

/** RUN as the user gave it: nothing (the newest run), a run id, or a run folder (copied from another machine too). */
export function locateRun(arg: string | undefined): string {
	const runs = join(stateDir(), 'runs');
	if (arg === undefined) {
		let id: string;
		try {
			id = readFileSync(join(runs, 'latest'), 'utf8').trim();
		} catch {
			throw new InputError(`no run yet: ${join(runs, 'latest')} does not exist (kdoctor up makes one; or give a run id or a run folder)`);
		}
		if (!id || !existsSync(join(runs, id)))
			throw new InputError(
				`${join(runs, 'latest')} names run ${id || '(nothing)'}, which is not in ${runs}: give a run id or a run folder`,
			);
		return join(runs, id);
	}
	if (existsSync(arg)) {
		const st = statSync(arg);
		if (st.isDirectory()) return resolve(arg);
		if (basename(arg) === 'run.json') return dirname(resolve(arg));
		throw new InputError(`${arg} is a file: give a run folder (…/runs/RUN, the one holding run.json) or a run id`);
	}
	if (/^[\w.-]+$/.test(arg)) {
		const dir = join(runs, arg);
		if (existsSync(dir)) return dir;
		const known = existsSync(runs)
			? readdirSync(runs)
					.filter((n) => n !== 'latest')
					.sort()
					.slice(-3)
					.reverse()
			: [];
		throw new InputError(`no run ${arg} in ${runs}${known.length ? ` (newest: ${known.join(', ')})` : ' (no runs there yet)'}`);
	}
	throw new InputError(describeFsError(arg, Object.assign(new Error('missing'), {code: 'ENOENT'}), 'file'));
}

/** Text of a file, or undefined for binary data (a NUL byte or invalid UTF-8). */
function readEvents(reader: ConfinedReader): {events: RunEvent[]; damaged: number} {
	const bytes = reader.read('events.jsonl');
	if (!bytes) return {events: [], damaged: 0};
	const text = textOf(bytes);
	if (text === undefined) return {events: [], damaged: 1};
	const events: RunEvent[] = [];
	let damaged = 0;
	for (const line of text.split('\n')) {
		if (!line.trim()) continue;
		try {
			const ev = JSON.parse(line) as RunEvent;
			if (ev && typeof ev === 'object' && typeof ev.type === 'string' && typeof ev.at === 'number') events.push(ev);
			else damaged++;
		} catch {
			damaged++;
		}
	}
	return {events, damaged};
}

/** The last lines of a file inside the run folder, read from its end: a step log may be large. */
function tail(reader: ConfinedReader, rel: string, n: number): {lines: string[]; total: number} | undefined {
	const bytes = reader.read(rel, {max: 4 * 1024 * 1024, tail: true});
	if (!bytes) return undefined;
	const all = bytes.toString('utf8').replace(/\n$/, '').split('\n');
	return {lines: all.slice(-n).map((l) => cleanLine(l)), total: all.length};
}

function flagValue(argv: string[], flag: string): string | undefined {
	const i = argv.indexOf(flag);
	if (i >= 0) return argv[i + 1];
	return argv.find((a) => a.startsWith(`${flag}=`))?.slice(flag.length + 1);
}

/**
 * The manifests the run applied, found again from its run.json (its command and folder); undefined with why when they
 * are not here. Only for a run of this machine's own state dir: a copied run.json names folders of another machine,
 * and kdoctor does not go reading where a copied file points.
 */
function profileManifests(run: RunRecord, own: boolean): {files: string[]} | {missing: string} {
	if (!own) return {missing: "the run folder is not one of this machine's runs, so the folders its run.json names are not read"};
	const argv = run.invocation ?? [];
	const cwd = run.cwd ?? process.cwd();
	const config = flagValue(argv, '--config');
	try {
		const loaded = pickProfile(loadProfiles(config === undefined ? undefined : resolve(cwd, config), cwd), run.profile);
		const {expandFiles} = profilePaths(profileSourceDir(loaded, {source: flagValue(argv, '--source'), cwd}));
		const files = loaded.profile.deploy.flatMap((d) => d.files.flatMap(expandFiles)).filter((f) => existsSync(f));
		return files.length ? {files} : {missing: 'none of its manifest files exists here'};
	} catch (error) {
		return {missing: (error as Error).message.split('\n')[0]!};
	}
}

/** The journals that may hold the run's fixes: the one beside its runs folder, and this machine's. */
function journalEntries(runDir: string): JournalEntry[] {
	const dirs = new Set<string>([join(stateDir(), 'journal')]);
	if (basename(dirname(runDir)) === 'runs') dirs.add(join(dirname(dirname(runDir)), 'journal'));
	const byId = new Map<string, JournalEntry>();
	// This machine's journal is read as undo reads it; one beside a copied runs folder is another machine's, shown only.
	const own = resolve(join(stateDir(), 'journal'));
	for (const d of dirs) for (const e of createJournal(resolve(d), {verify: resolve(d) === own}).list()) byId.set(e.id, e);
	return [...byId.values()];
}

/** When the next run into the same namespace started: live patches after it belong to that one. */
function nextRunStart(runDir: string, run: RunRecord): string | undefined {
	if (basename(dirname(runDir)) !== 'runs') return undefined;
	const runs = confinedReader(dirname(runDir));
	const later = readdirSync(dirname(runDir))
		.filter((n) => n !== 'latest' && n > basename(runDir) && /^[\w.-]+$/.test(n))
		.sort()
		.slice(0, 50);
	for (const n of later) {
		try {
			const other = JSON.parse(runs.read(`${n}/run.json`, {max: 1024 * 1024})?.toString('utf8') ?? 'null') as Partial<RunRecord> | null;
			if (other && other.namespace === run.namespace && typeof other.startedAt === 'string' && other.startedAt > run.startedAt)
				return other.startedAt;
		} catch {
			/* a run still going, or not a run */
		}
	}
	return undefined;
}

/** "report.md" → "report-gantt.svg" beside it; a name without an extension gets ".svg" added. */
export function chartPath(output: string): string {
	const ext = extname(output);
	return ext ? `${output.slice(0, -ext.length)}-gantt.svg` : `${output}.svg`;
}

export type BuiltReport = {model: ReportModel; markdown: string; svg: string; redactions: number};

/** Reads a run folder and everything that belongs to it, and builds the redacted report. */
export function buildReport(runDir: string, opts: {chart?: string} = {}): BuiltReport {
	const reader = confinedReader(runDir);
	const run = readRunRecord(runDir, reader);
	const {events, damaged} = readEvents(reader);
	const redactor = new Redactor();
	const secretSources: string[] = [];
	const notes: string[] = [];
	const own = isInside(reader.root, realOr(join(stateDir(), 'runs')));

	// The run's Secrets and secret-named values, wherever the run folder holds them (its bundle, run.json) …
	const inRun = reader.walk('.', 5000).files;
	let learned = 0;
	for (const f of inRun) {
		const bytes = f.bytes > MAX_TEXT_BYTES ? undefined : reader.read(f.path);
		const text = bytes && textOf(bytes);
		if (text === undefined || text === '') continue;
		learned++;
		redactor.learn(text);
		if (/\.(ya?ml|json)$/.test(f.path)) for (const v of secretValuesInDocuments(text)) redactor.add(v);
	}
	secretSources.push(`values named as secrets in the run folder's ${learned} text files`);
	// … the Secrets of the manifests it applied …
	const manifests = profileManifests(run, own);
	if ('files' in manifests) {
		for (const f of manifests.files) {
			const text = readFileSync(f, 'utf8');
			redactor.learn(text);
			for (const v of secretValuesInDocuments(text)) redactor.add(v);
		}
		secretSources.push(`the Secrets and secret-named values of the profile's ${manifests.files.length} manifest files`);
	} else
		notes.push(
			`The manifests of profile ${run.profile} were not found here (${manifests.missing}): ` +
				`their Secrets' values could only be redacted where a key names them.`,
		);
	// … and secret-named variables of this environment (a token exported in the shell that ran the steps).
	for (const v of secretValuesInEnv(process.env)) redactor.add(v);
	secretSources.push('secret-named environment variables');

	// The bundle is the run folder's own bundle/; a run.json naming another folder is said, not followed.
	if (run.bundle !== undefined && !(typeof run.bundle === 'string' && isInside(resolve(run.bundle), reader.root)))
		notes.push(
			`run.json names ${JSON.stringify(run.bundle)} as its bundle, outside the run folder: not read (the bundle is the folder's own bundle/).`,
		);
	const bundle = reader.exists('bundle') ? {dir: join(runDir, 'bundle'), ...reader.walk('bundle', MAX_BUNDLE_FILES)} : undefined;
	const stepLog = stepLogPath(run.failedStep);
	if (run.failedStep !== undefined && stepLog === undefined)
		notes.push(`run.json names the failed step ${JSON.stringify(run.failedStep)}, which is not a step id: its log was not read.`);
	const failedLog = stepLog ? tail(reader, stepLog, TAIL_LINES) : undefined;
	for (const r of reader.refused) notes.push(`Refused: ${r}.`);
	const inputs: ReportInputs = {
		runDir,
		run,
		events,
		damagedEvents: damaged,
		journal: journalEntries(runDir),
		until: nextRunStart(runDir, run),
		failedLog: failedLog && {file: stepLog!, ...failedLog},
		bundle,
		kdoctorVersion: kdoctorVersion() ?? '?',
		secretSources,
		notes,
	};
	const model = buildReportModel(inputs, redactor, duration);
	const title =
		`kdoctor up ${model.profile} · run ${model.runId} · ` +
		`${model.result === 'failed' && model.failedStep ? `failed at ${model.failedStep}` : model.result} · ${duration(model.durationMs)}`;
	const svg = redactor.scrub(ganttSvg({title, spanMs: model.spanMs, steps: model.steps}, duration));
	const body = redactor.scrub(renderMarkdown(model, duration, opts));
	return {model, svg, markdown: body + redactionFooter(redactor.count, model.secretSources), redactions: redactor.count};
}

/** Writes through a temp file and a rename; a folder that is not there is one clear line. */
function writeOut(path: string, text: string): void {
	try {
		// A report is read with cat as often as in an editor: no control character of the run's text goes into it raw.
		writeFileAtomic(path, terminalSafe(text));
	} catch (error) {
		throw new InputError(`cannot write ${describeFsError(path, error, 'file')}`);
	}
}

/** `kdoctor report [RUN]`: the run as a Markdown hand-off (or one HTML file), redacted, with a Gantt chart of its steps. */
export async function reportCommand(arg: string | undefined, opts: ReportOptions, out: Out): Promise<number> {
	const runDir = locateRun(arg);
	if (opts.html) {
		const r = buildReport(runDir, {chart: 'gantt.svg'});
		const html = renderHtml(`kdoctor report: run ${r.model.runId}`, r.markdown, {'gantt.svg': r.svg});
		if (opts.output) {
			writeOut(opts.output, html);
			out.write(`wrote ${opts.output} (${r.redactions} value${r.redactions === 1 ? '' : 's'} redacted)\n`);
		} else out.write(html);
		return 0;
	}
	if (opts.json) {
		const r = buildReport(runDir);
		const text = JSON.stringify({...r.model, redactions: r.redactions}) + '\n';
		if (opts.output) writeOut(opts.output, text);
		else out.write(text);
		return 0;
	}
	if (opts.output) {
		const svgPath = chartPath(opts.output);
		const r = buildReport(runDir, {chart: basename(svgPath)});
		writeOut(svgPath, r.svg);
		writeOut(opts.output, r.markdown);
		out.write(`wrote ${opts.output} and ${svgPath} (${r.redactions} value${r.redactions === 1 ? '' : 's'} redacted)\n`);
		return 0;
	}
	out.write(buildReport(runDir).markdown);
	return 0;
}
