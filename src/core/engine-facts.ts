/**
 * What the container engine says about itself (podman info, podman machine inspect, docker info), in one shape for
 * every reader (kdoctor up's engine, setup's checks), and the rules that read it: which machine is the one in use,
 * and how much memory the engine's own OS keeps.
 */

/** podman info --format json, the parts kdoctor reads. */
export type PodmanInfo = {
	host?: {
		arch?: string;
		os?: string;
		cpus?: number;
		memTotal?: number;
		cgroupControllers?: string[];
		cgroupVersion?: string;
		cgroupManager?: string;
		emulatedArchitectures?: string[];
		security?: {rootless?: boolean};
		distribution?: {distribution?: string; version?: string; variant?: string};
		kernel?: string;
	};
	version?: {Version?: string};
	store?: {graphRoot?: string; graphDriverName?: string};
};

/** One entry of podman machine inspect. */
export type PodmanMachine = {
	Name?: string;
	Resources?: {CPUs?: number; Memory?: number; DiskSize?: number};
	Rootful?: boolean;
	State?: string;
	VMType?: string;
};

/** docker info --format '{{json .}}', the parts kdoctor reads. */
export type DockerInfo = {
	MemTotal?: number;
	NCPU?: number;
	Architecture?: string;
	ServerVersion?: string;
	OperatingSystem?: string;
	OSType?: string;
};

/** The machine podman talks to: the running one, else the first listed (podman's default connection). */
export function pickMachine(machines: PodmanMachine[]): PodmanMachine | undefined {
	return machines.find((m) => m.State === 'running') ?? machines[0];
}

/**
 * Memory builds cannot have because the engine's own OS needs it: a podman machine VM runs a kernel,
 * systemd, sshd, the podman service and conmon, and keeps image layers in its page cache; on a Linux
 * host the desktop and kdoctor itself live there too. 15%, at least 512 MiB, is a rule of thumb (not
 * a measurement): a 2 GiB VM keeps 512 MiB, an 8 GiB one about 1.2 GiB.
 */
export function memoryReserveMiB(totalMiB: number): number {
	return Math.max(Math.round(totalMiB * 0.15), 512);
}
