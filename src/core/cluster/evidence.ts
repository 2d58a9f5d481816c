import type {Facts} from '../diagnose/score.js';
import type {EventFacts, KubePort, PodFacts} from './ports.js';

/** Waiting reasons that never clear on their own: the wait ends at once instead of at its timeout. */
export const FINAL_WAITING = new Set([
	'ErrImageNeverPull',
	'CrashLoopBackOff',
	'CreateContainerConfigError',
	'InvalidImageName',
	'CreateContainerError',
	'RunContainerError',
]);

/** Restarts after which a container that keeps exiting is crash-looping, whatever state it is in this instant. */
export const CRASH_RESTARTS = 2;

/** Pull failures that may be transient (a slow registry): final only after this long. */
export const PULL_GRACE_MS = 60_000;

/** Repository without registry host, localhost/ or tag: what "the node holds a similar image" compares. */
export function repositoryOf(ref: string): string {
	let r = ref.replace(/@sha256:[0-9a-f]+$/, '');
	const slash = r.lastIndexOf('/');
	const colon = r.lastIndexOf(':');
	if (colon > slash) r = r.slice(0, colon);
	const parts = r.split('/');
	if (parts.length > 1 && (parts[0]!.includes('.') || parts[0]!.includes(':') || parts[0] === 'localhost')) parts.shift();
	if (parts[0] === 'library' && parts.length === 2) parts.shift();
	return parts.join('/');
}

/** Images the node holds under another name of the same repository: the sign of a name mismatch. */
export function similarImages(held: string[], ref: string): string[] {
	const repo = repositoryOf(ref);
	return held.filter((h) => h !== ref && repositoryOf(h) === repo);
}

/** Why a pod is a reason to stop waiting now, or undefined while it may still become healthy. */
export function finalProblem(pod: PodFacts, nowMs: number): string | undefined {
	for (const c of pod.containers) {
		if (c.waitingReason && FINAL_WAITING.has(c.waitingReason))
			return `${pod.name}/${c.name}: ${c.waitingReason}${c.waitingMessage ? ` (${c.waitingMessage})` : ''}`;
		if (c.terminatedReason === 'OOMKilled' || c.lastTerminatedReason === 'OOMKilled') return `${pod.name}/${c.name}: OOMKilled`;
		// Between two back-offs a crash-looping container is briefly running or just terminated, not waiting: its
		// restarts and last exit still say it is crash-looping.
		if (c.restartCount >= CRASH_RESTARTS && c.lastTerminatedReason && c.lastTerminatedReason !== 'Completed')
			return `${pod.name}/${c.name}: restarted ${c.restartCount} times (last: ${c.lastTerminatedReason}, exit ${c.lastExitCode ?? '?'})`;
		if ((c.waitingReason === 'ImagePullBackOff' || c.waitingReason === 'ErrImagePull') && nowMs - Date.parse(pod.createdAt) > PULL_GRACE_MS)
			return `${pod.name}/${c.name}: ${c.waitingReason}${c.waitingMessage ? ` (${c.waitingMessage})` : ''}`;
	}
	if (pod.unschedulableMessage && nowMs - Date.parse(pod.createdAt) > PULL_GRACE_MS)
		return `${pod.name}: unschedulable (${pod.unschedulableMessage})`;
	return undefined;
}

/** A readiness or liveness probe answered 404 this many times: the path is not served, not slow. */
export const PROBE_404_FINAL = 2;

/** Why events make a running pod a reason to stop waiting now: its probe path answers 404 (no program serves it). */
export function finalEventProblem(events: EventFacts[], pods: PodFacts[]): string | undefined {
	for (const p of pods) {
		const e = events.find(
			(x) =>
				x.object === p.name &&
				x.reason === 'Unhealthy' &&
				/probe failed: HTTP probe failed with statuscode: 404\b/.test(x.message) &&
				x.count >= PROBE_404_FINAL,
		);
		if (e) return `${p.name}: ${e.message} (x${e.count})`;
	}
	return undefined;
}

/** Facts from plain values, for checks kdoctor makes itself (ports, the node's images). */
export function simpleFacts(values: Record<string, (string | number | boolean)[]>, source: 'cluster' | 'host' | 'engine' | 'run'): Facts {
	const out: Facts = {};
	for (const [k, vs] of Object.entries(values)) out[k] = vs.map((value) => ({value, text: `${k} = ${value}`, source}));
	return out;
}

export type LiveEvidence = {text: string; facts: Facts};

/**
 * Turns what the API server says about unhealthy pods into the KB's inputs: structured facts for the `when`
 * signals, and text (status lines as kubectl describe shows them, events, previous and current logs) for
 * the patterns, so a live failure is diagnosed by the same entries as a saved log.
 */
export function liveEvidence(
	pods: PodFacts[],
	events: EventFacts[],
	nodeImages: string[] | undefined,
	logs: Map<string, string>,
	nowMs: number,
): LiveEvidence {
	const facts: Facts = {};
	const push = (k: string, v: string | number | boolean, text?: string) => {
		(facts[k] ??= []).push({value: v, text: text ?? `${k} = ${v}`, source: 'cluster'});
	};
	const lines: string[] = [];
	const comparedImages = new Set<string>();
	/** Whether the node holds the wanted image's repository under another name: mismatch versus never loaded. */
	const compareImage = (image: string, held: string[]) => {
		const similar = similarImages(held, image);
		push(
			'image.nodeHasSimilar',
			similar.length > 0,
			similar.length > 0
				? `the node holds ${similar.join(', ')}: same repository as ${image}, another name or tag`
				: `the node holds no image of ${repositoryOf(image)} at all`,
		);
	};
	for (const p of pods) {
		if (p.ready && p.phase === 'Running') continue;
		lines.push(`pod ${p.namespace}/${p.name}: phase ${p.phase}, ready ${p.ready}`);
		if (!p.ready) push('pod.notReadySeconds', Math.round((nowMs - Date.parse(p.createdAt)) / 1000));
		if (p.unschedulableMessage) {
			push('pod.unschedulable', true);
			lines.push(`  Warning  FailedScheduling  ${p.unschedulableMessage}`);
		}
		for (const c of p.containers) {
			if (c.waitingReason) {
				push('pod.waitingReason', c.waitingReason);
				lines.push(
					`  container ${c.name} (${c.image}): Waiting, Reason: ${c.waitingReason}${c.waitingMessage ? `, Message: ${c.waitingMessage}` : ''}`,
				);
				if (['ErrImageNeverPull', 'ErrImagePull', 'ImagePullBackOff'].includes(c.waitingReason) && nodeImages) {
					comparedImages.add(`${p.name}/${c.name}`);
					compareImage(c.image, nodeImages);
				}
			}
			if (c.terminatedReason) {
				push('pod.terminatedReason', c.terminatedReason);
				lines.push(`  container ${c.name}: Terminated, Reason: ${c.terminatedReason}, Exit Code: ${c.exitCode ?? '?'}`);
			}
			if (c.lastTerminatedReason) {
				push('pod.terminatedReason', c.lastTerminatedReason);
				lines.push(
					`  container ${c.name}: Last State: Terminated, Reason: ${c.lastTerminatedReason}, ` +
						`Exit Code: ${c.lastExitCode ?? '?'}, Restart Count: ${c.restartCount}`,
				);
			}
			const code = c.exitCode ?? c.lastExitCode;
			if (code !== undefined) push('pod.exitCode', code);
			for (const previous of [true, false]) {
				const log = logs.get(`${p.name}/${c.name}/${previous ? 'previous' : 'current'}`);
				if (log && log.trim()) {
					lines.push(`  --- logs of ${c.name}${previous ? ' (previous container)' : ''} ---`);
					lines.push(...log.trimEnd().split('\n').slice(-60));
				}
			}
		}
	}
	// The kubelet's event can reach the API a moment before the pod's status says the same: compare the images then too.
	if (nodeImages) {
		for (const p of pods) {
			if (
				!events.some(
					(e) => e.object === p.name && /\bErrImageNeverPull\b|\bErrImagePull\b|\bImagePullBackOff\b/.test(`${e.reason} ${e.message}`),
				)
			)
				continue;
			for (const c of p.containers) {
				if (comparedImages.has(`${p.name}/${c.name}`) || c.ready) continue;
				compareImage(c.image, nodeImages);
			}
		}
	}
	for (const e of events) {
		if (e.type === 'Normal' && !['Pulled', 'Killing'].includes(e.reason)) continue;
		push('event.reason', e.reason);
		lines.push(`  ${e.type}  ${e.reason}  ${e.kind.toLowerCase()}/${e.object}  ${e.message}${e.count > 1 ? ` (x${e.count})` : ''}`);
	}
	if (nodeImages) {
		lines.push('  --- images in the node ---');
		lines.push(...nodeImages.map((n) => `  ${n}`));
	}
	return {text: lines.join('\n'), facts};
}

/** A pod needs a look when it is not ready, has not finished its work, and is not a leftover being replaced. */
export function troubled(p: PodFacts): boolean {
	return !p.ready && p.phase !== 'Succeeded' && current(p);
}

/** Pods of the workload's current template: not being deleted, not from an older ReplicaSet. */
export function current(p: PodFacts): boolean {
	return !p.terminating && !p.stale;
}

/**
 * Events about these pods and their owners (Deployment, its ReplicaSets, Job) only: a namespace keeps events for
 * an hour, and those of pods already replaced must not explain today's failure.
 */
export function relevantEvents(events: EventFacts[], pods: PodFacts[]): EventFacts[] {
	const names = new Set(pods.map((p) => p.name));
	const owners = [...new Set(pods.map((p) => p.owner).filter((o): o is string => Boolean(o)))];
	return events.filter(
		(e) => names.has(e.object) || (e.kind !== 'Pod' && owners.some((o) => e.object === o || e.object.startsWith(`${o}-`))),
	);
}
