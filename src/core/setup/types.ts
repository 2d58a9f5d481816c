/** What `kdoctor setup` checks and reports; the engine is pure and reaches the machine through SetupFactsPort. */

export type CheckStatus = 'ok' | 'warning' | 'failed' | 'unknown';
export type CheckGroup = 'host' | 'tools' | 'engine' | 'images' | 'ports' | 'leftovers';

export const GROUP_TITLES: Record<CheckGroup, string> = {
	host: 'Host',
	tools: 'Tools',
	engine: 'Container engine',
	images: 'Images (Dockerfiles of the profile)',
	ports: 'Ports',
	leftovers: 'Leftovers of earlier runs',
};

/**
 * A change to the machine that would make a check pass. Commands are argv arrays run in order (never a shell);
 * an edit goes through the KB's file-edit remediation, journaled like `kdoctor fix`.
 */
export type SetupFix = {
	key: string;
	title: string;
	/** Commands run in order; the first failure stops the rest. */
	commands?: string[][];
	/** Commands that put the machine back as it was, journaled for `kdoctor undo`. */
	undo?: string[][];
	/** Why it cannot be undone, when it cannot. */
	noUndo?: string;
	/** A file edit through the KB: the entry, its remediation key, the file and the lines it may change. */
	edit?: {finding: string; key: string; file: string; lines: number[]; captures: Record<string, string>};
	destructive: boolean;
	/** Shown before applying: what stops or changes (running containers stop when the machine restarts). */
	warning?: string;
};

export type CheckResult = {
	id: string;
	group: CheckGroup;
	title: string;
	status: CheckStatus;
	/** One line: the fact, or why it could not be checked. */
	summary: string;
	/** More lines for the detail view and -v. */
	details: string[];
	/** The KB entry this check guards against, when there is one. */
	finding?: string;
	fix?: SetupFix;
	/** How to do it yourself when kdoctor does not (install a tool, set an env var). */
	hint?: string;
	durationMs?: number;
};

export type ToolFacts = {
	/** Absolute path on PATH, undefined when not installed. */
	path?: string;
	/** The first line the tool prints for its version. */
	versionLine?: string;
	/** Parsed x.y.z, when there is one. */
	version?: string;
	/** It is installed but answered with an error. */
	error?: string;
};

export type {DockerInfo, PodmanInfo, PodmanMachine} from '../engine-facts.js';
import type {DockerInfo, PodmanInfo, PodmanMachine} from '../engine-facts.js';

/** A container a Kind cluster left behind (labelled io.x-k8s.kind.cluster). */
export type KindNodeContainer = {name: string; cluster: string; state: string};

/** Everything setup asks of the machine. The adapter answers for real; tests may answer from a recording of a Mac. */
export interface SetupFactsPort {
	/** node's process.platform of the machine checked: darwin, linux. */
	readonly platform: string;
	/** uname -m, normalised (arm64, amd64). */
	arch(): Promise<string>;
	/** "macOS 15.3.1", "Debian GNU/Linux 12 (bookworm)". */
	osName(): Promise<string>;
	/** /etc/os-release ID and ID_LIKE (linux), for install hints. */
	osFamily(): Promise<string[]>;
	tool(name: 'podman' | 'docker' | 'kind' | 'go' | 'kubectl'): Promise<ToolFacts>;
	/** Throws with a one-line reason when the engine does not answer. */
	podmanInfo(): Promise<PodmanInfo>;
	/** podman machine inspect of every machine (macOS, Windows); throws when it fails. */
	podmanMachines(): Promise<PodmanMachine[]>;
	dockerInfo(): Promise<DockerInfo>;
	/** Rosetta installed (macOS) / binfmt_misc handlers registered (linux): names of emulators present. */
	emulators(): Promise<string[]>;
	/** A kernel setting (linux /proc/sys), or undefined where there is none. */
	sysctl(name: string): Promise<number | undefined>;
	freeDiskGiB(path: string): Promise<number>;
	portHolder(port: number): Promise<{pid?: number; command?: string} | undefined>;
	/** kind get clusters, with the provider kdoctor uses. */
	kindClusters(engine: string): Promise<string[]>;
	kindNodeContainers(engine: string): Promise<KindNodeContainer[]>;
	/** The architecture of an image the engine holds, or undefined when it holds none of that name. */
	imageArch(engine: string, ref: string): Promise<string | undefined>;
	readText(path: string): string;
	env(name: string): string | undefined;
	/** Whether the process may change kernel settings (root on linux). */
	isRoot(): boolean;
	/** The same source without its memory of earlier answers: a re-check after a fix must ask again. */
	fresh(): SetupFactsPort;
}
