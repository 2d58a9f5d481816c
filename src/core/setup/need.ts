import {buildMemory, DEFAULTS} from '../provision/plan.js';
import type {History} from '../provision/history.js';
import type {Profile} from '../provision/profile.js';

export type BuildNeed = {image: string; miB: number; source: 'learned' | 'profile' | 'default'; oomKilled?: boolean};

/** What the profile's run needs of the engine's memory: each build's peak (as `up` plans it) and the node. */
export type MemoryNeed = {
	builds: BuildNeed[];
	/** The largest single build: below this the build is killed, however the plan orders things. */
	largest?: BuildNeed;
	clusterMiB: number;
	/** The least memory the run fits in: builds one at a time, then the node. */
	minimumMiB: number;
	/** Every build at once beside the node: the plan's fastest schedule. */
	parallelMiB: number;
};

/** The same figures `kdoctor up --plan` uses: learned peaks from history.json, else the profile's, else the default. */
export function memoryNeed(profileName: string, profile: Profile, history: History): MemoryNeed {
	const builds: BuildNeed[] = profile.images
		.filter((i) => !i.pull)
		.map((i) => {
			const m = buildMemory(profileName, i.name, i, history);
			return {
				image: i.name,
				...m,
				...(m.source === 'learned' && history.peaks[`${profileName}/build:${i.name}`]?.oomKilled ? {oomKilled: true} : {}),
			};
		});
	const largest = builds.reduce<BuildNeed | undefined>((a, b) => (!a || b.miB > a.miB ? b : a), undefined);
	const clusterMiB = profile.cluster.memoryMiB;
	return {
		builds,
		...(largest ? {largest} : {}),
		clusterMiB,
		minimumMiB: Math.max(largest?.miB ?? 0, clusterMiB + DEFAULTS.loadMiB),
		parallelMiB: builds.reduce((s, b) => s + b.miB, 0) + clusterMiB,
	};
}

/** The memory a machine of `totalMiB` leaves for builds (the engine adapter's rule: 15%, at least 512 MiB, kept for its OS). */
export function budgetOf(totalMiB: number, reserve: (total: number) => number): number {
	return Math.max(totalMiB - reserve(totalMiB), 0);
}

/** The smallest whole number of GiB whose budget holds `needMiB`. */
export function machineMiBFor(needMiB: number, reserve: (total: number) => number): number {
	let gib = 1;
	while (budgetOf(gib * 1024, reserve) < needMiB && gib < 1024) gib++;
	return gib * 1024;
}
