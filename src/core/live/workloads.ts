import type {Diagnosis} from '../diagnose/diagnose.js';
import type {Facts} from '../diagnose/score.js';
import {liveEvidence} from '../provision/facts.js';
import type {EventFacts, KubePort, PodFacts} from '../provision/ports.js';

/** Pods of one owner (Deployment, Job, or a bare pod) that are not healthy, diagnosed together. */
export type WorkloadDiagnosis = {workload: string; pods: PodFacts[]; diagnosis: Diagnosis};

export type LiveDeps = {
	kube: KubePort;
	/** Images the node holds, exactly as the kubelet matches them; undefined when they could not be read. */
	nodeImages(): Promise<string[] | undefined>;
	diagnose(text: string, facts?: Facts): Diagnosis;
	now(): number;
};

/** Current and (after a restart) previous logs of every container of pods that are not ready. */
export async function troubledLogs(kube: KubePort, pods: PodFacts[]): Promise<Map<string, string>> {
	const logs = new Map<string, string>();
	const reads: Promise<void>[] = [];
	for (const p of pods) {
		if (p.ready) continue;
		for (const c of p.containers) {
			for (const previous of [true, false]) {
				if (previous && c.restartCount === 0) continue;
				reads.push(
					kube.logs(p.namespace, p.name, c.name, {previous, tailLines: 100}).then(
						(text) => void logs.set(`${p.name}/${c.name}/${previous ? 'previous' : 'current'}`, text),
						// A container that never started has no logs; its status lines still tell.
						() => undefined,
					),
				);
			}
		}
	}
	await Promise.all(reads);
	return logs;
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
	return events.filter((e) => names.has(e.object) || (e.kind !== 'Pod' && owners.some((o) => e.object === o || e.object.startsWith(`${o}-`))));
}

/** Diagnoses every unhealthy workload of a namespace on its own: its pods, their events and logs, the node's images. */
export async function diagnoseWorkloads(deps: LiveDeps, namespace: string): Promise<{pods: number; workloads: WorkloadDiagnosis[]}> {
	const [pods, events, images] = await Promise.all([deps.kube.pods(namespace), deps.kube.events(namespace).catch((): EventFacts[] => []), deps.nodeImages().catch(() => undefined)]);
	const groups = new Map<string, PodFacts[]>();
	for (const p of pods.filter(troubled)) {
		const key = p.owner ?? p.name;
		groups.set(key, [...(groups.get(key) ?? []), p]);
	}
	const logs = await troubledLogs(deps.kube, [...groups.values()].flat());
	const out: WorkloadDiagnosis[] = [];
	for (const [workload, group] of groups) {
		const ev = liveEvidence(group, relevantEvents(events, group), images, logs, deps.now());
		out.push({workload, pods: group, diagnosis: deps.diagnose(ev.text, ev.facts)});
	}
	const top = (w: WorkloadDiagnosis) => w.diagnosis.findings[0]?.confidence ?? 0;
	return {pods: pods.length, workloads: out.sort((a, b) => top(b) - top(a) || a.workload.localeCompare(b.workload))};
}
