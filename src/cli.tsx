#!/usr/bin/env node
import {readFileSync} from 'node:fs';
import {Command, CommanderError} from 'commander';
import {describeFsError, InputError} from './adapters/input.js';
import type {GlobalOptions} from './commands/context.js';

/** Each command loads only what it needs, so `diagnose --json` starts fast. */
const lazy = {
	context: () => import('./commands/context.js'),
	diagnose: () => import('./commands/diagnose.js'),
	fix: () => import('./commands/fix.js'),
	kb: () => import('./commands/kb.js'),
};
async function loadCompiledKb(opts: GlobalOptions) {
	return (await lazy.context()).loadCompiledKb(opts);
}

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {version: string};

/** Colour only for a terminal, and never when NO_COLOR is set (https://no-color.org). */
function useColor(): boolean {
	if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return false;
	if (process.env.FORCE_COLOR === '0') return false;
	if (process.env.FORCE_COLOR !== undefined && process.env.FORCE_COLOR !== '') return true;
	return process.stdout.isTTY === true;
}

function interactive(opts: {json?: boolean; plain?: boolean}): boolean {
	return !opts.json && !opts.plain && process.stdout.isTTY === true && process.env.CI !== 'true';
}

function write(s: string): Promise<void> {
	return new Promise((resolve) => (process.stdout.write(s) ? resolve() : process.stdout.once('drain', resolve)));
}

/** Runs a command that writes to a buffer and returns its exit code, then prints the buffer in one go. */
async function emit(run: (out: {write(s: string): void}) => number | Promise<number>): Promise<void> {
	let text = '';
	process.exitCode = await run({write: (s) => (text += s)});
	await write(text);
}

function globals(cmd: Command): GlobalOptions {
	return cmd.optsWithGlobals() as GlobalOptions;
}

function collect(value: string, prev: string[] = []): string[] {
	return [...prev, value];
}

export function buildProgram(): Command {
	const program = new Command('kdoctor')
		.description('Finds why a local Kubernetes E2E run failed, shows the evidence, and fixes it.')
		.version(pkg.version, '-V, --version')
		.option('--kb <dir>', 'knowledge base folder (default: the one shipped with kdoctor)')
		.option('--config <file>', 'kdoctor.yaml to read (default: ./kdoctor.yaml when present)')
		.option('--allow-registry <prefix>', 'allowed base-image registry prefix (repeatable; overrides the config)', collect)
		.showHelpAfterError('(kdoctor --help lists the commands)')
		.configureOutput({outputError: (str, writeErr) => writeErr(str)});

	program
		.command('diagnose')
		.description('diagnose failed-run output: test logs, podman/kind output, kubectl get/describe, pod logs')
		.argument('[files...]', "files to read; '-' (or nothing, with a pipe) reads standard input")
		.option('--json', 'JSON output: one object per file (JSON Lines for several files)')
		.option('--plain', 'plain text even on a terminal')
		.option('-v, --verbose', 'every finding, with what each piece of evidence means')
		.addHelpText(
			'after',
			`
Exit status: 0 nothing found at confidence 0.5 or more, 1 a cause was found, 2 usage or input error.
Examples:
  kdoctor diagnose ginkgo.log
  kubectl describe pod gateway-abc -n kubernaut-system | kdoctor diagnose
  kdoctor diagnose --json build.log pods.txt`,
		)
		.action(async (files: string[], opts: {json?: boolean; plain?: boolean; verbose?: boolean}, cmd: Command) => {
			const inputs = files.length > 0 ? files : ['-'];
			if (inputs.filter((f) => f === '-').length > 1) throw new InputError("'-' (standard input) can be read only once");
			if (inputs.includes('-') && process.stdin.isTTY) throw new InputError("nothing to read: give a FILE, or pipe output into 'kdoctor diagnose'");
			const compiled = await loadCompiledKb(globals(cmd));
			const {diagnoseInputs, exitCodeFor, renderJson, renderPlain} = await lazy.diagnose();
			const ac = new AbortController();
			const results = await diagnoseInputs(compiled, inputs, ac.signal);
			if (interactive(opts) && results.length > 0 && results.every((r) => r.diagnosis)) {
				const {runDiagnoseTui} = await import('./ui/run-diagnose.js');
				await runDiagnoseTui(compiled, results);
				process.exitCode = exitCodeFor(results);
				return;
			}
			if (opts.json) await write(renderJson(results));
			else {
				const {out, err} = renderPlain(results, useColor(), opts.verbose === true);
				await write(out);
				if (err) process.stderr.write(err);
			}
			process.exitCode = exitCodeFor(results);
		});

	program
		.command('fix')
		.description('preview (or with --yes apply) the fix for a finding, without the screen')
		.argument('<id>', 'the finding id, e.g. base-image-policy')
		.requiredOption('--from <file...>', 'the output to diagnose first (the evidence)')
		.option('--key <letter>', 'which fix of the entry (default: its file edit)')
		.option('--dry-run', 'show the exact change and stop')
		.option('--yes', 'apply without asking (journaled; kdoctor undo reverts it)')
		.option('--force', 'with --yes: apply even when the finding is only possible (< 50%)')
		.option('--json', 'JSON output')
		.action(async (id: string, opts: {from: string[]; key?: string; dryRun?: boolean; yes?: boolean; force?: boolean; json?: boolean}, cmd: Command) => {
			const {fixCommand} = await lazy.fix();
			await emit(async (out) => await fixCommand(await loadCompiledKb(globals(cmd)), id, opts, out));
		});

	program
		.command('undo')
		.description('revert the newest change kdoctor made (file edits are journaled)')
		.action(async () => {
			const {undoCommand} = await lazy.fix();
			await emit((out) => undoCommand(out));
		});

	const kb = program.command('kb').description('inspect and check the knowledge base');
	kb.command('list')
		.description('list every entry')
		.option('--json', 'JSON output')
		.action(async (opts: {json?: boolean}, cmd: Command) => {
			await emit(async (out) => (await lazy.kb()).kbList(await loadCompiledKb(globals(cmd)), out, opts.json === true));
		});
	kb.command('show')
		.description('show one entry: signals, confusions, remediations')
		.argument('<id>', 'entry id (kdoctor kb list)')
		.option('--json', 'JSON output')
		.action(async (id: string, opts: {json?: boolean}, cmd: Command) => {
			await emit(async (out) => (await lazy.kb()).kbShow(await loadCompiledKb(globals(cmd)), id, out, opts.json === true));
		});
	kb.command('lint')
		.description('reject unsafe patterns, duplicate ids and entries without examples')
		.action(async (_opts: unknown, cmd: Command) => {
			await emit(async (out) => (await lazy.kb()).kbLint(await loadCompiledKb(globals(cmd)), out, useColor()));
		});
	kb.command('test')
		.description("run every entry's positive and negative examples")
		.argument('[id]', 'only this entry')
		.option('-v, --verbose', 'list passing examples too')
		.action(async (id: string | undefined, opts: {verbose?: boolean}, cmd: Command) => {
			await emit(async (out) => (await lazy.kb()).kbTest(await loadCompiledKb(globals(cmd)), out, useColor(), id, opts.verbose === true));
		});

	kb.command('eval')
		.description('score the KB on labelled cases (JSON Lines: id, symptom, category or expected, is_negative)')
		.argument('<cases>', 'the .jsonl file of cases')
		.option('--expect <file>', 'YAML map from category to the KB id expected first')
		.option('--json', 'JSON output')
		.action(async (casesPath: string, opts: {expect?: string; json?: boolean}, cmd: Command) => {
			const read = (p: string) => {
				try {
					return readFileSync(p, 'utf8');
				} catch (error) {
					throw new InputError(describeFsError(p, error));
				}
			};
			const {parse: parseYaml} = await import('yaml');
			let expected: Record<string, string> = {};
			if (opts.expect) {
				try {
					expected = (parseYaml(read(opts.expect)) ?? {}) as Record<string, string>;
				} catch (error) {
					if (error instanceof InputError) throw error;
					throw new InputError(`${opts.expect}: not valid YAML (${(error as Error).message.split('\n')[0]})`);
				}
			}
			await emit(async (out) => (await lazy.kb()).kbEval(await loadCompiledKb(globals(cmd)), read(casesPath), expected, out, opts.json === true));
		});

	return program;
}

/** Runs the CLI; every failure a user can cause ends as one line on stderr and exit code 2. */
export async function main(argv: string[]): Promise<void> {
	const program = buildProgram();
	program.exitOverride();
	for (const sub of program.commands) {
		sub.exitOverride();
		for (const subsub of sub.commands) subsub.exitOverride();
	}
	try {
		if (argv.length === 0) {
			program.outputHelp();
			return;
		}
		await program.parseAsync(argv, {from: 'user'});
	} catch (error) {
		if (error instanceof CommanderError) {
			process.exitCode = error.exitCode === 0 ? 0 : 2;
			return;
		}
		const message = error instanceof Error ? error.message : String(error);
		process.stderr.write(`kdoctor: ${message}\n`);
		if (process.env.KDOCTOR_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
		process.exitCode = 2;
	}
}

process.on('SIGINT', () => {
	process.stderr.write('\nkdoctor: interrupted\n');
	process.exit(130);
});
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
	if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
});

await main(process.argv.slice(2));
