import {pickMachine} from '../engine-facts.js';
import {installHint} from '../install-hints.js';
import {shellLine} from '../text/quote.js';
import type {History} from '../provision/history.js';
import {expandBuildArgs, type Profile} from '../provision/profile.js';
import {analyzeDockerfile, fullImageName} from './dockerfile.js';
import {budgetOf, machineMiBFor, memoryNeed} from './need.js';
import type {CheckGroup, CheckResult, CheckStatus, PodmanInfo, PodmanMachine, SetupFactsPort, SetupFix, ToolFacts} from './types.js';

export type SetupInput = {
	facts: SetupFactsPort;
	profileName: string;
	profile: Profile;
	/** Resolves a path of the profile (Dockerfile, context) to an absolute one. */
	resolvePath(p: string): string;
	/** --build-arg overrides, applied over each image's own build args as `up` applies them. */
	buildArgs: Record<string, string>;
	engine: 'podman' | 'docker';
	history: History;
	allowedBaseRegistries: string[];
	/** Memory an engine's machine keeps for its own OS (the engine adapter's rule). */
	reserve(totalMiB: number): number;
};

/** kind's known-issues page: the defaults (8192 watches, 128 instances) are too low for a cluster's kubelet and pods. */
export const INOTIFY = {watches: 524288, instances: 512};
/** Kubernaut's own pre-flight asked for 20 GB free; below 10 the node image and two builds do not fit. */
export const DISK = {warnGiB: 20, failGiB: 10};
/** Controllers a Kind node needs delegated to it (kind's rootless guide). */
export const KIND_CGROUP_CONTROLLERS = ['cpu', 'memory', 'pids'];

type Check = {
	id: string;
	group: CheckGroup;
	title: string;
	run(input: SetupInput): Promise<Omit<CheckResult, 'id' | 'group' | 'title'> | CheckResult[]>;
};

const MiB = 1024 * 1024;

function ok(summary: string, details: string[] = []) {
	return {status: 'ok' as const, summary, details};
}
function result(status: CheckStatus, summary: string, extra: Partial<CheckResult> = {}) {
	return {status, summary, details: [], ...extra};
}

/** x.y.z compare; a missing part counts as 0. */
export function versionAtLeast(have: string, want: string): boolean {
	const a = have.split('.').map(Number);
	const b = want.split('.').map(Number);
	for (let i = 0; i < 3; i++) {
		const x = a[i] ?? 0;
		const y = b[i] ?? 0;
		if (x !== y) return x > y;
	}
	return true;
}

/** Which engine kind uses when nothing tells it (kind's DetectNodeProvider): docker if `docker -v` says Docker, else podman. */
export function kindProvider(env: string | undefined, docker: ToolFacts, podman: ToolFacts): {provider?: string; why: string} {
	if (env) return {provider: env, why: `KIND_EXPERIMENTAL_PROVIDER=${env}`};
	if (docker.path && docker.versionLine?.startsWith('Docker version'))
		return {provider: 'docker', why: `docker is on PATH (${docker.path}) and kind prefers it when KIND_EXPERIMENTAL_PROVIDER is unset`};
	if (podman.path && podman.versionLine?.startsWith('podman version'))
		return {provider: 'podman', why: 'podman is the only engine on PATH'};
	return {why: 'neither docker nor podman answers `-v`'};
}

const oneLine = (e: unknown) => ((e as Error).message ?? String(e)).split('\n')[0]!;

const vm = (platform: string) => platform === 'darwin' || platform === 'win32';

/** Rootless or rootful: in a podman machine the machine's setting (podman machine set --rootful), else podman's own. */
async function podmanMode(facts: SetupFactsPort, info: PodmanInfo): Promise<{rootless: boolean; machine?: PodmanMachine}> {
	const machine = vm(facts.platform) ? pickMachine(await facts.podmanMachines().catch(() => [])) : undefined;
	return {rootless: machine ? machine.Rootful !== true : info.host?.security?.rootless === true, ...(machine ? {machine} : {})};
}

export const CHECKS: Check[] = [
	{
		id: 'host.os',
		group: 'host',
		title: 'Operating system and CPU',
		async run({facts}) {
			const [name, arch] = await Promise.all([facts.osName(), facts.arch()]);
			const silicon = facts.platform === 'darwin' && arch === 'arm64' ? ' (Apple Silicon)' : '';
			return ok(
				`${name}, ${arch}${silicon}`,
				arch === 'arm64'
					? ['arm64 host: every image must be built for arm64; an amd64 Go binary crashes under emulation (lfstack.push)']
					: [],
			);
		},
	},
	{
		id: 'host.emulation',
		group: 'host',
		title: 'Emulation of other CPUs',
		async run({facts, engine}) {
			const arch = await facts.arch();
			const emulators = await facts.emulators();
			let emulated: string[] = [];
			if (engine === 'podman') emulated = (await facts.podmanInfo().catch(() => undefined))?.host?.emulatedArchitectures ?? [];
			const other = arch === 'arm64' ? 'amd64' : 'arm64';
			const can = emulated.some((a) => a.endsWith(`/${other}`)) || emulators.length > 0;
			const what = [...emulators, ...(emulated.length > 0 ? [`the engine emulates ${emulated.join(', ')}`] : [])].join('; ');
			if (arch !== 'arm64')
				return ok(`native ${arch}${can ? `; ${what}` : ''}`, [
					'kdoctor builds every image for the engine’s own CPU, so nothing needs emulation',
				]);
			if (can)
				return result('ok', `amd64 images can run, emulated (${what})`, {
					details: [
						'Emulated Go programs are slow and crash at start-up (fatal error: lfstack.push): ' +
							'kdoctor builds for arm64 and the images checks below look for amd64 pins',
					],
					finding: 'go-runtime-emulation-crash',
				});
			return result('warning', 'amd64 images cannot run here (no Rosetta or QEMU): every image, pulled ones too, must exist for arm64', {
				hint:
					facts.platform === 'darwin'
						? 'softwareupdate --install-rosetta --agree-to-license'
						: 'apt-get install qemu-user-static binfmt-support',
				finding: 'arch-mismatch',
			});
		},
	},
	{
		id: 'host.disk',
		group: 'host',
		title: 'Free disk for images',
		async run({facts, engine}) {
			let where = facts.env('HOME') ?? '/';
			if (!vm(facts.platform)) {
				if (engine === 'podman')
					where = (await facts.podmanInfo().catch(() => undefined))?.store?.graphRoot ?? '/var/lib/containers/storage';
				else where = '/var/lib/docker';
			}
			const free = await facts.freeDiskGiB(where);
			const text = `${free.toFixed(1)} GiB free at ${where}`;
			if (free < DISK.failGiB)
				return result('failed', `${text}: below ${DISK.failGiB} GiB the node image and the builds do not fit`, {
					finding: 'disk-full',
					hint: engine === 'podman' ? 'podman system prune -a (removes unused images), or free space' : 'docker system prune -a',
				});
			if (free < DISK.warnGiB)
				return result('warning', `${text}: less than the ${DISK.warnGiB} GiB Kubernaut's pre-flight asked for`, {
					finding: 'disk-full',
					hint: `${engine} image prune`,
				});
			return ok(text);
		},
	},
	{
		id: 'tools.engine',
		group: 'tools',
		title: 'Container engine CLI (and the one kind picks)',
		async run({facts, engine}) {
			const [podman, docker] = await Promise.all([facts.tool('podman'), facts.tool('docker')]);
			const mine = engine === 'podman' ? podman : docker;
			const family = await facts.osFamily();
			if (!mine.path)
				return result('failed', `${engine} is not installed`, {
					hint: installHint(engine, facts.platform, family),
					finding: 'engine-unreachable',
				});
			const picked = kindProvider(facts.env('KIND_EXPERIMENTAL_PROVIDER'), docker, podman);
			const details = [
				`${engine}: ${mine.versionLine ?? '?'} (${mine.path})`,
				`kind on its own would use: ${picked.provider ?? 'nothing'} (${picked.why})`,
				`kdoctor passes KIND_EXPERIMENTAL_PROVIDER=${engine} to every kind call it makes`,
			];
			if (picked.provider !== engine)
				return result(
					'warning',
					`${engine} ${mine.version ?? ''}; but kind run by hand (or by a test harness) would use ` +
						`${picked.provider ?? 'no engine'}: clusters and images would not be where kdoctor looks`,
					{details, hint: `export KIND_EXPERIMENTAL_PROVIDER=${engine} (add it to your shell profile)`},
				);
			return ok(`${engine} ${mine.version ?? mine.versionLine ?? ''}; kind uses it too (${picked.why})`, details);
		},
	},
	{
		id: 'tools.kind',
		group: 'tools',
		title: 'kind',
		async run({facts, profile}) {
			const kind = await facts.tool('kind');
			const want = profile.cluster.minKindVersion;
			const family = await facts.osFamily();
			if (!kind.path)
				return result('failed', `kind is not installed${want ? ` (the profile needs ${want} or newer)` : ''}`, {
					hint: installHint('kind', facts.platform, family),
				});
			if (!kind.version)
				return result('unknown', `kind is at ${kind.path} but its version could not be read: ${kind.error ?? kind.versionLine ?? ''}`);
			if (want && !versionAtLeast(kind.version, want))
				return result('failed', `kind ${kind.version} is older than ${want}, which the profile's node image needs`, {
					hint: installHint('kind', facts.platform, family),
				});
			return ok(`kind ${kind.version}${want ? ` (≥ ${want})` : ''}`, [kind.path]);
		},
	},
	{
		id: 'tools.go',
		group: 'tools',
		title: 'Go',
		async run({facts}) {
			const go = await facts.tool('go');
			if (!go.path)
				return result(
					'warning',
					'Go is not installed: needed for --coverage reports (go tool covdata) and to run the Go E2E suites; images build without it',
					{hint: installHint('go', facts.platform, await facts.osFamily())},
				);
			return ok(`go ${go.version ?? go.versionLine ?? ''}`, [go.path]);
		},
	},
	{
		id: 'tools.kubectl',
		group: 'tools',
		title: 'kubectl (optional)',
		async run({facts}) {
			const k = await facts.tool('kubectl');
			if (!k.path)
				return ok('not installed (optional: kdoctor reads the cluster itself)', [
					installHint('kubectl', facts.platform, await facts.osFamily()),
				]);
			return ok(`kubectl ${k.version ?? k.versionLine ?? ''}`, [k.path]);
		},
	},
	{
		id: 'engine.running',
		group: 'engine',
		title: 'Engine running and reachable',
		async run({facts, engine}) {
			if (!(await facts.tool(engine)).path) return result('unknown', `${engine} is not installed`);
			if (engine === 'docker') {
				const info = await facts.dockerInfo().catch((e: unknown) => e as Error);
				if (info instanceof Error) return result('failed', oneLine(info), {finding: 'engine-unreachable'});
				return ok(`docker ${info.ServerVersion ?? ''} answers (${info.OperatingSystem ?? ''})`);
			}
			if (vm(facts.platform)) {
				const machines = await facts.podmanMachines().catch((e: unknown) => e as Error);
				if (machines instanceof Error) return result('unknown', `podman machine inspect failed: ${oneLine(machines)}`);
				const m = pickMachine(machines);
				if (!m)
					return result('failed', 'there is no podman machine: podman on macOS runs containers in one', {
						finding: 'engine-unreachable',
						fix: {
							key: 'i',
							title: 'Create and start the podman machine',
							commands: [
								['podman', 'machine', 'init', '--cpus', '4', '--memory', '8192', '--disk-size', '100'],
								['podman', 'machine', 'start'],
							],
							undo: [['podman', 'machine', 'rm', '-f']],
							destructive: false,
						},
					});
				if (m.State !== 'running')
					return result('failed', `podman machine ${m.Name} is ${m.State ?? 'not running'}`, {
						finding: 'engine-unreachable',
						fix: {
							key: 's',
							title: `Start podman machine ${m.Name}`,
							commands: [['podman', 'machine', 'start', m.Name ?? 'podman-machine-default']],
							undo: [['podman', 'machine', 'stop', m.Name ?? 'podman-machine-default']],
							destructive: false,
						},
					});
			}
			const info = await facts.podmanInfo().catch((e: unknown) => e as Error);
			if (info instanceof Error) return result('failed', oneLine(info), {finding: 'engine-unreachable'});
			const {rootless, machine} = await podmanMode(facts, info);
			const mode = rootless ? 'rootless' : 'rootful';
			const version = info.version?.Version ?? (await facts.tool('podman')).version;
			return ok(
				`podman ${version ? `${version} ` : ''}answers${machine ? ` in machine ${machine.Name}` : ''}, ` +
					`${mode}, cgroup ${info.host?.cgroupVersion ?? '?'} (${info.host?.cgroupManager ?? '?'})`,
				[
					`runs ${info.host?.os ?? '?'}/${info.host?.arch ?? '?'} on ${info.host?.distribution?.distribution ?? '?'} ` +
						`${info.host?.distribution?.version ?? ''}, kernel ${info.host?.kernel ?? '?'}`,
				],
			);
		},
	},
	{
		id: 'engine.memory',
		group: 'engine',
		title: "Engine memory against the profile's builds",
		async run(input) {
			const {facts, engine, profile, profileName, history, reserve} = input;
			const need = memoryNeed(profileName, profile, history);
			let total: number;
			let what: string;
			let machine: PodmanMachine | undefined;
			let info: PodmanInfo | undefined;
			try {
				if (engine === 'podman' && vm(facts.platform)) {
					machine = pickMachine(await facts.podmanMachines());
					if (!machine) return result('unknown', 'no podman machine to measure');
					total = machine.Resources?.Memory ?? 0;
					what = `podman machine ${machine.Name} has ${total} MiB and ${machine.Resources?.CPUs ?? '?'} CPUs`;
				} else if (engine === 'podman') {
					info = await facts.podmanInfo();
					total = Math.floor((info.host?.memTotal ?? 0) / MiB);
					what = `this host has ${total} MiB`;
				} else {
					const d = await facts.dockerInfo();
					total = Math.floor((d.MemTotal ?? 0) / MiB);
					what = `docker's machine has ${total} MiB and ${d.NCPU ?? '?'} CPUs`;
				}
			} catch (error) {
				return result('unknown', `the engine did not say how much memory it has: ${oneLine(error)}`);
			}
			const budget = budgetOf(total, reserve);
			const budgetText = `${budget} MiB for builds and the node after ${total - budget} MiB for ${machine ? "the VM's own OS" : 'the OS'}`;
			const details = [
				`${what}: ${budgetText}`,
				...need.builds.map(
					(b) =>
						`build ${b.image}: ${b.miB} MiB (` +
						(b.source === 'learned'
							? `measured by an earlier run${b.oomKilled ? ', raised after an out-of-memory kill' : ''}`
							: b.source === 'profile'
								? "the profile's estimate"
								: 'the default until a run measures it') +
						')',
				),
				`the Kind node keeps ${need.clusterMiB} MiB while the cluster exists`,
				`one build at a time needs ${need.minimumMiB} MiB; every build at once beside the node ${need.parallelMiB} MiB`,
			];
			const cpus = machine?.Resources?.CPUs ?? 0;
			const fix = (wantMiB: number): SetupFix | undefined => {
				if (!machine) return undefined;
				const name = machine.Name ?? 'podman-machine-default';
				const setCpus = cpus > 0 && cpus < 4 ? ['--cpus', '4'] : [];
				const back = [...(setCpus.length ? ['--cpus', String(cpus)] : []), '--memory', String(total)];
				return {
					key: 'm',
					title: `Give podman machine ${name} ${wantMiB} MiB${setCpus.length ? ' and 4 CPUs' : ''}`,
					commands: [
						['podman', 'machine', 'stop', name],
						['podman', 'machine', 'set', ...setCpus, '--memory', String(wantMiB), name],
						['podman', 'machine', 'start', name],
					],
					undo: [
						['podman', 'machine', 'stop', name],
						['podman', 'machine', 'set', ...back, name],
						['podman', 'machine', 'start', name],
					],
					destructive: true,
					warning: 'the machine restarts: every running container, Kind nodes included, stops',
				};
			};
			const want = Math.max(machineMiBFor(need.parallelMiB, reserve), total);
			const hint = machine
				? undefined
				: engine === 'docker'
					? 'raise the memory of Docker Desktop (Settings → Resources)'
					: 'close other programs, or run builds one at a time: kdoctor up --build-jobs 1';
			if (budget < need.minimumMiB) {
				const who =
					need.largest && need.largest.miB >= need.clusterMiB
						? `build ${need.largest.image} needs ${need.largest.miB} MiB`
						: `the Kind node needs ${need.clusterMiB} MiB`;
				return result('failed', `${what}, ${budget} MiB for builds: ${who}, so it would be killed for memory (compile: signal: killed)`, {
					details,
					finding: 'build-oom-killed',
					...(fix(want) ? {fix: fix(want)} : {}),
					...(hint ? {hint} : {}),
				});
			}
			if (budget < need.parallelMiB)
				return result(
					'warning',
					`${what}, ${budget} MiB for builds: enough for one build at a time, not for all ` +
						`${need.builds.length} at once (${need.parallelMiB} MiB); the run will be slower`,
					{details, finding: 'engine-vm-resources', ...(fix(want) ? {fix: fix(want)} : {}), ...(hint ? {hint} : {})},
				);
			if (machine && cpus > 0 && cpus < 2)
				return result('warning', `${what}: one CPU makes Go builds slow`, {
					details,
					...(fix(Math.max(total, want)) ? {fix: fix(Math.max(total, want))} : {}),
				});
			return ok(`${what}, ${budget} MiB for builds: every build at once fits (${need.parallelMiB} MiB)`, details);
		},
	},
	{
		id: 'engine.cgroups',
		group: 'engine',
		title: 'cgroup controllers kind needs',
		async run({facts, engine}) {
			if (engine !== 'podman') return ok('docker manages the node’s cgroups itself');
			const info = await facts.podmanInfo().catch((e: unknown) => e as Error);
			if (info instanceof Error) return result('unknown', `podman did not answer: ${oneLine(info)}`);
			const have = info.host?.cgroupControllers ?? [];
			const missing = KIND_CGROUP_CONTROLLERS.filter((c) => !have.includes(c));
			const {rootless} = await podmanMode(facts, info);
			const text = `cgroup ${info.host?.cgroupVersion ?? '?'}, ${rootless ? 'rootless' : 'rootful'}: ${have.join(', ') || 'no controllers'}`;
			if (missing.length === 0) return ok(text);
			if (rootless)
				return result('failed', `${text}: ${missing.join(', ')} not delegated to your user, so the Kind node cannot start`, {
					finding: 'podman-rootless-cgroups',
					hint: vm(facts.platform)
						? 'podman machine set --rootful (then podman machine stop; podman machine start)'
						: 'delegate them: see https://kind.sigs.k8s.io/docs/user/rootless/ (a systemd drop-in with Delegate=yes), or run podman as root',
				});
			return result('warning', `${text}: ${missing.join(', ')} missing`, {finding: 'podman-rootless-cgroups'});
		},
	},
	{
		id: 'engine.inotify',
		group: 'engine',
		title: 'inotify limits (kind known issue)',
		async run({facts}) {
			if (vm(facts.platform)) return ok('set inside the podman machine (its OS raises them)');
			const [watches, instances] = await Promise.all([
				facts.sysctl('fs.inotify.max_user_watches'),
				facts.sysctl('fs.inotify.max_user_instances'),
			]);
			if (watches === undefined || instances === undefined) return result('unknown', 'could not read /proc/sys/fs/inotify');
			const text = `max_user_watches ${watches}, max_user_instances ${instances}`;
			const low: string[][] = [];
			if (watches < INOTIFY.watches) low.push(['fs.inotify.max_user_watches', String(INOTIFY.watches), String(watches)]);
			if (instances < INOTIFY.instances) low.push(['fs.inotify.max_user_instances', String(INOTIFY.instances), String(instances)]);
			if (low.length === 0) return ok(text);
			return result(
				'warning',
				`${text}: kind advises at least ${INOTIFY.watches} and ${INOTIFY.instances}; pods fail with "too many open files"`,
				{
					details: ['This sets them until the next reboot; to keep them, add the same lines to /etc/sysctl.d/99-kind.conf'],
					fix: facts.isRoot()
						? {
								key: 'n',
								title: 'Raise the inotify limits (until reboot)',
								commands: [['sysctl', '-w', ...low.map(([k, v]) => `${k}=${v}`)]],
								undo: [['sysctl', '-w', ...low.map(([k, , was]) => `${k}=${was}`)]],
								destructive: false,
							}
						: undefined,
					hint: `sudo sysctl -w ${low.map(([k, v]) => `${k}=${v}`).join(' ')}`,
				},
			);
		},
	},
	{
		id: 'images',
		group: 'images',
		title: 'Dockerfiles',
		async run(input) {
			const {facts, profile, engine} = input;
			const hostArch = (await facts.arch().catch(() => undefined)) ?? '';
			let engineArch = hostArch;
			if (engine === 'podman') engineArch = (await facts.podmanInfo().catch(() => undefined))?.host?.arch ?? hostArch;
			engineArch = engineArch === 'x86_64' ? 'amd64' : engineArch === 'aarch64' ? 'arm64' : engineArch;
			// Each base image is inspected once, all at once: the engine answers them in parallel.
			const inspected = new Map<string, Promise<string | undefined>>();
			const archOf = (ref: string) => {
				if (!inspected.has(ref))
					inspected.set(
						ref,
						facts.imageArch(engine, ref).catch(() => undefined),
					);
				return inspected.get(ref)!;
			};
			const perImage = await Promise.all(
				profile.images.map(async (img): Promise<CheckResult[]> => {
					const out: CheckResult[] = [];
					const id = `images.${img.name}`;
					const title = `Image ${img.name}`;
					if (img.pull) {
						const full = fullImageName(img.pull);
						const allowed = input.allowedBaseRegistries.some((p) => full.startsWith(p));
						out.push({
							id,
							group: 'images',
							title,
							...(allowed
								? ok(`pulled: ${img.pull}`)
								: result(
										'warning',
										`pulled from ${full.split('/')[0]}, outside the allowed registries (${input.allowedBaseRegistries.join(', ')})`,
										{finding: 'base-image-policy'},
									)),
						});
						return out;
					}
					const file = input.resolvePath(img.dockerfile!);
					let text: string;
					try {
						text = facts.readText(file);
					} catch (error) {
						out.push({
							id,
							group: 'images',
							title,
							...result('failed', `cannot read ${file}: ${oneLine(error)}`, {finding: 'build-context-missing-file'}),
						});
						return out;
					}
					const args = {...expandBuildArgs(img.buildArgs, engineArch, img.platform), ...input.buildArgs};
					const facts2 = analyzeDockerfile(text, args);
					const problems: CheckResult[] = [];
					const details = facts2.bases.map(
						(b) =>
							`FROM ${b.image} (line ${b.line}${b.arg ? `, from ARG ${b.arg}${b.origin === 'build-arg' ? ' given as a build arg' : ''}` : ''})`,
					);
					for (const b of facts2.bases) {
						const full = fullImageName(b.image);
						if (b.image.includes('$') || input.allowedBaseRegistries.some((p) => full.startsWith(p))) continue;
						const where =
							b.origin === 'build-arg'
								? `the build arg ${b.arg} (${b.arg && b.arg in input.buildArgs ? '--build-arg' : 'the profile'})`
								: `${file}:${b.argLine ?? b.line}`;
						const literal =
							b.origin === 'dockerfile'
								? b.argLine
									? (text.split('\n')[b.argLine - 1]?.match(/=["']?([^\s"']+)/)?.[1] ?? b.image)
									: (text.split('\n')[b.line - 1]?.match(/FROM\s+(?:--platform=\S+\s+)?(\S+)/i)?.[1] ?? b.image)
								: b.image;
						problems.push({
							id: `${id}.base`,
							group: 'images',
							title,
							status: 'warning',
							summary: `${img.dockerfile}: base image ${b.image} comes from ${full.split('/')[0]}, outside the allowed registries`,
							details: [
								`set by ${where}`,
								`allowed: ${input.allowedBaseRegistries.join(', ')} (policy.allowedBaseRegistries in kdoctor.yaml)`,
							],
							finding: 'base-image-policy',
							...(b.origin === 'dockerfile' && !literal.includes('$')
								? {
										fix: {
											key: 'f',
											title: `Replace ${literal} with the approved image`,
											edit: {finding: 'base-image-policy', key: 'f', file, lines: [b.argLine ?? b.line], captures: {image: literal}},
											destructive: false,
										},
									}
								: {hint: `override it: --build-arg ${b.arg}=<an image from an allowed registry>`}),
						});
					}
					const pins = [
						...facts2.pins,
						...(img.platform
							? [{arch: img.platform.split('/')[1] ?? '', text: `platform: ${img.platform}`, origin: 'profile' as const}]
							: []),
					];
					for (const pin of pins) {
						if (!engineArch || pin.arch === engineArch) continue;
						problems.push({
							id: `${id}.arch`,
							group: 'images',
							title,
							status: 'failed',
							summary:
								`${img.dockerfile}${pin.line ? `:${pin.line}` : ''}: ${pin.text} builds ${pin.arch} on this ${engineArch} ` +
								`engine: the binary runs under emulation and Go crashes at start-up (fatal error: lfstack.push)`,
							details: [
								pin.origin === 'profile'
									? "set by the profile's platform: remove it so the engine builds natively"
									: pin.origin === 'build-arg'
										? 'set by a build arg: drop it (TARGETARCH follows the platform being built)'
										: 'use GOARCH=${TARGETARCH}: the engine sets TARGETARCH to the platform it builds',
							],
							finding: 'go-runtime-emulation-crash',
							...(pin.origin === 'dockerfile' && pin.line && /GOARCH=/.test(pin.text)
								? {
										fix: {
											key: 'a',
											title: 'Build for the engine’s CPU: GOARCH=${TARGETARCH}',
											edit: {finding: 'go-runtime-emulation-crash', key: 'a', file, lines: [pin.line], captures: {}},
											destructive: false,
										},
									}
								: {}),
						});
					}
					const arches = await Promise.all(facts2.bases.map((b) => (b.image.includes('$') ? undefined : archOf(b.image))));
					for (const [i, b] of facts2.bases.entries()) {
						const arch = arches[i];
						if (arch && engineArch && arch !== engineArch)
							problems.push({
								id: `${id}.base-arch`,
								group: 'images',
								title,
								status: 'failed',
								summary: `base image ${b.image} in the engine's store is ${arch}, not ${engineArch}: the build runs under emulation`,
								details: [`remove it (${engine} rmi ${b.image}) so the next build pulls the ${engineArch} variant`],
								finding: 'arch-mismatch',
							});
					}
					if (problems.length === 0)
						out.push({
							id,
							group: 'images',
							title,
							...ok(
								`${img.dockerfile}: ${facts2.bases.map((b) => b.image).join(', ') || 'no FROM'}; ` +
									`builds for the engine's CPU (${engineArch || '?'})`,
								details,
							),
						});
					else out.push(...problems.map((p) => ({...p, details: [...p.details, ...details]})));
					return out;
				}),
			);
			return perImage.flat();
		},
	},
	{
		id: 'ports',
		group: 'ports',
		title: 'Host ports',
		async run({facts, profile, engine}) {
			const clusters = await facts.kindClusters(engine).catch(() => undefined);
			const own = clusters?.includes(profile.cluster.name);
			const out: CheckResult[] = [];
			const holders = await Promise.all(profile.cluster.ports.map((p) => facts.portHolder(p.hostPort).catch((e: unknown) => e as Error)));
			for (const [i, p] of profile.cluster.ports.entries()) {
				const id = `ports.${p.hostPort}`;
				const title = `Port ${p.hostPort}${p.purpose ? ` (${p.purpose})` : ''}`;
				const holder = holders[i];
				if (holder instanceof Error) {
					out.push({id, group: 'ports', title, ...result('unknown', `could not look: ${oneLine(holder)}`)});
					continue;
				}
				if (!holder) {
					out.push({id, group: 'ports', title, ...ok('free')});
					continue;
				}
				const who = holder.command ? `${holder.command}${holder.pid ? ` (pid ${holder.pid})` : ''}` : 'a process this user cannot see';
				// The profile's own cluster publishes its ports through the engine (conmon, rootlessport, gvproxy, docker-proxy).
				if (own && /^(conmon|rootlessport|gvproxy|docker-proxy|com\.docker|podman|slirp4netns|pasta)/.test(holder.command ?? '')) {
					out.push({
						id,
						group: 'ports',
						title,
						...ok(`held by ${who}: the node of cluster ${profile.cluster.name} (kdoctor up --reuse uses it)`),
					});
					continue;
				}
				out.push({
					id,
					group: 'ports',
					title,
					...result('failed', `held by ${who}: the Kind node cannot publish ${p.hostPort} and cluster creation fails`, {
						finding: 'host-port-conflict',
						details: [`NodePort ${p.containerPort} → host port ${p.hostPort}`],
						...(holder.pid
							? {
									fix: {
										key: 't',
										title: `Stop ${who} (SIGTERM)`,
										commands: [['kill', '-TERM', String(holder.pid)]],
										noUndo: 'a stopped process is not restarted by kdoctor',
										destructive: true,
										warning: `ends process ${holder.pid} (${holder.command ?? '?'}); make sure it is not something you need`,
									},
								}
							: {}),
						hint: 'or give the profile other host ports (cluster.ports in kdoctor.yaml)',
					}),
				});
			}
			return out;
		},
	},
	{
		id: 'leftovers',
		group: 'leftovers',
		title: 'Clusters and containers from earlier runs',
		async run({facts, profile, engine}) {
			const [clusters, nodes] = await Promise.all([
				facts.kindClusters(engine).catch((e: unknown) => e as Error),
				facts.kindNodeContainers(engine).catch((e: unknown) => e as Error),
			]);
			const out: CheckResult[] = [];
			if (nodes instanceof Error)
				out.push({
					id: 'leftovers.containers',
					group: 'leftovers',
					title: 'Kind node containers',
					...result('unknown', `${engine} ps failed: ${oneLine(nodes)}`),
				});
			const name = profile.cluster.name;
			const kindArgv = (c: string) => ['env', `KIND_EXPERIMENTAL_PROVIDER=${engine}`, 'kind', 'delete', 'cluster', '--name', c];
			if (clusters instanceof Error)
				out.push({
					id: 'leftovers.clusters',
					group: 'leftovers',
					title: 'Kind clusters',
					...result('unknown', `kind get clusters failed: ${oneLine(clusters)}`),
				});
			else {
				const mine = !(nodes instanceof Error) ? nodes.filter((n) => n.cluster === name) : [];
				const stopped = mine.filter((n) => n.state !== 'running');
				if (clusters.includes(name) && stopped.length > 0)
					out.push({
						id: 'leftovers.cluster',
						group: 'leftovers',
						title: `Cluster ${name}`,
						...result(
							'failed',
							`cluster ${name} exists but its node ${stopped.map((n) => `${n.name} is ${n.state}`).join(', ')}: ` +
								`kind create fails with "node(s) already exist", --reuse finds no API server`,
							{
								finding: 'kind-cluster-exists',
								fix: {
									key: 'x',
									title: `Delete cluster ${name}`,
									commands: [kindArgv(name)],
									noUndo: 'a deleted cluster is gone; kdoctor up creates it again',
									destructive: true,
								},
							},
						),
					});
				else if (clusters.includes(name))
					out.push({
						id: 'leftovers.cluster',
						group: 'leftovers',
						title: `Cluster ${name}`,
						...result('warning', `cluster ${name} already exists (from an earlier run): kdoctor up asks to reuse or recreate it`, {
							finding: 'kind-cluster-exists',
							fix: {
								key: 'x',
								title: `Delete cluster ${name}`,
								commands: [kindArgv(name)],
								noUndo: 'a deleted cluster is gone; kdoctor up creates it again',
								destructive: true,
							},
						}),
					});
				const others = clusters.filter((c) => c !== name);
				if (others.length > 0)
					out.push({
						id: 'leftovers.others',
						group: 'leftovers',
						title: 'Other Kind clusters',
						...result('warning', `${others.length} other cluster${others.length > 1 ? 's' : ''} hold engine memory: ${others.join(', ')}`, {
							hint: others.map((c) => shellLine(kindArgv(c))).join('; '),
						}),
					});
				if (!(nodes instanceof Error)) {
					const orphans = nodes.filter((n) => !clusters.includes(n.cluster));
					if (orphans.length > 0)
						out.push({
							id: 'leftovers.containers',
							group: 'leftovers',
							title: 'Kind node containers',
							...result(
								'failed',
								`${orphans.length} Kind node container${orphans.length > 1 ? 's' : ''} ` +
									`without a cluster: ${orphans.map((n) => `${n.name} (${n.state})`).join(', ')}`,
								{
									finding: 'container-name-conflict',
									fix: {
										key: 'c',
										title: 'Remove the orphaned node containers',
										commands: [[engine, 'rm', '-f', ...orphans.map((n) => n.name)]],
										noUndo: 'removed containers are gone',
										destructive: true,
									},
								},
							),
						});
				}
			}
			if (out.length === 0)
				out.push({id: 'leftovers', group: 'leftovers', title: 'Clusters and containers from earlier runs', ...ok('none')});
			return out;
		},
	},
];

export type CheckEvent = {type: 'start'; id: string; group: CheckGroup; title: string} | {type: 'done'; id: string; results: CheckResult[]};

/** How long one check may take before it is reported as "could not check" (flutter doctor warns at 10 s). */
export const CHECK_TIMEOUT_MS = 30_000;

/** Runs one check, turning a throw or a hang into "could not check" with the reason. */
export async function runCheck(check: Check, input: SetupInput, timeoutMs = CHECK_TIMEOUT_MS): Promise<CheckResult[]> {
	const started = Date.now();
	let timer: NodeJS.Timeout | undefined;
	try {
		const r = await Promise.race([
			check.run(input),
			new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000}s`)), timeoutMs))),
		]);
		const list = Array.isArray(r) ? r : [{id: check.id, group: check.group, title: check.title, ...r}];
		return list.map((x) => ({...x, durationMs: Date.now() - started}));
	} catch (error) {
		return [
			{
				id: check.id,
				group: check.group,
				title: check.title,
				status: 'unknown',
				summary: `could not check: ${oneLine(error)}`,
				details: [],
				durationMs: Date.now() - started,
			},
		];
	} finally {
		clearTimeout(timer);
	}
}

/** Every check at once (they wait on different programs); results come back in the checks' order. */
export async function runChecks(
	input: SetupInput,
	onEvent?: (e: CheckEvent) => void,
	opts: {sequential?: boolean; only?: string[]} = {},
): Promise<CheckResult[]> {
	const checks = CHECKS.filter((c) => !opts.only || opts.only.includes(c.id));
	const one = async (c: Check) => {
		onEvent?.({type: 'start', id: c.id, group: c.group, title: c.title});
		const r = await runCheck(c, input);
		onEvent?.({type: 'done', id: c.id, results: r});
		return r;
	};
	if (opts.sequential) {
		const out: CheckResult[] = [];
		for (const c of checks) out.push(...(await one(c)));
		return out;
	}
	return (await Promise.all(checks.map(one))).flat();
}

/** The check a result came from: results of one check share its id or extend it (images.gateway.arch → images). */
export function checkIdOf(resultId: string): string | undefined {
	return CHECKS.map((c) => c.id)
		.filter((id) => resultId === id || resultId.startsWith(`${id}.`))
		.sort((a, b) => b.length - a.length)[0];
}

/** Ready means nothing failed; "could not check" keeps it from being called ready. */
export function verdict(results: CheckResult[]): {ready: boolean; failed: number; warnings: number; unknown: number; exitCode: 0 | 1 | 2} {
	const failed = results.filter((r) => r.status === 'failed').length;
	const warnings = results.filter((r) => r.status === 'warning').length;
	const unknown = results.filter((r) => r.status === 'unknown').length;
	return {ready: failed === 0 && unknown === 0, failed, warnings, unknown, exitCode: failed > 0 ? 1 : unknown > 0 ? 2 : 0};
}
