/** What a Dockerfile builds from and for which CPU, with the profile's build args applied as the engine would. */

export type BaseImage = {
	/** The image after ARG substitution, as the engine would pull it. */
	image: string;
	/** 1-based line of the FROM. */
	line: number;
	/** Where the reference comes from: the Dockerfile itself, or a build arg of the profile / command line. */
	origin: 'dockerfile' | 'build-arg';
	/** The ARG that supplied it, when one did. */
	arg?: string;
	/** The line of that ARG's default, when the default is what is used. */
	argLine?: number;
	platform?: string;
};

export type ArchPin = {
	/** The architecture the binary or image is forced to. */
	arch: string;
	/** What pins it, as written. */
	text: string;
	line?: number;
	origin: 'dockerfile' | 'build-arg' | 'profile';
};

export type DockerfileFacts = {bases: BaseImage[]; pins: ArchPin[]};

/** Logical lines (continuations joined) with the line number each starts on; comments dropped. */
function logicalLines(text: string): {line: number; text: string}[] {
	const out: {line: number; text: string}[] = [];
	let buf = '';
	let start = 0;
	text.split(/\r?\n/).forEach((raw, i) => {
		if (!buf && /^\s*#/.test(raw)) return;
		if (!buf) start = i + 1;
		if (/\\\s*$/.test(raw)) {
			buf += raw.replace(/\\\s*$/, ' ');
			return;
		}
		buf += raw;
		if (buf.trim()) out.push({line: start, text: buf.trim()});
		buf = '';
	});
	if (buf.trim()) out.push({line: start, text: buf.trim()});
	return out;
}

const ARCHES = new Set(['amd64', 'arm64', '386', 'arm', 'ppc64le', 's390x', 'riscv64']);
/** Args the engine sets itself for the platform it builds (BuildKit and buildah both do). */
const AUTOMATIC = new Set([
	'TARGETARCH',
	'TARGETPLATFORM',
	'TARGETOS',
	'TARGETVARIANT',
	'BUILDARCH',
	'BUILDPLATFORM',
	'BUILDOS',
	'BUILDVARIANT',
]);

type ArgValue = {value: string | undefined; line?: number; fromBuildArg: boolean};

/** ${VAR}, $VAR and ${VAR:-default} as the Dockerfile frontend expands them; automatic platform args stay symbolic. */
function expand(text: string, args: Map<string, ArgValue>): {text: string; used: string[]} {
	const used: string[] = [];
	const out = text.replace(
		/\$\{(\w+)(?::?-([^}]*))?\}|\$(\w+)/g,
		(whole, a: string | undefined, dflt: string | undefined, b: string | undefined) => {
			const name = (a ?? b)!;
			if (AUTOMATIC.has(name)) return `\${${name}}`;
			used.push(name);
			const v = args.get(name)?.value;
			return v !== undefined && v !== '' ? v : (dflt ?? '');
		},
	);
	return {text: out, used};
}

/**
 * Reads FROM lines (with ARG defaults and build args applied) and anything that forces a CPU architecture:
 * GOARCH set to a literal, `FROM --platform=` a literal platform, a GOARCH build arg.
 */
export function analyzeDockerfile(text: string, buildArgs: Record<string, string>): DockerfileFacts {
	const bases: BaseImage[] = [];
	const pins: ArchPin[] = [];
	const globalArgs = new Map<string, ArgValue>();
	let stageArgs = new Map<string, ArgValue>();
	let inStage = false;
	const stageNames = new Set<string>();
	const declare = (into: Map<string, ArgValue>, name: string, dflt: string | undefined, line: number) => {
		if (name in buildArgs) into.set(name, {value: buildArgs[name], fromBuildArg: true});
		else if (dflt !== undefined) into.set(name, {value: expand(dflt, into).text, line, fromBuildArg: false});
		// A global ARG redeclared without a default inside a stage takes the global value.
		else into.set(name, globalArgs.get(name) ?? {value: undefined, fromBuildArg: false});
	};
	for (const {line, text: l} of logicalLines(text)) {
		const m = /^(\w+)\s+(.*)$/.exec(l);
		if (!m) continue;
		const instr = m[1]!.toUpperCase();
		const rest = m[2]!;
		if (instr === 'ARG') {
			for (const decl of rest.split(/\s+/)) {
				const [name, ...v] = decl.split('=');
				if (!name) continue;
				const dflt = v.length > 0 ? v.join('=').replace(/^["']|["']$/g, '') : undefined;
				declare(inStage ? stageArgs : globalArgs, name, dflt, line);
				if (name === 'GOARCH') {
					const val = (inStage ? stageArgs : globalArgs).get(name)!;
					if (val.value && ARCHES.has(val.value))
						pins.push({
							arch: val.value,
							text: val.fromBuildArg ? `--build-arg GOARCH=${val.value}` : decl,
							line: val.fromBuildArg ? undefined : line,
							origin: val.fromBuildArg ? 'build-arg' : 'dockerfile',
						});
				}
			}
			continue;
		}
		if (instr === 'FROM') {
			const fm = /^(?:--platform=(\S+)\s+)?(\S+)(?:\s+AS\s+(\S+))?/i.exec(rest);
			if (!fm) continue;
			const raw = fm[2]!;
			const exp = expand(raw, globalArgs);
			const platform = fm[1] ? expand(fm[1], globalArgs).text : undefined;
			inStage = true;
			stageArgs = new Map();
			if (!stageNames.has(exp.text.toLowerCase()) && exp.text !== 'scratch') {
				const arg = exp.used[0];
				const a = arg ? globalArgs.get(arg) : undefined;
				bases.push({
					image: exp.text,
					line,
					origin: a?.fromBuildArg ? 'build-arg' : 'dockerfile',
					...(arg ? {arg} : {}),
					...(a?.line ? {argLine: a.line} : {}),
					...(platform ? {platform} : {}),
				});
			}
			if (fm[3]) stageNames.add(fm[3].toLowerCase());
			const archOf = platform && !platform.includes('$') ? platform.split('/')[1] : undefined;
			if (archOf && ARCHES.has(archOf)) pins.push({arch: archOf, text: `FROM --platform=${fm[1]}`, line, origin: 'dockerfile'});
			continue;
		}
		if (instr === 'ENV' || instr === 'RUN') {
			const scope = new Map([...globalArgs, ...stageArgs]);
			for (const g of rest.matchAll(/\bGOARCH=("?)([^\s"';&]+)\1/g)) {
				const value = expand(g[2]!, scope).text;
				// GOARCH=${TARGETARCH} (or an ARG that follows it) builds for the platform being built: not a pin.
				if (ARCHES.has(value))
					pins.push({
						arch: value,
						text: `${instr} …GOARCH=${g[2]}`,
						line,
						origin: /\$/.test(g[2]!) && scope.get(g[2]!.replace(/[${}]/g, ''))?.fromBuildArg ? 'build-arg' : 'dockerfile',
					});
			}
		}
	}
	return {bases, pins};
}

/** Docker Hub short names (golang:1.24, library/alpine) are docker.io images: the policy sees them as such. */
export function fullImageName(ref: string): string {
	const first = ref.split('/')[0]!;
	if (ref.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost')) return ref;
	return `docker.io/${ref.includes('/') ? ref : `library/${ref}`}`;
}
