import type {Entry, PatchSet, Remediation} from '../kb/schema.js';
import {changeWaiter} from '../cluster/changes.js';
import {finalProblem, similarImages} from '../cluster/evidence.js';
import type {DeploymentFacts, KubePort, PodFacts} from '../provision/ports.js';

/** The exact change a live fix makes to one container of one Deployment, and how to take it back. */
export type KubeFixPlan = {
	finding: string;
	key: string;
	title: string;
	status: 'ready' | 'missing-input' | 'not-applicable';
	reason?: string;
	namespace: string;
	deployment: string;
	container: string;
	field: string;
	before?: string;
	after?: string;
	patch?: Record<string, unknown>;
	undoPatch?: Record<string, unknown>;
	/** The change as a reviewer reads it: `- field: old` / `+ field: new`. */
	diff?: string;
	/** What kubectl would be told, for people who want to do it by hand (shown, never run through a shell). */
	kubectl?: string[];
};

export type KubeFixContext = {
	namespace: string;
	deployment: DeploymentFacts;
	/** The workload's unhealthy pods, as the finding saw them. */
	pods: PodFacts[];
	nodeImages?: string[];
	/** The person's value for a fix that asks for one. */
	value?: string;
	/** The variable a finding named (the env var a crash log asks for). */
	captures: Record<string, string>;
	now?: number;
};

const containerPatch = (container: string, fields: Record<string, unknown>) => ({
	spec: {template: {spec: {containers: [{name: container, ...fields}]}}},
});

/** Works out the patch for a kube-patch remediation on a Deployment, without changing anything. */
export function planKubeFix(entry: Entry, rem: Remediation, ctx: KubeFixContext): KubeFixPlan {
	const base = {finding: entry.id, key: rem.key, title: rem.title, namespace: ctx.namespace, deployment: ctx.deployment.name};
	const set = rem.patch?.set;
	if (!set)
		return {
			...base,
			container: '',
			field: '',
			status: 'not-applicable',
			reason: 'kdoctor does not apply this change itself yet: it is described for you to make',
		};
	const troubledName = new Set(ctx.pods.flatMap((p) => p.containers.filter((c) => !c.ready).map((c) => c.name)));
	const container = ctx.deployment.containers.find((c) => troubledName.has(c.name)) ?? ctx.deployment.containers[0];
	if (!container)
		return {...base, container: '', field: '', status: 'not-applicable', reason: `deployment ${ctx.deployment.name} has no containers`};
	const c = {...base, container: container.name};
	const plan = (
		field: string,
		before: string | undefined,
		after: string,
		patch: Record<string, unknown>,
		undoPatch: Record<string, unknown>,
	): KubeFixPlan => {
		if (before === after) return {...c, field, before, after, status: 'not-applicable', reason: `${field} is already ${after}`};
		const full = containerPatch(container.name, patch);
		return {
			...c,
			field,
			before,
			after,
			status: 'ready',
			patch: full,
			undoPatch: containerPatch(container.name, undoPatch),
			diff:
				`deployment/${ctx.deployment.name} container ${container.name} (namespace ` +
				`${ctx.namespace})\n${before === undefined ? '' : `- ${field}: ${before}\n`}+ ${field}: ${after}\n`,
			kubectl: [
				'kubectl',
				'-n',
				ctx.namespace,
				'patch',
				'deployment',
				ctx.deployment.name,
				'--type',
				'strategic',
				'-p',
				JSON.stringify(full),
			],
		};
	};
	const asked = (what: string): KubeFixPlan | undefined =>
		ctx.value === undefined || ctx.value === ''
			? {...c, field: what, status: 'missing-input', reason: rem.patch?.ask ?? `needs a value for ${what}`}
			: undefined;
	switch (set as PatchSet) {
		case 'image': {
			if (ctx.value) return plan('image', container.image, ctx.value, {image: ctx.value}, {image: container.image});
			const held = ctx.nodeImages ?? [];
			const similar = similarImages(held, container.image);
			if (similar.length === 1) return plan('image', container.image, similar[0]!, {image: similar[0]}, {image: container.image});
			if (similar.length === 0)
				return {
					...c,
					field: 'image',
					status: 'not-applicable',
					reason: `the node holds no image of ${container.image}'s repository: load it first`,
				};
			return {
				...c,
				field: 'image',
				status: 'missing-input',
				reason: `the node holds several images of that repository (${similar.join(', ')}): choose one with --value`,
			};
		}
		case 'env': {
			const name = ctx.captures.var;
			if (!name) return {...c, field: 'env', status: 'missing-input', reason: 'the evidence does not name the variable'};
			const need = asked(`env ${name}`);
			if (need) return need;
			const had = container.env.find((e) => e.name === name);
			if (had?.fromSource)
				return {
					...c,
					field: `env ${name}`,
					status: 'not-applicable',
					reason: `${name} comes from a ConfigMap, Secret or field reference: change it there`,
				};
			return plan(
				`env ${name}`,
				had?.value,
				ctx.value!,
				{env: [{name, value: ctx.value}]},
				{env: [had ? {name, value: had.value ?? ''} : {name, $patch: 'delete'}]},
			);
		}
		case 'memory-limit': {
			const current = container.memoryLimit;
			const bytes = current ? quantityBytes(current) : undefined;
			const after = ctx.value ?? (bytes ? raisedLimit(bytes) : undefined);
			if (!after)
				return {
					...c,
					field: 'resources.limits.memory',
					status: 'missing-input',
					reason: 'the container has no memory limit to raise: give one with --value (e.g. 512Mi)',
				};
			if (quantityBytes(after) === undefined)
				return {
					...c,
					field: 'resources.limits.memory',
					status: 'missing-input',
					reason: `"${after}" is not a memory quantity (e.g. 512Mi)`,
				};
			const undoLimits = current ? {memory: current} : {memory: null};
			return plan('resources.limits.memory', current, after, {resources: {limits: {memory: after}}}, {resources: {limits: undoLimits}});
		}
		case 'restart': {
			// What `kubectl rollout restart` does: a new annotation on the template makes the Deployment roll its pods.
			const at = new Date(ctx.now ?? Date.now()).toISOString();
			const patch = {spec: {template: {metadata: {annotations: {'kubectl.kubernetes.io/restartedAt': at}}}}};
			return {
				...c,
				field: 'restart',
				after: at,
				status: 'ready',
				patch,
				undoPatch: {},
				diff:
					`deployment/${ctx.deployment.name} (namespace ${ctx.namespace}): rollout ` +
					`restart\n+ template annotation kubectl.kubernetes.io/restartedAt: ${at}\n`,
				kubectl: ['kubectl', '-n', ctx.namespace, 'rollout', 'restart', `deployment/${ctx.deployment.name}`],
			};
		}
		case 'readiness-path': {
			const probe = container.readinessProbe;
			if (!probe)
				return {
					...c,
					field: 'readinessProbe.httpGet.path',
					status: 'not-applicable',
					reason: `container ${container.name} has no HTTP readiness probe`,
				};
			const need = asked('readinessProbe.httpGet.path');
			if (need) return need;
			if (!ctx.value!.startsWith('/'))
				return {
					...c,
					field: 'readinessProbe.httpGet.path',
					status: 'missing-input',
					reason: `"${ctx.value}" is not a path (it starts with /)`,
				};
			return plan(
				'readinessProbe.httpGet.path',
				probe.path,
				ctx.value!,
				{readinessProbe: {httpGet: {path: ctx.value}}},
				{readinessProbe: {httpGet: {path: probe.path ?? '/'}}},
			);
		}
	}
}

/**
 * A limit the container died at says only that it needs more. A doubling of a small limit stays small (16Mi → 32Mi
 * for a process that needs 64Mi), so the headroom is at least 128 MiB, rounded up to 16 MiB.
 */
export function raisedLimit(diedAt: number): string {
	const mib = 2 ** 20;
	return `${Math.ceil(Math.max(diedAt * 2, diedAt + 128 * mib) / (16 * mib)) * 16}Mi`;
}

const UNITS: Record<string, number> = {'': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40};

/** A Kubernetes memory quantity in bytes ("256Mi", "1G", "134217728"), or undefined when it is not one. */
export function quantityBytes(q: string): number | undefined {
	const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(q.trim());
	if (!m) return undefined;
	return Math.round(Number(m[1]) * UNITS[m[2] ?? '']!);
}

export type VerifyResult = {ok: boolean; message: string; ms: number};

/**
 * Watches the rollout after a fix until every replica runs the new template and is ready, a new pod shows a
 * problem that will not clear by itself, or the time is up: a fix is reported as working only when it did.
 */
export async function verifyRollout(
	kube: KubePort,
	namespace: string,
	name: string,
	opts: {timeoutMs: number; now(): number; sleep(ms: number, signal: AbortSignal): Promise<void>; signal: AbortSignal},
): Promise<VerifyResult> {
	const start = opts.now();
	const changes = changeWaiter(kube, namespace, opts.signal, opts.sleep, 500);
	try {
		for (;;) {
			changes.reading();
			const d = await kube.deployment(namespace, name);
			if (!d) return {ok: false, message: `deployment ${namespace}/${name} no longer exists`, ms: opts.now() - start};
			const pods = (await kube.pods(namespace, d.selector)).filter((p) => p.owner === name && !p.terminating && !p.stale);
			const settled =
				d.observedGeneration >= d.generation &&
				d.updatedReplicas === d.replicas &&
				d.readyReplicas === d.replicas &&
				d.availableReplicas >= d.replicas;
			const newest = pods.sort((a, b) => b.createdAt.localeCompare(a.createdAt))[0];
			if (settled && pods.length === d.replicas && pods.every((p) => p.ready))
				return {
					ok: true,
					message: `deployment ${name}: ${d.readyReplicas}/${d.replicas} ready on the new template`,
					ms: opts.now() - start,
				};
			const problem = newest && Date.parse(newest.createdAt) >= start - 1000 ? finalProblem(newest, opts.now()) : undefined;
			if (problem) return {ok: false, message: `the new pod is not healthy: ${problem}`, ms: opts.now() - start};
			if (opts.now() - start > opts.timeoutMs)
				return {
					ok: false,
					message: `not ready after ${Math.round(opts.timeoutMs / 1000)}s: ${d.readyReplicas}/${d.replicas} ready, ${d.updatedReplicas} updated`,
					ms: opts.now() - start,
				};
			if (opts.signal.aborted) return {ok: false, message: 'stopped before the rollout finished', ms: opts.now() - start};
			await changes.next();
		}
	} finally {
		changes.stop();
	}
}
