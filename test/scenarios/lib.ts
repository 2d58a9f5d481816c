/** Shared parts of the fault scenarios: event parsing, the demo copy a scenario breaks, and an independent API watch. */
import {cpSync, readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import type * as K8s from '@kubernetes/client-node';
import type {RunEvent} from '../../src/core/provision/events.js';
import {runCli, type CliResult} from '../helpers/cli.js';
import {WORLD_IMAGES} from '../helpers/world.js';

export const root = fileURLToPath(new URL('../..', import.meta.url));
export const WORLD_ARGS = [
	'--build-arg',
	`BUILDER_IMAGE=${WORLD_IMAGES.goToolset}`,
	'--build-arg',
	`RUNTIME_IMAGE=${WORLD_IMAGES.ubiMinimal}`,
	'--build-arg',
	'BASE_IMAGE=localhost/kdoctor-world/debian-data:1',
];

/** `kdoctor up --json` of a profile (from a demo copy's kdoctor.yaml when `dir` is given) with the world's build args. */
export function upJson(dir: string | undefined, profile: string, providerArgs: string[], env: Record<string, string>): Promise<CliResult> {
	return runCli(
		[...(dir ? ['--config', join(dir, 'kdoctor.yaml')] : []), 'up', '--profile', profile, ...providerArgs, '--json', ...WORLD_ARGS],
		{env},
	);
}

export const events = (stdout: string) =>
	stdout
		.split('\n')
		.filter(Boolean)
		.map((l) => JSON.parse(l) as RunEvent);
export const ends = (ev: RunEvent[]) =>
	Object.fromEntries(
		ev.filter((e) => e.type === 'step-end').map((e) => [(e as {id: string}).id, e as Extract<RunEvent, {type: 'step-end'}>]),
	);
export const runEnd = (ev: RunEvent[]) => ev.find((e) => e.type === 'run-end') as Extract<RunEvent, {type: 'run-end'}>;
export const diagnosisOf = (ev: RunEvent[]) => ev.find((x) => x.type === 'diagnosis') as Extract<RunEvent, {type: 'diagnosis'}> | undefined;

/** The demo profile copied into a folder of its own with one fault written into its manifests. */
export function demoCopy(state: string, name: string, edit?: (manifests: string) => void): string {
	const dir = join(state, name);
	cpSync(join(root, 'manifests', 'demo'), join(dir, 'manifests', 'demo'), {recursive: true});
	edit?.(join(dir, 'manifests', 'demo'));
	const profiles = readFileSync(join(root, 'profiles.yaml'), 'utf8');
	const demo = profiles.slice(profiles.indexOf('  demo:'), profiles.indexOf('  kubernaut-gateway:'));
	// Builds from kdoctor's own folder but deploys this folder's (broken) manifests, into the demo's own namespace:
	// NodePorts are cluster-wide, so a second namespace would collide.
	const text = `profiles:\n${demo.replace('  demo:', `  ${name}:`).replace('    source: .', `    source: ${root}`).replaceAll('manifests/demo/', `${dir}/manifests/demo/`)}`;
	writeFileSync(join(dir, 'kdoctor.yaml'), text);
	return dir;
}

/** Replaces text in a file, failing loudly when the text is not there (a scenario must really inject its fault). */
export function replaceIn(file: string, from: string | RegExp, to: string): void {
	const before = readFileSync(file, 'utf8');
	const after = before.replace(from, to);
	if (after === before) throw new Error(`${file}: "${String(from)}" not found, the fault was not injected`);
	writeFileSync(file, after);
}

export type Observer = {
	/** When the first object matching the condition arrived from the API server (this process's clock, ms). */
	firstSeen(name: string): number | undefined;
	stop(): void;
};

type Condition = (kind: 'pod' | 'event', obj: K8s.V1Pod & K8s.CoreV1Event) => boolean;

/**
 * Watches pods and events of a namespace on its own connection, independent of kdoctor, and records when each
 * condition first became true: the moment the fault appeared in the API, against which kdoctor's finding is timed.
 */
export async function observe(kubeconfig: string, namespace: string, conditions: Record<string, Condition>): Promise<Observer> {
	const k8s = await import('@kubernetes/client-node');
	const kc = new k8s.KubeConfig();
	kc.loadFromFile(kubeconfig);
	const seen = new Map<string, number>();
	// A namespace keeps events for an hour and pods of earlier runs may linger: only what is newer than this watch
	// counts (API timestamps have one-second precision, hence the second of slack).
	const since = Date.now() - 1000;
	const fresh = (kind: 'pod' | 'event', o: K8s.V1Pod & K8s.CoreV1Event) => {
		const t =
			kind === 'pod'
				? o.metadata?.creationTimestamp
				: (o.series?.lastObservedTime ?? o.lastTimestamp ?? o.eventTime ?? o.metadata?.creationTimestamp);
		return t !== undefined && new Date(t as unknown as string).getTime() >= since;
	};
	const w = new k8s.Watch(kc);
	const controllers: AbortController[] = [];
	for (const [kind, path] of [
		['pod', `/api/v1/namespaces/${namespace}/pods`],
		['event', `/api/v1/namespaces/${namespace}/events`],
	] as const) {
		controllers.push(
			await w.watch(
				path,
				{},
				(_type, obj) => {
					const at = Date.now();
					const o = obj as K8s.V1Pod & K8s.CoreV1Event;
					if (!fresh(kind, o)) return;
					for (const [name, cond] of Object.entries(conditions)) if (!seen.has(name) && cond(kind, o)) seen.set(name, at);
				},
				() => undefined,
			),
		);
	}
	return {firstSeen: (name) => seen.get(name), stop: () => controllers.forEach((c) => c.abort())};
}

/** A pod of `app` has a container waiting with this reason. */
export const waiting =
	(app: string, reason: string): Condition =>
	(kind, o) =>
		kind === 'pod' &&
		o.metadata?.labels?.app === app &&
		(o.status?.containerStatuses ?? []).some((c) => c.state?.waiting?.reason === reason);

/** A pod of `app` has a container that was (or last was) terminated with this reason. */
export const terminated =
	(app: string, reason: string): Condition =>
	(kind, o) =>
		kind === 'pod' &&
		o.metadata?.labels?.app === app &&
		(o.status?.containerStatuses ?? []).some((c) => c.state?.terminated?.reason === reason || c.lastState?.terminated?.reason === reason);

/** An event whose message matches, seen at least `count` times. */
export const event =
	(re: RegExp, count = 1): Condition =>
	(kind, o) =>
		kind === 'event' && re.test(o.message ?? '') && (o.series?.count ?? o.count ?? 1) >= count;

export type Latency = {scenario: string; finding: string; fault: string; faultAt?: number; findingAt: number; ms?: number; note?: string};

/** One row per scenario, printed as a table at the end and written where BENCH_SCENARIO_OUT points. */
export function latencyTable(rows: Latency[]): string {
	const lines = ['| scenario | finding | fault seen in the API as | fault → finding |', '|---|---|---|---|'];
	for (const r of rows)
		lines.push(
			`| ${r.scenario} | \`${r.finding}\` | ${r.fault} | ${[r.ms === undefined ? '' : `${r.ms} ms`, r.note ?? ''].filter(Boolean).join('; ') || 'n/a'} |`,
		);
	return lines.join('\n');
}
