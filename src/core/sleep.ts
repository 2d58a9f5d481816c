/** Waits ms, or rejects as soon as the signal aborts; its listener is removed either way, so loops do not pile them up. */
export function sleep(ms: number, signal?: AbortSignal, stopped: () => Error = () => new Error('stopped')): Promise<void> {
	return new Promise((resolve, reject) => {
		if (signal?.aborted) return reject(stopped());
		const onAbort = () => {
			clearTimeout(t);
			reject(stopped());
		};
		const t = setTimeout(() => {
			signal?.removeEventListener('abort', onAbort);
			resolve();
		}, ms);
		signal?.addEventListener('abort', onAbort, {once: true});
	});
}
