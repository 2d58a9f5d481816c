import type {ExecResult} from '../core/provision/ports.js';
import type {DockerInfo, PodmanInfo, PodmanMachine} from '../core/engine-facts.js';

/** The one reader of what the engine says about itself; kdoctor up's engine and setup's facts both call it. */

export const PODMAN_INFO_ARGV = ['podman', 'info', '--format', 'json'];
export const PODMAN_MACHINE_INSPECT_ARGV = ['podman', 'machine', 'inspect'];
export const DOCKER_INFO_ARGV = ['docker', 'info', '--format', '{{json .}}'];

type Run = (argv: string[]) => Promise<ExecResult>;

export function parseJson<T>(text: string, what: string): T {
	try {
		return JSON.parse(text) as T;
	} catch {
		throw new Error(`${what} did not print JSON: ${text.trim().split('\n')[0]?.slice(0, 200) ?? ''}`);
	}
}

/** x86_64 and aarch64 as Go and Kubernetes name them (amd64, arm64). */
export function normaliseArch(arch: string): string {
	const t = arch.trim();
	return t === 'x86_64' ? 'amd64' : t === 'aarch64' ? 'arm64' : t;
}

/** podman info; `fail` words the error when podman does not answer (each caller knows its hint). */
export async function readPodmanInfo(run: Run, fail: (r: ExecResult) => Error): Promise<PodmanInfo> {
	const r = await run(PODMAN_INFO_ARGV);
	if (r.exitCode !== 0) throw fail(r);
	return parseJson<PodmanInfo>(r.stdout, 'podman info');
}

/** podman machine inspect as a list: empty when there is no machine at all (podman says so and exits non-zero). */
export async function readPodmanMachines(run: Run, fail: (r: ExecResult) => Error): Promise<PodmanMachine[]> {
	const r = await run(PODMAN_MACHINE_INSPECT_ARGV);
	if (r.exitCode !== 0) {
		if (/no such vm|does not exist|no machine/i.test(r.stderr)) return [];
		throw fail(r);
	}
	const j = parseJson<PodmanMachine[] | PodmanMachine>(r.stdout || '[]', 'podman machine inspect');
	return Array.isArray(j) ? j : [j];
}

/** docker info; an answer without a server version is a daemon that is not there. */
export async function readDockerInfo(run: Run, fail: (r: ExecResult) => Error): Promise<DockerInfo> {
	const r = await run(DOCKER_INFO_ARGV);
	const j = r.exitCode === 0 ? parseJson<DockerInfo>(r.stdout, 'docker info') : undefined;
	if (!j?.ServerVersion) throw fail(r);
	return j;
}
