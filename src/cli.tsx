#!/usr/bin/env node
import {readFileSync} from 'node:fs';
import {Command, CommanderError} from 'commander';
import {describeFsError, InputError} from './adapters/input.js';
import {packageVersion} from './adapters/kb-files.js';
import type {GlobalOptions} from './commands/context.js';
import {stepLogPath} from './core/run-folder.js';
import {shellLine} from './core/text/quote.js';
import {terminalSafe} from './core/text/visible.js';

/** Each command loads only what it needs, so `diagnose --json` starts fast. */
const lazy = {
	context: () => import('./commands/context.js'),
	diagnose: () => import('./commands/diagnose.js'),
	fix: () => import('./commands/fix.js'),
	kb: () => import('./commands/kb.js'),
	live: () => import('./commands/live.js'),
	report: () => import('./commands/report.js'),
	setup: () => import('./commands/setup.js'),
	triage: () => import('./commands/triage.js'),
	up: () => import('./commands/up.js'),
};

type LiveCli = {namespace: string; kubeconfig?: string; context?: string; containerdSocket?: string; kind?: string};
const liveOpts = (o: LiveCli) => ({
	namespace: o.namespace,
	kubeconfig: o.kubeconfig,
	context: o.context,
	containerdSocket: o.containerdSocket,
	kindCluster: o.kind,
});

/** What Ctrl-C does: by default exit at once; `up` replaces it so the run can stop its children first. */
let interruptHandler: (() => void) | undefined;
/** What the first Ctrl-C says while a handler runs (a follow stops reading; up ends its children). */
let interruptNote = 'stopping: ending every child process (Ctrl-C again to quit at once)';
async function loadCompiledKb(opts: GlobalOptions) {
	return (await lazy.context()).loadCompiledKb(opts);
}

const pkg = {version: packageVersion};

/** --color always|never|auto (and --no-color): set before a command's action runs; auto is the environment's say. */
let colorMode: 'always' | 'never' | 'auto' = 'auto';

/** Colour only for a terminal, and never when NO_COLOR is set (https://no-color.org); --color decides first. */
function useColor(): boolean {
	if (colorMode !== 'auto') return colorMode === 'always';
	if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return false;
	if (process.env.FORCE_COLOR === '0') return false;
	if (process.env.FORCE_COLOR !== undefined && process.env.FORCE_COLOR !== '') return true;
	return process.stdout.isTTY === true;
}

function interactive(opts: {json?: boolean; plain?: boolean}): boolean {
	return !opts.json && !opts.plain && process.stdout.isTTY === true && process.env.CI !== 'true';
}

/** Everything kdoctor prints passes terminalSafe: its own colours stay, any other control character is shown as text. */
function write(s: string): Promise<void> {
	return new Promise((resolve) => (process.stdout.write(terminalSafe(s)) ? resolve() : process.stdout.once('drain', resolve)));
}
const stdout = {write: (s: string) => void process.stdout.write(terminalSafe(s))};
const stderr = (s: string) => void process.stderr.write(terminalSafe(s));

/** Runs a command that writes to a buffer and returns its exit code, then prints the buffer in one go. */
async function emit(run: (out: {write(s: string): void}) => number | Promise<number>): Promise<void> {
	let text = '';
	try {
		process.exitCode = await run({write: (s) => (text += s)});
	} finally {
		// What was said before a failure is still said (a journal problem before "nothing to undo").
		await write(text);
	}
}

/** Asks what to do with a cluster that already exists; only on a terminal, before the run screen starts. */
async function askClusterChoice(question: string): Promise<'reuse' | 'recreate' | 'abort'> {
	const {createInterface} = await import('node:readline/promises');
	const rl = createInterface({input: process.stdin, output: process.stderr});
	try {
		for (;;) {
			const a = (await rl.question(`${question}: [r]euse it, re[c]reate it, or [a]bort? `)).trim().toLowerCase();
			if (a === 'r' || a === 'reuse') return 'reuse';
			if (a === 'c' || a === 'recreate') return 'recreate';
			if (a === 'a' || a === 'abort' || a === '') return 'abort';
		}
	} finally {
		rl.close();
	}
}

type DiagnoseCli = {json?: boolean; plain?: boolean; verbose?: boolean; quiet?: boolean; follow?: boolean; outputFormat?: string};

/** kubectl's -o: json is --json, text is --plain, yaml the same objects as YAML documents. */
function outputFormat(format: string | undefined): {json?: boolean; plain?: boolean; yaml?: boolean} {
	if (format === undefined) return {};
	if (format === 'json') return {json: true};
	if (format === 'yaml') return {yaml: true, plain: true};
	if (format === 'text') return {plain: true};
	throw new InputError(`-o ${format}: say json, yaml or text`);
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
		.option('--kb-extra <dir>', "a team's own KB folder layered over it (repeatable; .kdoctor/knowledge is found by itself)", collect)
		.option('--no-team-kb', 'ignore the .kdoctor/knowledge folder of this checkout')
		.option('--config <file>', 'kdoctor.yaml to read (default: ./kdoctor.yaml when present)')
		.option('--allow-registry <prefix>', 'allowed base-image registry prefix (repeatable; overrides the config)', collect)
		.option('--color <when>', 'colour: auto (a terminal, unless NO_COLOR), always or never', 'auto')
		.option('--no-color', 'no colour (as --color never)')
		.option('--debug', 'on an error, its stack; at the end, how long the command took (stderr)')
		.hook('preAction', (_root, action) => {
			const o = action.optsWithGlobals() as {color?: string | boolean; debug?: boolean};
			const when = o.color === false ? 'never' : o.color === undefined || o.color === true ? 'auto' : o.color;
			if (when !== 'auto' && when !== 'always' && when !== 'never') throw new InputError(`--color ${when}: say auto, always or never`);
			colorMode = when;
			// Ink's colour library reads FORCE_COLOR when it loads, later than this.
			if (when === 'never') process.env.FORCE_COLOR = '0';
			if (when === 'always') process.env.FORCE_COLOR = '1';
			if (o.debug) process.env.KDOCTOR_DEBUG = '1';
		})
		.showHelpAfterError('(kdoctor --help lists the commands)')
		.configureOutput({outputError: (str, writeErr) => writeErr(terminalSafe(str))});

	program
		.command('diagnose')
		.description('diagnose failed-run output: test logs, podman/kind output, kubectl get/describe, pod logs')
		.argument('[files...]', "files to read; '-' (or nothing, with a pipe) reads standard input")
		.option('--json', 'JSON output: one object per file (JSON Lines for several files)')
		.option('--plain', 'plain text even on a terminal')
		.option('-o, --output-format <format>', 'json, yaml or text (kubectl style: -o json is --json)')
		.option('-q, --quiet', 'print nothing: the exit status says it (as grep -q does)')
		.option(
			'-f, --follow',
			'a growing input (kubectl logs -f … | kdoctor diagnose -f -): each cause as it appears, the whole diagnosis at the end',
		)
		.option('-v, --verbose', 'every finding, with what each piece of evidence means')
		.option('-n, --namespace <ns>', 'diagnose the live cluster instead: every unhealthy workload of this namespace')
		.option('--kubeconfig <file>', 'with --namespace: kubeconfig file (default: $KUBECONFIG or ~/.kube/config)')
		.option('--context <name>', 'with --namespace: kubeconfig context (default: the current one)')
		.option('--containerd-socket <path>', "with --namespace: read the node's images through containerd (default: the node status)")
		.option('--kind <cluster>', "with --namespace: read the Kind node's images with crictl (podman exec <cluster>-control-plane)")
		.addHelpText(
			'after',
			`
Exit status: 0 nothing found at confidence 0.5 or more, 1 a cause was found, 2 usage or input error.
Examples:
  kdoctor diagnose ginkgo.log
  kubectl describe pod gateway-abc -n kubernaut-system | kdoctor diagnose
  kdoctor diagnose --json build.log pods.txt
  kdoctor diagnose -n kdoctor-demo            (the live cluster: pods, events, logs, node images)`,
		)
		.action(async (files: string[], cliOpts: DiagnoseCli & Partial<LiveCli>, cmd: Command) => {
			const opts = {...cliOpts, ...outputFormat(cliOpts.outputFormat)};
			if (opts.namespace) {
				if (opts.yaml || opts.quiet) throw new InputError('-o yaml and --quiet read files; for the live cluster use --json or the text');
				if (files.length > 0) throw new InputError('give files or --namespace, not both');
				const {diagnoseLiveCommand} = await lazy.live();
				process.exitCode = await diagnoseLiveCommand(
					() => loadCompiledKb(globals(cmd)),
					{...liveOpts(opts as LiveCli), json: opts.json, verbose: opts.verbose, color: !opts.plain && useColor()},
					stdout,
				);
				return;
			}
			const inputs = files.length > 0 ? files : ['-'];
			if (inputs.filter((f) => f === '-').length > 1) throw new InputError("'-' (standard input) can be read only once");
			if (inputs.includes('-') && process.stdin.isTTY)
				throw new InputError("nothing to read: give a FILE, or pipe output into 'kdoctor diagnose'");
			const compiled = await loadCompiledKb(globals(cmd));
			if (opts.follow) {
				if (inputs.length !== 1) throw new InputError('--follow reads one input: a file, or - for a pipe');
				if (opts.yaml || opts.quiet) throw new InputError('--follow prints as it goes: text, or --json (JSON Lines)');
				const {followCommand} = await import('./commands/follow.js');
				const ac = new AbortController();
				interruptHandler = () => ac.abort();
				interruptNote = 'stopped following: the diagnosis of what was read';
				process.exitCode = await followCommand(
					compiled,
					inputs[0]!,
					{json: opts.json === true, color: !opts.plain && useColor(), signal: ac.signal},
					stdout,
				);
				interruptHandler = undefined;
				// A stopped follow leaves the pipe open behind it: let go of it, so kdoctor ends now.
				if (inputs[0] === '-') process.stdin.destroy();
				return;
			}
			const {diagnoseInputs, exitCodeFor, renderJson, renderPlain} = await lazy.diagnose();
			const ac = new AbortController();
			const results = await diagnoseInputs(compiled, inputs, ac.signal);
			if (interactive(opts) && !opts.quiet && results.length > 0 && results.every((r) => r.diagnosis)) {
				const {runDiagnoseTui} = await import('./ui/run-diagnose.js');
				const next = await runDiagnoseTui(compiled, results);
				process.exitCode = exitCodeFor(results);
				// The screen handed over to another command (kb new): it runs now, in the terminal the screen left.
				if (next) await cmd.parent!.parseAsync(next, {from: 'user'});
				return;
			}
			if (opts.quiet) {
				// grep -q: the status alone; an input that could not be read still says why on stderr.
				for (const r of results) if (r.error) stderr(`kdoctor: ${r.error}\n`);
			} else if (opts.yaml) {
				const {jsonLinesAsYaml} = await import('./commands/yaml-output.js');
				await write(jsonLinesAsYaml(renderJson(results)));
			} else if (opts.json) await write(renderJson(results));
			else {
				const {out, err} = renderPlain(results, useColor(), opts.verbose === true);
				await write(out);
				if (err) stderr(err);
			}
			process.exitCode = exitCodeFor(results);
		});

	program
		.command('fix')
		.description('preview (or with --yes apply) the fix for a finding, without the screen')
		.argument('<id>', 'the finding id, e.g. base-image-policy')
		.option('--from <file...>', 'the output to diagnose first (the evidence)')
		.option('-n, --namespace <ns>', 'find the finding in this namespace of the live cluster and patch its Deployment')
		.option('--workload <name>', 'with --namespace: the Deployment (default: the first with the finding)')
		.option('--value <value>', 'the value a fix asks for (an env var value, a probe path, an image, a memory limit)')
		.option('--kubeconfig <file>', 'with --namespace: kubeconfig file')
		.option('--context <name>', 'with --namespace: kubeconfig context')
		.option('--containerd-socket <path>', "with --namespace: read the node's images through containerd")
		.option('--kind <cluster>', "with --namespace: read the Kind node's images with crictl")
		.option('--timeout <seconds>', 'with --namespace: how long to watch the rollout after a patch', '120')
		.option('--key <letter>', 'which fix of the entry (default: its file edit, or its live patch with --namespace)')
		.option('--dry-run', 'show the exact change and stop')
		.option('--yes', 'apply without asking (journaled; kdoctor undo reverts it)')
		.option('--force', 'with --yes: apply even when the finding is only possible (< 50%)')
		.option('--json', 'JSON output')
		.addHelpText(
			'after',
			`
Exit status: 0 previewed, or applied (and verified where it can be); 1 the finding is not there, the fix cannot apply
here, or it ran and failed or did not verify; 2 a usage or input error (nothing changed).
Examples:
  kdoctor fix base-image-policy --from build.log            (preview the file edit)
  kdoctor fix image-name-mismatch -n kdoctor-demo --yes     (patch the Deployment, watch the rollout)
  kdoctor fix crashloop-config-error -n kdoctor-demo --value kdoctor-demo --yes`,
		)
		.action(
			async (
				id: string,
				opts: {
					from?: string[];
					key?: string;
					dryRun?: boolean;
					yes?: boolean;
					force?: boolean;
					json?: boolean;
					value?: string;
					workload?: string;
					timeout: string;
				} & Partial<LiveCli>,
				cmd: Command,
			) => {
				if (opts.namespace) {
					if (opts.from) throw new InputError('give --from (a saved output) or --namespace (the live cluster), not both');
					const {fixLiveCommand} = await lazy.live();
					const compiled = await loadCompiledKb(globals(cmd));
					const timeoutSeconds = Number(opts.timeout);
					if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0)
						throw new InputError(`--timeout ${opts.timeout} is not a number of seconds`);
					const ac = new AbortController();
					interruptHandler = () => ac.abort();
					process.exitCode = await fixLiveCommand(
						compiled,
						id,
						{
							...liveOpts(opts as LiveCli),
							workload: opts.workload,
							key: opts.key,
							value: opts.value,
							yes: opts.yes,
							dryRun: opts.dryRun,
							json: opts.json,
							timeoutSeconds,
							signal: ac.signal,
						},
						stdout,
					);
					return;
				}
				if (!opts.from) throw new InputError('say where the finding is: --from FILE (a saved output) or --namespace NS (the live cluster)');
				const {fixCommand} = await lazy.fix();
				await emit(async (out) => await fixCommand(await loadCompiledKb(globals(cmd)), id, {...opts, from: opts.from!}, out));
			},
		);

	program
		.command('setup')
		.description('is this machine ready? host, tools, engine, Dockerfiles, ports and leftovers checked against a profile, with fixes')
		.option('-p, --profile <name>', 'the profile whose builds, ports and cluster are checked', 'demo')
		.option('--source <dir>', "the checkout a profile builds from (kubernaut-gateway: Kubernaut's repository)")
		.option('--engine <name>', 'podman or docker', 'podman')
		.option('--build-arg <NAME=VALUE>', 'a build arg as kdoctor up would pass it (repeatable)', collect)
		.option('--fix <key|check>', 'preview the fix on this key (or of this check); with --yes apply it')
		.option('--yes', 'with --fix: apply it (journaled; kdoctor undo reverts what can be reverted)')
		.option('--json', 'JSON output')
		.option('--plain', 'plain text even on a terminal')
		.option('-v, --verbose', 'every detail of every check')
		.addHelpText(
			'after',
			`
Exit status: 0 ready (warnings allowed), 1 a check failed, 2 something could not be checked (or a usage error).
Examples:
  kdoctor setup
  kdoctor setup --profile kubernaut-gateway --source ~/src/kubernaut
  kdoctor setup --json | jq '.checks[] | select(.status != "ok")'
  kdoctor setup --fix m            (preview: podman machine stop; set --memory …; start)
  kdoctor setup --fix n --yes      (apply, journaled; kdoctor undo takes it back)`,
		)
		.action(
			async (
				opts: {
					profile: string;
					source?: string;
					engine?: string;
					buildArg?: string[];
					fix?: string;
					yes?: boolean;
					json?: boolean;
					plain?: boolean;
					verbose?: boolean;
				},
				cmd: Command,
			) => {
				const g = globals(cmd);
				const compiled = await loadCompiledKb(g);
				const setupOpts = {...opts, config: g.config};
				if (interactive(opts) && !opts.fix) {
					const {runSetupTui} = await import('./ui/run-setup.js');
					process.exitCode = await runSetupTui(compiled, setupOpts);
					return;
				}
				const {setupCommand} = await lazy.setup();
				await emit(async (out) => await setupCommand(compiled, {...setupOpts, color: !opts.plain && !opts.json && useColor()}, out));
			},
		);

	program
		.command('triage')
		.description('watch a live cluster: every unhealthy workload, why, with the evidence and a key to fix it')
		.option('-n, --namespace <ns>', "the namespace to watch (default: the context's namespace, else default)")
		.option('-A, --all-namespaces', 'watch every namespace')
		.option('--kubeconfig <file>', 'kubeconfig file (default: $KUBECONFIG or ~/.kube/config)')
		.option('--context <name>', 'kubeconfig context (default: the current one)')
		.option('--containerd-socket <path>', "read the node's images through containerd (default: the node status)")
		.option('--kind <cluster>', "read the Kind node's images with crictl (podman exec <cluster>-control-plane)")
		.option('--read-only', 'hide every action that changes the cluster')
		.option('--json', 'print one snapshot (the first complete triage) as JSON and exit')
		.option('--plain', 'print one snapshot as text and exit, even on a terminal')
		.option('--timeout <seconds>', 'with --json/--plain: how long to wait for a complete triage', '30')
		.addHelpText(
			'after',
			`
Exit status (--json/--plain): 0 nothing wrong, 1 a cause was found, 2 something could not be read (the triage is partial).
Examples:
  kdoctor triage -n kdoctor-demo
  kdoctor triage -A --read-only
  kdoctor triage -n kubernaut-system --json | jq '.failing[].findings[0].id'`,
		)
		.action(
			async (
				opts: {
					namespace?: string;
					allNamespaces?: boolean;
					kubeconfig?: string;
					context?: string;
					containerdSocket?: string;
					kind?: string;
					readOnly?: boolean;
					json?: boolean;
					plain?: boolean;
					timeout: string;
				},
				cmd: Command,
			) => {
				const timeoutSeconds = Number(opts.timeout);
				if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0)
					throw new InputError(`--timeout ${opts.timeout} is not a number of seconds`);
				const namespace = opts.allNamespaces
					? undefined
					: (opts.namespace ?? (await (await lazy.live()).contextNamespace({kubeconfig: opts.kubeconfig, context: opts.context})));
				const live = {
					namespace,
					allNamespaces: opts.allNamespaces,
					kubeconfig: opts.kubeconfig,
					context: opts.context,
					containerdSocket: opts.containerdSocket,
					kindCluster: opts.kind,
				};
				if (interactive(opts)) {
					const {runTriageTui} = await import('./ui/run-triage.js');
					await runTriageTui(await loadCompiledKb(globals(cmd)), {...live, readOnly: opts.readOnly === true});
					return;
				}
				const {triageOnce} = await lazy.triage();
				process.exitCode = await triageOnce(
					() => loadCompiledKb(globals(cmd)),
					{...live, json: opts.json, timeoutSeconds, color: !opts.plain && !opts.json && useColor()},
					stdout,
				);
			},
		);

	program
		.command('report')
		.description(
			'a Markdown hand-off of a kdoctor up run: timeline, findings with ' +
				'evidence, fixes applied, environment, a Gantt chart — secrets redacted',
		)
		.argument('[run]', 'a run id, or a run folder (one copied from another machine too); default: the newest run')
		.option('-o, --output <file>', 'write the report to FILE (atomically) and its Gantt chart beside it (report.md → report-gantt.svg)')
		.option('--html', 'one self-contained HTML file, the chart inline (to stdout, or to -o FILE)')
		.option('--json', 'the report as one JSON object')
		.addHelpText(
			'after',
			`
Exit status: 0 the report was written, 2 no such run, or its run.json is missing or damaged.
Examples:
  kdoctor report                                        (the newest run, Markdown to stdout)
  kdoctor report 20260312-094501-3fa2 -o handoff.md     (writes handoff.md and handoff-gantt.svg)
  kdoctor report ./runs/20260312-094501-3fa2 --html -o run.html`,
		)
		.action(async (run: string | undefined, opts: {output?: string; html?: boolean; json?: boolean}) => {
			const {reportCommand} = await lazy.report();
			await emit(async (out) => await reportCommand(run, opts, out));
		});

	program
		.command('undo')
		.description(
			'revert the newest change kdoctor made, or the one with this id (file edits, live patches and host commands are journaled)',
		)
		.argument('[id]', 'the journal entry to undo (kdoctor undo --list); default: the newest change still in place')
		.option('--list', 'show the journal: every change, where, when, and whether it can be undone')
		.option('--json', 'with --list: JSON output')
		.addHelpText('after', '\nExit status: 0 undone (or listed), 2 nothing to undo, or the change cannot be undone (it was changed since).')
		.action(async (id: string | undefined, opts: {list?: boolean; json?: boolean}) => {
			const {undoCommand} = await lazy.fix();
			await emit(async (out) => await undoCommand(out, {id, list: opts.list, json: opts.json}));
		});

	program
		.command('up')
		.description('bring up the E2E environment of a profile: build, cluster, load, deploy, health — and diagnose what fails')
		.option('-p, --profile <name>', 'profile from profiles.yaml or kdoctor.yaml', 'demo')
		.option('--source <dir>', "the checkout a profile builds from (kubernaut-gateway: Kubernaut's repository)")
		.option('--provider <name>', 'kind, or existing (a cluster from a kubeconfig context)', 'kind')
		.option('--engine <name>', 'podman or docker', 'podman')
		.option('--context <name>', 'existing provider: kubeconfig context (default: the current one)')
		.option('--kubeconfig <file>', 'existing provider: kubeconfig file (default: $KUBECONFIG or ~/.kube/config)')
		.option('--containerd-socket <path>', 'existing provider: import images through this containerd socket')
		.option('--registry <host/prefix>', 'existing provider: push images to this registry instead')
		.option('--node-address <host>', "existing provider: the address NodePorts answer on (default: the profile URL's host)")
		.option('--node-image <ref>', "kind provider: the node image to create the cluster from (default: the profile's)")
		.option('--reuse', 'use the cluster if it already exists')
		.option('--recreate', 'delete the cluster if it already exists, then create it')
		.option('--rebuild', 'build every image even when one with the same inputs exists')
		.option('--cleanup', 'delete the cluster after a failure (default: keep it for inspection)')
		.option('--coverage', 'build with GOFLAGS=-cover, mount /coverdata, and write coverage reports at the end')
		.option('--build-arg <NAME=VALUE>', 'build arg for every image (repeatable), e.g. BUILDER_IMAGE=localhost/go-toolset:1', collect)
		.option('--memory <MiB>', 'memory budget for builds and the node (default: what the engine reports)')
		.option('--build-jobs <n>', 'at most this many builds at once (1: one at a time, as after an out-of-memory kill)')
		.option('--images-only', 'build (or find cached) every image of the profile and stop: no cluster')
		.option('--plan', 'print the plan (steps, dependencies, memory, schedule) without running it')
		.option('--json', 'JSON Lines events (with --plan: the plan as JSON)')
		.option('--plain', 'plain timestamped lines even on a terminal')
		.addHelpText(
			'after',
			`
Exit status: 0 the environment is up, 1 a step failed (the diagnosis is shown), 2 usage or setup error, 130 interrupted.
Examples:
  kdoctor up --plan
  kdoctor up --profile kubernaut-gateway --source ~/src/kubernaut --reuse
  kdoctor up --provider existing --context kind-dev --containerd-socket /run/containerd/containerd.sock`,
		)
		.action(async (opts: import('./commands/up.js').UpOptions & {plain?: boolean}, cmd: Command) => {
			const g = globals(cmd);
			const kbc = await loadCompiledKb(g);
			const {upCommand} = await lazy.up();
			const tty = interactive(opts) && !opts.plan;
			let listener: (ev: import('./core/provision/events.js').RunEvent) => void;
			let done: (() => Promise<void>) | undefined;
			let cancel = () => {};
			if (opts.json && !opts.plan) listener = (await import('./plain/up-lines.js')).jsonLines(stdout.write);
			else if (tty) {
				const {createDoctorStore} = await import('./state/store.js');
				const {runUpScreen} = await import('./ui/run-up.js');
				const store = createDoctorStore();
				listener = (ev) => store.getState().upEvent(ev);
				let screen: Promise<void> | undefined;
				const first = listener;
				listener = (ev) => {
					if (!screen)
						screen = runUpScreen(store, {
							onCancel: () => cancel(),
							// The fix is shown with the command that previews and applies it from this run's log.
							onIntent: (intent) => {
								const rem = kbc.kb.byId.get(intent.findingId)?.remediations.find((r) => r.key === intent.key);
								const runDir = store.getState().up.run?.runDir;
								if (!rem || !runDir) return;
								// The evidence is the failed step's own log, which sits beside the run's run.json.
								const step = store.getState().up.diagnosis?.step;
								const stepLog = stepLogPath(step);
								const log = stepLog ? `${runDir}/${stepLog}` : `${runDir}/run.log`;
								const how =
									rem.command && rem.run !== 'confirmed'
										? `the command: ${shellLine(rem.command)}`
										: `${shellLine(['kdoctor', 'fix', intent.findingId, '--from', log, '--key', intent.key])} (add --yes to apply)`;
								store.getState().say({kind: 'info', text: `${rem.title}: ${rem.change}. To apply: ${how}`});
							},
						});
					first(ev);
				};
				done = async () => {
					await screen;
				};
			} else listener = (await import('./plain/up-lines.js')).createPlainUpRenderer(stdout.write, {color: useColor()});
			let text = '';
			const code = await upCommand(kbc, {...opts, invocation: process.argv.slice(2)}, g.config, {
				write: (s) => (text += s),
				note: stderr,
				listener,
				ask: process.stdin.isTTY && !opts.json ? askClusterChoice : undefined,
				onInterrupt: (fn) => {
					cancel = fn;
					interruptHandler = fn;
				},
				done,
			});
			interruptHandler = undefined;
			await write(text);
			process.exitCode = code;
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

	kb.command('new')
		.description('draft a team entry (.kdoctor/knowledge) from a failure no known cause explains, then lint and test it')
		.requiredOption('--from <file>', 'the output of the failure')
		.option('--id <id>', "the entry id (default: team- and the failing line's first words)")
		.option('--dir <dir>', 'write it here instead of the nearest .kdoctor/knowledge')
		.addHelpText(
			'after',
			'\nOpens the draft in $VISUAL or $EDITOR on a terminal. Exit status: 0 ' +
				'the draft passes kb lint and kb test, 1 it does not, 2 nothing drafted.',
		)
		.action(async (opts: {from: string; id?: string; dir?: string}, cmd: Command) => {
			const {kbNew} = await import('./commands/kb-new.js');
			await emit((out) => kbNew({...globals(cmd), ...opts, interactive: interactive({})}, out));
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
			await emit(async (out) =>
				(await lazy.kb()).kbEval(await loadCompiledKb(globals(cmd)), read(casesPath), expected, out, opts.json === true),
			);
		});

	// Flags that contradict each other are refused in one line, before anything runs (kubectl and git do the same).
	for (const c of program.commands) {
		const has = (long: string) => c.options.find((o) => o.long === long);
		has('--json')?.conflicts(['plain', ...(has('--output-format') ? ['outputFormat'] : [])]);
		has('--all-namespaces')?.conflicts('namespace');
		has('--quiet')?.conflicts(['json', 'plain', 'verbose', 'outputFormat']);
	}

	program
		.command('version')
		.description('the version of kdoctor, Node, the knowledge base and the JSON output schema')
		.option('--json', 'JSON output')
		.action(async (opts: {json?: boolean}, cmd: Command) => {
			const {versionInfo} = await import('./commands/version.js');
			const v = await versionInfo(globals(cmd));
			await write(
				opts.json
					? `${JSON.stringify(v)}\n`
					: `kdoctor ${v.version}\nnode ${v.node}\nknowledge base ${v.kbHash} (${v.entries} entries, ${v.cases} ` +
							`library cases${v.teamEntries ? `, ${v.teamEntries} from the team` : ''})\nJSON schema ${v.schemaVersion}\n`,
			);
		});

	program
		.command('completion')
		.description('print a shell completion script: kdoctor completion bash|zsh|fish')
		.argument('<shell>', 'bash, zsh or fish')
		.addHelpText(
			'after',
			'\nInstall: bash  source <(kdoctor completion bash)   (or save it under ~/.local/share/bash-completion/completions/kdoctor)\n' +
				'         zsh   kdoctor completion zsh > "${fpath[1]}/_kdoctor"\n' +
				'         fish  kdoctor completion fish > ~/.config/fish/completions/kdoctor.fish',
		)
		.action(async (shell: string) => {
			const {completionScript} = await import('./commands/completion.js');
			await write(completionScript(shell, commandTree(program)));
		});

	program
		.command('man')
		.description('print the manual page (roff), generated from the help: kdoctor man > kdoctor.1; man -l kdoctor.1')
		.action(async () => {
			const {manPage} = await import('./commands/completion.js');
			await write(manPage(commandTree(program), pkg.version));
		});

	program.helpCommand(false);
	program
		.command('help')
		.description('help for a command: kdoctor help diagnose')
		.argument('[command...]', 'the command (and subcommand)')
		.action((names: string[]) => {
			let c: Command = program;
			for (const n of names) {
				const next = c.commands.find((x) => x.name() === n || x.aliases().includes(n));
				if (!next)
					throw new InputError(
						`unknown command '${[...names.slice(0, names.indexOf(n)), n].join(' ')}' (kdoctor --help lists the commands)`,
					);
				c = next;
			}
			c.outputHelp();
		});

	return program;
}

/** The commands and their flags, as completion scripts and the man page need them. */
function commandTree(program: Command) {
	const node = (c: Command): import('./commands/completion.js').CommandNode => ({
		name: c.name(),
		description: c.description(),
		options: c.options
			.filter((o) => !o.hidden)
			.map((o) => ({flags: o.flags, long: o.long, short: o.short, description: o.description, takesValue: o.required || o.optional})),
		commands: c.commands.map(node),
	});
	return node(program);
}

/** Runs the CLI; every failure a user can cause ends as one line on stderr and exit code 2. */
export async function main(argv: string[]): Promise<void> {
	// Ink's colour library honours FORCE_COLOR but not NO_COLOR; it loads lazily, after this line.
	// Node warns when both are set, so NO_COLOR is turned into FORCE_COLOR=0 rather than kept beside it.
	if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') process.env.FORCE_COLOR = '0';
	if (process.env.NO_COLOR !== undefined && process.env.FORCE_COLOR !== undefined) delete process.env.NO_COLOR;
	const program = buildProgram();
	program.exitOverride();
	for (const sub of program.commands) {
		sub.exitOverride();
		for (const subsub of sub.commands) subsub.exitOverride();
	}
	try {
		if (argv.length === 0) {
			// On a terminal, `kdoctor` alone is the home screen; elsewhere (a pipe, CI) the help.
			if (!interactive({})) {
				program.outputHelp();
				return;
			}
			const {runHome} = await import('./ui/run-home.js');
			const chosen = await runHome();
			if (chosen) await program.parseAsync(chosen, {from: 'user'});
			return;
		}
		const started = performance.now();
		await program.parseAsync(argv, {from: 'user'});
		if (process.env.KDOCTOR_DEBUG)
			process.stderr.write(
				`kdoctor: debug: ${argv.find((a) => !a.startsWith('-')) ?? 'kdoctor'} took ${Math.round(performance.now() - started)} ms\n`,
			);
	} catch (error) {
		if (error instanceof CommanderError) {
			process.exitCode = error.exitCode === 0 ? 0 : 2;
			return;
		}
		const message = error instanceof Error ? error.message : String(error);
		// A programming error (a TypeError and its kin) is a bug: its stack and where to report it, exit 70 (EX_SOFTWARE).
		if (isBug(error)) {
			stderr(
				`kdoctor: internal error: ${message}\n${(error as Error).stack ?? ''}\nThis is a bug in kdoctor ${pkg.version}, ` +
					`not something you did: please report it with the lines above at https://github.com/kdoctor-dev/kdoctor/issues\n`,
			);
			process.exitCode = 70;
			return;
		}
		stderr(`kdoctor: ${message}\n`);
		if (error instanceof InputError && error.hint) stderr(`  hint: ${error.hint}\n`);
		if (process.env.KDOCTOR_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
		process.exitCode = 2;
	}
}

/** Errors the language raises for broken code, never ones kdoctor throws to tell the user something. */
function isBug(error: unknown): boolean {
	return (
		error instanceof TypeError ||
		error instanceof ReferenceError ||
		error instanceof RangeError ||
		error instanceof EvalError ||
		(error instanceof SyntaxError && !/JSON/.test(error.message))
	);
}

let interrupts = 0;
/** The signal that stopped kdoctor: its exit status is 128 + its number, as a shell reports it (130, 143). */
let stoppedBy: 'SIGINT' | 'SIGTERM' | undefined;
const signalExit = () => (stoppedBy === 'SIGTERM' ? 143 : 130);
/** Ctrl-C and a polite kill (SIGTERM from a CI runner or a timeout) both stop the run's children first. */
const onStopSignal = (signal: 'SIGINT' | 'SIGTERM') => {
	interrupts++;
	stoppedBy ??= signal;
	if (interruptHandler && interrupts === 1) {
		process.stderr.write(`\nkdoctor: ${interruptNote}\n`);
		interruptHandler();
		return;
	}
	// Whatever was being read was not read to its end: nothing is reported as a result (could not look).
	process.stderr.write(`\nkdoctor: interrupted (${signal}): nothing was diagnosed or changed after this point\n`);
	process.exit(signalExit());
};
process.on('SIGINT', onStopSignal);
process.on('SIGTERM', onStopSignal);
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
	if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
});

await main(process.argv.slice(2));
// A run stopped by its interrupt handler returns 130; a SIGTERM says so in its status.
if (stoppedBy === 'SIGTERM' && process.exitCode === 130) process.exitCode = 143;
