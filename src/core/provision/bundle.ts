import type {ClusterProvider, ClusterSpec, EngineInfo, KubePort} from './ports.js';

export type BundleDeps = {
	kube?: KubePort;
	provider: ClusterProvider;
	cluster: ClusterSpec;
	engineInfo: EngineInfo;
	write(path: string, text: string): void;
	mkdirp(path: string): void;
	join(...parts: string[]): string;
};

/**
 * Collects the evidence of a failed run before anything is cleaned up: pod status, a describe-like dump,
 * events, current and previous logs of every container, the images the node holds, the engine's view and
 * the node's own logs. One part failing (the API server gone) does not lose the others; README.txt says
 * what could not be collected and why.
 */
export async function collectBundle(
	deps: BundleDeps,
	dir: string,
	namespace: string,
): Promise<{dir: string; files: string[]; missing: string[]}> {
	deps.mkdirp(dir);
	const files: string[] = [];
	const missing: string[] = [];
	const save = (name: string, text: string) => {
		deps.write(deps.join(dir, name), text);
		files.push(name);
	};
	const attempt = async (what: string, fn: () => Promise<void>) => {
		try {
			await fn();
		} catch (error) {
			missing.push(`${what}: ${(error as Error).message.split('\n')[0]}`);
		}
	};
	save('engine.json', `${JSON.stringify(deps.engineInfo, null, 2)}\n`);
	await attempt('images in the node', async () =>
		save('node-images.txt', `${(await deps.provider.nodeImages(deps.cluster)).join('\n')}\n`),
	);
	if (deps.kube) {
		const kube = deps.kube;
		await attempt('objects', async () => save('objects.yaml', await kube.dump(namespace)));
		await attempt('events', async () => {
			const events = await kube.events(namespace);
			save(
				'events.txt',
				events
					.map(
						(e) =>
							`${e.lastSeen}  ${e.type.padEnd(7)}  ${e.reason.padEnd(22)}  ${e.kind}/${e.object}  ${e.message}` +
							(e.count > 1 ? ` (x${e.count})` : ''),
					)
					.join('\n') + '\n',
			);
		});
		await attempt('pods', async () => {
			const pods = await kube.pods(namespace);
			save('pods.json', `${JSON.stringify(pods, null, 2)}\n`);
			deps.mkdirp(deps.join(dir, 'logs'));
			for (const p of pods) {
				for (const c of p.containers) {
					for (const previous of [false, true]) {
						if (previous && c.restartCount === 0) continue;
						await attempt(`logs of ${p.name}/${c.name}${previous ? ' (previous)' : ''}`, async () => {
							save(
								deps.join('logs', `${p.name}.${c.name}${previous ? '.previous' : ''}.log`),
								await kube.logs(namespace, p.name, c.name, {previous, tailLines: 2000}),
							);
						});
					}
				}
			}
		});
	} else missing.push('cluster objects, events and logs: the cluster was never reachable in this run');
	await attempt('node logs', async () => {
		const written = await deps.provider.exportLogs(deps.cluster, deps.join(dir, 'node-logs'));
		files.push(...written.map((w) => deps.join('node-logs', w)));
	});
	save(
		'README.txt',
		[
			`Evidence collected by kdoctor for namespace ${namespace} on cluster ${deps.cluster.name}.`,
			'',
			'Files:',
			...files.map((f) => `  ${f}`),
			'',
			missing.length ? 'Could not collect:' : 'Nothing was missing.',
			...missing.map((m) => `  ${m}`),
			'',
		].join('\n'),
	);
	return {dir, files, missing};
}
