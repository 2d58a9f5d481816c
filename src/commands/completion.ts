import {InputError} from '../adapters/input.js';

/** A command as its help describes it: the one source for completion scripts and the man page. */
export type CommandNode = {
	name: string;
	description: string;
	options: {flags: string; long?: string; short?: string; description: string; takesValue: boolean}[];
	commands: CommandNode[];
};

/** Flags whose value is a path: the shell completes files there. */
const PATH_FLAGS = new Set([
	'--from',
	'--kb',
	'--kb-extra',
	'--config',
	'--kubeconfig',
	'--output',
	'--dir',
	'--source',
	'--containerd-socket',
]);

function walk(node: CommandNode, path: string[] = []): {path: string[]; node: CommandNode}[] {
	return [{path, node}, ...node.commands.flatMap((c) => walk(c, [...path, c.name]))];
}

const flagsOf = (n: CommandNode) => n.options.flatMap((o) => [o.long, o.short].filter((f): f is string => Boolean(f)));

/** Bash (and zsh through bashcompinit): subcommands, then each command's flags, files after a path flag. */
function bash(tree: CommandNode): string {
	const globals = flagsOf(tree);
	const valued = [
		...new Set(walk(tree).flatMap(({node}) => node.options.filter((o) => o.takesValue).flatMap((o) => [o.long, o.short]))),
	].filter(Boolean);
	const cases = walk(tree)
		.map(({path, node}) => {
			const subs = node.commands.map((c) => c.name).join(' ');
			const flags = [...new Set([...flagsOf(node), ...globals, '--help'])].join(' ');
			return `\t\t'${path.join(' ')}') subs='${subs}'; flags='${flags}' ;;`;
		})
		.join('\n');
	return `# kdoctor completion for bash: source <(kdoctor completion bash)
_kdoctor() {
	local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}" path="" skip="" i w subs flags
	for ((i = 1; i < COMP_CWORD; i++)); do
		w="\${COMP_WORDS[i]}"
		if [[ -n "$skip" ]]; then skip=""; continue; fi
		case " ${valued.join(' ')} " in *" $w "*) skip=1; continue ;; esac
		[[ "$w" == -* ]] && continue
		case "\${path:+$path }$w" in
${walk(tree)
	.filter(({path}) => path.length > 0)
	.map(({path}) => `\t\t\t'${path.join(' ')}') path="${path.join(' ')}" ;;`)
	.join('\n')}
		esac
	done
	case " ${[...PATH_FLAGS].join(' ')} " in *" $prev "*) COMPREPLY=($(compgen -f -- "$cur")); return ;; esac
	case "$path" in
${cases}
	esac
	if [[ "$cur" == -* ]]; then
		COMPREPLY=($(compgen -W "$flags" -- "$cur"))
	elif [[ -n "$subs" ]]; then
		COMPREPLY=($(compgen -W "$subs" -- "$cur"))
	fi
}
complete -o default -F _kdoctor kdoctor
`;
}

const fishQuote = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

function fish(tree: CommandNode): string {
	const out = [
		'# kdoctor completion for fish: kdoctor completion fish > ~/.config/fish/completions/kdoctor.fish',
		'complete -c kdoctor -f',
	];
	const all = walk(tree);
	for (const {path, node} of all) {
		const seen = path.map((p) => `__fish_seen_subcommand_from ${p}`).join('; and ');
		const notDeeper = node.commands.length ? `not __fish_seen_subcommand_from ${node.commands.map((c) => c.name).join(' ')}` : '';
		const cond = path.length === 0 ? '__fish_use_subcommand' : [seen, notDeeper].filter(Boolean).join('; and ');
		for (const c of node.commands) out.push(`complete -c kdoctor -n ${fishQuote(cond)} -a ${c.name} -d ${fishQuote(c.description)}`);
		const where = path.length === 0 ? '' : `-n ${fishQuote(seen)} `;
		for (const o of node.options) {
			const names = [o.long ? `-l ${o.long.slice(2)}` : '', o.short ? `-s ${o.short.slice(1)}` : ''].filter(Boolean).join(' ');
			const value = o.takesValue ? (o.long && PATH_FLAGS.has(o.long) ? ' -r -F' : ' -r') : '';
			out.push(`complete -c kdoctor ${where}${names}${value} -d ${fishQuote(o.description)}`);
		}
		// Commands that read files take them as arguments.
		if (['diagnose', 'report'].includes(node.name) && path.length === 1) out.push(`complete -c kdoctor -n ${fishQuote(seen)} -F`);
	}
	return out.join('\n') + '\n';
}

/** The script for one shell; an unknown shell is one line. */
export function completionScript(shell: string, tree: CommandNode): string {
	if (shell === 'bash') return bash(tree);
	if (shell === 'zsh')
		return (
			`# kdoctor completion for zsh: source <(kdoctor completion zsh) in ` +
			`~/.zshrc\nautoload -U +X bashcompinit && bashcompinit\n${bash(tree)}`
		);
	if (shell === 'fish') return fish(tree);
	throw new InputError(`kdoctor completion ${shell}: say bash, zsh or fish`);
}

/** roff text: a backslash, and a line starting with . or ', would be read as roff requests. */
const roff = (s: string) =>
	s
		.replace(/\\/g, '\\e')
		.replace(/-/g, '\\-')
		.replace(/^([.'])/gm, '\\&$1')
		// troff reads bytes: any other character goes as its Unicode escape (\[u2014] is an em dash).
		.replace(/[^\x00-\x7f]/gu, (c) => `\\[u${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}]`);

/** The manual page, from the same tree as --help: a command's description and flags, never written twice. */
export function manPage(tree: CommandNode, version: string): string {
	const opt = (o: CommandNode['options'][number]) => `.TP\n\\fB${roff(o.flags)}\\fR\n${roff(o.description)}`;
	const out = [
		`.TH KDOCTOR 1 "" "kdoctor ${roff(version)}" "User Commands"`,
		'.SH NAME',
		`kdoctor \\- ${roff(tree.description)}`,
		'.SH SYNOPSIS',
		'.B kdoctor',
		'[\\fIoptions\\fR] \\fIcommand\\fR [\\fIargs\\fR]',
		'.SH OPTIONS',
		...tree.options.map(opt),
		'.SH COMMANDS',
	];
	for (const {path, node} of walk(tree).filter((w) => w.path.length > 0)) {
		out.push(`.SS "kdoctor ${roff(path.join(' '))}"`, roff(node.description), ...node.options.map(opt));
	}
	out.push(
		'.SH EXIT STATUS',
		'0 nothing found, or done; 1 a cause was found (diagnose, triage) or a fix did not verify; 2 a usage or input error',
		'(one line on stderr); 70 a bug in kdoctor (its stack and where to report it); 130 and 143 stopped by SIGINT or SIGTERM.',
		'.SH ENVIRONMENT',
		'.TP\n\\fBNO_COLOR\\fR, \\fBFORCE_COLOR\\fR\ncolour off, or forced (\\-\\-color decides first)',
		'.TP\n\\fBKDOCTOR_STATE_DIR\\fR, \\fBXDG_STATE_HOME\\fR\nwhere the journal, run folders and caches live',
		'.TP\n\\fBVISUAL\\fR, \\fBEDITOR\\fR\nthe editor kdoctor kb new opens',
		'.TP\n\\fBKUBECONFIG\\fR\nthe kubeconfig of diagnose \\-n, fix \\-n, triage and up \\-\\-provider existing',
		'.SH FILES',
		'.TP\n\\fB./kdoctor.yaml\\fR\nprofiles and policy of this project',
		".TP\n\\fB.kdoctor/knowledge/\\fR\nthe team's own KB entries (*.yaml) and cases (cases/*.jsonl), found from the current folder upward",
		'',
	);
	return out.join('\n');
}
