import type {KubePort} from './ports.js';

/**
 * Waits for the next change the API server reports about a namespace (a watch), or a poll interval as a fallback,
 * whichever comes first: how loops that judge pods wake when the cluster has news rather than on a timer.
 */
export function changeWaiter(
	kube: KubePort,
	namespace: string,
	signal: AbortSignal,
	sleep: (ms: number, signal: AbortSignal) => Promise<void>,
	pollMs: number,
) {
	const stop = new AbortController();
	const both = AbortSignal.any([signal, stop.signal]);
	let wake: (() => void) | undefined;
	let changed = false;
	kube.watch?.(
		namespace,
		() => {
			changed = true;
			wake?.();
		},
		both,
	);
	const fallbackMs = kube.watch ? Math.max(pollMs, 2000) : pollMs;
	return {
		/** Call before reading the cluster, so a change during the read still wakes the next wait. */
		reading() {
			changed = false;
			wake = undefined;
		},
		next: () =>
			new Promise<void>((resolve) => {
				if (changed) return resolve();
				wake = resolve;
				sleep(fallbackMs, both).then(resolve, resolve);
			}),
		stop: () => stop.abort(),
	};
}
