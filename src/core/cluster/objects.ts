/**
 * What the one live engine reads beyond pods: controllers that cannot make their pods, pod templates that name
 * objects that do not exist, claims that never bind, nodes that are not ready or under pressure, Ingresses and
 * admission webhooks whose Service is missing or empty. Each problem is text in the API's own words (and kdoctor's,
 * naming the object), so the KB diagnoses it like any output; what no entry explains stays the object's own message.
 */
import type {Facts} from '../diagnose/score.js';
import type {
	Condition,
	LiveClaim,
	LiveController,
	LiveDeployment,
	LiveEndpoints,
	LiveEvent,
	LiveIngress,
	LiveNamed,
	LiveNode,
	LivePod,
	LiveService,
	LiveWebhook,
	TemplateRefs,
} from './ports.js';

/** The mirror the engine keeps, as these checks read it. */
export type Mirror = {
	deployments: Iterable<LiveDeployment>;
	controllers: Iterable<LiveController>;
	claims: Iterable<LiveClaim>;
	serviceAccounts: Iterable<LiveNamed>;
	configMaps: Iterable<LiveNamed>;
	secrets: Iterable<LiveNamed>;
	services: Iterable<LiveService>;
	endpoints: Iterable<LiveEndpoints>;
	ingresses: Iterable<LiveIngress>;
	webhooks: Iterable<LiveWebhook>;
	nodes: Iterable<LiveNode>;
	events: Iterable<LiveEvent>;
	pods: Iterable<LivePod>;
	/** Kinds that were listed (a kind that could not be read is never taken for "nothing exists"). */
	listed: Set<string>;
	/** The one namespace looked at (undefined: all): a webhook's Service elsewhere was not listed, so is not judged. */
	namespace?: string;
};

/** A problem of one object: the lines the KB reads, facts, and the object's own words for when no entry explains it. */
export type ObjectProblem = {
	key: string;
	namespace: string;
	kind: string;
	name: string;
	/** When the object was made: a grace period runs from here for states that may clear by themselves. */
	createdAt: string;
	/** Set when the state never clears by itself (a reference to nothing, a failed create): no grace period. */
	final?: string;
	lines: string[];
	facts: Facts;
	/** The API's, controller's or kdoctor's message, verbatim, for an `unexplained` finding. */
	message: string;
};

const fact = (facts: Facts, k: string, v: string | number | boolean, text: string) =>
	(facts[k] ??= []).push({value: v, text, source: 'cluster'});
const byName = (xs: Iterable<{namespace: string; name: string}>) => new Set([...xs].map((x) => `${x.namespace}/${x.name}`));

/** The references of a pod template that resolve to nothing, each as the error the kubelet or controller would print. */
export function missingRefs(ns: string, refs: TemplateRefs | undefined, m: Mirror): {lines: string[]; facts: Facts; names: string[]} {
	const lines: string[] = [];
	const facts: Facts = {};
	const names: string[] = [];
	if (!refs) return {lines, facts, names};
	const sas = byName(m.serviceAccounts);
	const cms = byName(m.configMaps);
	const secrets = byName(m.secrets);
	const claims = byName(m.claims);
	if (refs.serviceAccount && m.listed.has('serviceaccounts') && !sas.has(`${ns}/${refs.serviceAccount}`)) {
		lines.push(
			`kdoctor: the pod template names serviceaccount "${refs.serviceAccount}", which ` +
				`does not exist in ${ns}: serviceaccounts "${refs.serviceAccount}" not found`,
		);
		fact(facts, 'ref.missing', 'serviceaccount', `serviceaccount ${ns}/${refs.serviceAccount} does not exist`);
		names.push(`serviceaccount/${refs.serviceAccount}`);
	}
	if (m.listed.has('configmaps'))
		for (const c of refs.configMaps)
			if (!c.optional && !cms.has(`${ns}/${c.name}`)) {
				lines.push(
					`kdoctor: the pod template uses configmap "${c.name}", which does not exist in ${ns}: Error: configmaps "${c.name}" not found`,
				);
				fact(facts, 'ref.missing', 'configmap', `configmap ${ns}/${c.name} does not exist`);
				names.push(`configmap/${c.name}`);
			}
	if (m.listed.has('secrets'))
		for (const s of refs.secrets)
			if (!s.optional && !secrets.has(`${ns}/${s.name}`)) {
				lines.push(
					`kdoctor: the pod template uses secret "${s.name}", which does not exist in ${ns}: Error: secrets "${s.name}" not found`,
				);
				fact(facts, 'ref.missing', 'secret', `secret ${ns}/${s.name} does not exist`);
				names.push(`secret/${s.name}`);
			}
	if (m.listed.has('persistentvolumeclaims'))
		for (const c of refs.claims)
			if (!claims.has(`${ns}/${c}`)) {
				lines.push(
					`kdoctor: the pod template mounts persistentvolumeclaim "${c}", which does not exist in ${ns}: persistentvolumeclaim "${c}" not found`,
				);
				fact(facts, 'ref.missing', 'persistentvolumeclaim', `persistentvolumeclaim ${ns}/${c} does not exist`);
				names.push(`persistentvolumeclaim/${c}`);
			}
	if (m.listed.has('secrets'))
		for (const s of refs.imagePullSecrets)
			if (!secrets.has(`${ns}/${s}`)) {
				lines.push(`kdoctor: the pod template pulls with imagePullSecret "${s}", which does not exist in ${ns}`);
				fact(facts, 'ref.missing', 'imagepullsecret', `imagePullSecret ${ns}/${s} does not exist`);
				names.push(`secret/${s}`);
			}
	return {lines, facts, names};
}

/** Warning events of an object (and, for a Deployment, of its ReplicaSets: `name-<hash>`), newest last. */
function warningsOf(events: Iterable<LiveEvent>, ns: string, kind: string, name: string): LiveEvent[] {
	const mine = (e: LiveEvent) =>
		e.namespace === ns &&
		e.type !== 'Normal' &&
		(e.object === name ? e.kind === kind : kind === 'Deployment' && e.kind === 'ReplicaSet' && e.object.startsWith(`${name}-`));
	return [...events].filter(mine).sort((a, b) => a.lastSeen.localeCompare(b.lastSeen));
}

const badCondition = (c: Condition) =>
	(c.type === 'ReplicaFailure' && c.status === 'True') ||
	(c.type === 'Progressing' && c.status === 'False') ||
	(c.type === 'Failed' && c.status === 'True');

/**
 * A controller short of ready pods with a reason to say: a failed create (its events or a ReplicaFailure condition),
 * a progress deadline, a failed Job, or references in its template that resolve to nothing. A controller that is
 * merely rolling out says nothing here; its pods are judged by their own state.
 */
export function controllerProblem(
	c: {
		namespace: string;
		kind: string;
		name: string;
		desired: number;
		ready: number;
		conditions: Condition[];
		refs?: TemplateRefs;
		createdAt?: string;
	},
	m: Mirror,
): ObjectProblem | undefined {
	const refs = missingRefs(c.namespace, c.refs, m);
	const conditions = c.conditions.filter(badCondition);
	const warnings = warningsOf(m.events, c.namespace, c.kind, c.name).filter((e) =>
		/^(?:FailedCreate|FailedDelete|BackoffLimitExceeded|DeadlineExceeded|ProgressDeadlineExceeded|FailedAttachVolume|FailedMount)$/.test(
			e.reason,
		),
	);
	const short = c.ready < c.desired;
	if (!short && conditions.length === 0) return undefined;
	if (refs.lines.length === 0 && conditions.length === 0 && warnings.length === 0) return undefined;
	const lines = [`${c.kind.toLowerCase()} ${c.namespace}/${c.name}: ${c.ready}/${c.desired} ready`];
	for (const k of conditions)
		lines.push(`  Condition ${k.type} ${k.status}${k.reason ? ` ${k.reason}` : ''}${k.message ? `: ${k.message}` : ''}`);
	for (const e of warnings)
		lines.push(`  Warning  ${e.reason}  ${e.kind.toLowerCase()}/${e.object}  ${e.message}${e.count > 1 ? ` (x${e.count})` : ''}`);
	lines.push(...refs.lines.map((l) => `  ${l}`));
	const facts = refs.facts;
	for (const e of warnings) fact(facts, 'event.reason', e.reason, `${e.kind.toLowerCase()}/${e.object}: ${e.reason}`);
	const message =
		warnings.at(-1)?.message ??
		conditions.find((k) => k.message)?.message ??
		refs.lines[0]?.replace(/^kdoctor: /, '') ??
		`${c.ready}/${c.desired} ready`;
	const failedCreate = warnings.some((e) => e.reason === 'FailedCreate') || conditions.some((k) => k.type === 'ReplicaFailure');
	return {
		key: `${c.namespace}/${c.kind}/${c.name}`,
		namespace: c.namespace,
		kind: c.kind,
		name: c.name,
		createdAt: c.createdAt ?? '',
		...(refs.names.length || failedCreate
			? {final: refs.names.length ? `references ${refs.names.join(', ')}, which do not exist` : 'the controller cannot create its pods'}
			: {}),
		lines,
		facts,
		message,
	};
}

/** Every controller (Deployment, StatefulSet, DaemonSet, Job) of the mirror with a problem of its own. */
export function controllerProblems(m: Mirror): ObjectProblem[] {
	const out: ObjectProblem[] = [];
	for (const d of m.deployments) {
		const p = controllerProblem(
			{
				namespace: d.namespace,
				kind: 'Deployment',
				name: d.name,
				desired: d.replicas,
				ready: d.availableReplicas,
				conditions: d.conditions ?? [],
				refs: d.refs,
				createdAt: d.createdAt,
			},
			m,
		);
		if (p) out.push(p);
	}
	for (const c of m.controllers) {
		const p = controllerProblem(c, m);
		if (p) out.push(p);
	}
	return out;
}

/**
 * Objects that are not workloads but break them: claims that stay Pending, nodes not Ready or under pressure, Ingress
 * backends with no Service, webhooks whose Service is missing or has no ready endpoint, Services whose named
 * targetPort no selected container declares.
 */
export function otherProblems(m: Mirror): ObjectProblem[] {
	const out: ObjectProblem[] = [];
	const services = new Map([...m.services].map((s) => [`${s.namespace}/${s.name}`, s]));
	const endpoints = new Map([...m.endpoints].map((e) => [`${e.namespace}/${e.name}`, e]));
	for (const c of m.claims) {
		if (c.phase !== 'Pending') continue;
		const ev = warningsOf(m.events, c.namespace, 'PersistentVolumeClaim', c.name);
		const lines = [
			`persistentvolumeclaim ${c.namespace}/${c.name}: Pending${c.storageClass ? ` (storageClass ${c.storageClass})` : ' (no storageClass)'}`,
			...ev.map((e) => `  Warning  ${e.reason}  persistentvolumeclaim/${c.name}  ${e.message}`),
		];
		out.push({
			key: `${c.namespace}/PersistentVolumeClaim/${c.name}`,
			namespace: c.namespace,
			kind: 'PersistentVolumeClaim',
			name: c.name,
			createdAt: c.createdAt,
			lines,
			facts: {},
			message: ev.at(-1)?.message ?? `persistentvolumeclaim ${c.name} is Pending`,
		});
	}
	for (const n of m.nodes) {
		const pressure = (n.conditions ?? []).filter((c) => /Pressure$|^NetworkUnavailable$/.test(c.type) && c.status === 'True');
		if (n.ready && pressure.length === 0 && !n.unschedulable) continue;
		const ready = (n.conditions ?? []).find((c) => c.type === 'Ready');
		const lines = [`node ${n.name}: ${n.ready ? 'Ready' : 'NotReady'}${n.unschedulable ? ', cordoned (SchedulingDisabled)' : ''}`];
		if (!n.ready && ready)
			lines.push(`  Condition Ready ${ready.status}${ready.reason ? ` ${ready.reason}` : ''}${ready.message ? `: ${ready.message}` : ''}`);
		for (const c of pressure)
			lines.push(`  Condition ${c.type} True${c.reason ? ` ${c.reason}` : ''}${c.message ? `: ${c.message}` : ''}`, `  ${c.type}  True`);
		for (const t of n.taints ?? []) lines.push(`  Taint ${t.key}:${t.effect}`);
		const facts: Facts = {};
		fact(facts, 'node.ready', n.ready, `node ${n.name} is ${n.ready ? 'Ready' : 'not Ready'}`);
		out.push({
			key: `-/Node/${n.name}`,
			namespace: '',
			kind: 'Node',
			name: n.name,
			createdAt: '',
			...(n.ready ? {} : {final: `node ${n.name} is NotReady`}),
			lines,
			facts,
			message: ready && !n.ready ? (ready.message ?? `node ${n.name} is NotReady`) : (pressure[0]?.message ?? `node ${n.name} is cordoned`),
		});
	}
	for (const i of m.ingresses) {
		const missing = i.backends.filter((b) => m.listed.has('services') && !services.has(`${i.namespace}/${b.service}`));
		if (missing.length === 0) continue;
		const lines = missing.map(
			(b) =>
				`ingress ${i.namespace}/${i.name}: backend service "${b.service}" not found (the Ingress routes to a Service that does not exist)`,
		);
		out.push({
			key: `${i.namespace}/Ingress/${i.name}`,
			namespace: i.namespace,
			kind: 'Ingress',
			name: i.name,
			createdAt: i.createdAt,
			final: `routes to ${missing.map((b) => `service/${b.service}`).join(', ')}, which does not exist`,
			lines,
			facts: {},
			message: lines[0]!,
		});
	}
	for (const w of m.webhooks) {
		const lines: string[] = [];
		for (const s of w.services) {
			if (m.namespace !== undefined && s.namespace !== m.namespace) continue;
			const key = `${s.namespace}/${s.name}`;
			if (!services.has(key)) {
				if (m.listed.has('services'))
					lines.push(
						`kdoctor: ${w.kind.toLowerCase()}/${w.name} calls service ${key}, which does ` +
							`not exist: failed calling webhook "${s.webhook}": service "${s.name}" not found`,
					);
			} else if (m.listed.has('endpoints') && (endpoints.get(key)?.ready ?? 0) === 0) {
				lines.push(
					`kdoctor: ${w.kind.toLowerCase()}/${w.name} calls service ${key}, which has no ready endpoint: ` +
						`failed calling webhook "${s.webhook}": no endpoints available for service "${s.name}"`,
				);
			}
		}
		if (lines.length === 0) continue;
		out.push({
			key: `-/${w.kind}/${w.name}`,
			namespace: '',
			kind: w.kind,
			name: w.name,
			createdAt: w.createdAt,
			lines,
			facts: {},
			message: lines[0]!.replace(/^kdoctor: /, ''),
		});
	}
	// A Service's named targetPort that no container of the pods it selects declares: every connection is refused.
	const pods = [...m.pods];
	for (const s of services.values()) {
		if (!s.selector || Object.keys(s.selector).length === 0) continue;
		const selected = pods.filter(
			(p) => p.namespace === s.namespace && !p.terminating && Object.entries(s.selector!).every(([k, v]) => p.labels[k] === v),
		);
		if (selected.length === 0) continue;
		// A Deployment's pods are owned by its ReplicaSet `<deployment>-<pod-template-hash>`.
		const ownedBy = (p: LivePod, d: LiveDeployment) =>
			p.owner === d.name || (p.labels['pod-template-hash'] !== undefined && p.owner === `${d.name}-${p.labels['pod-template-hash']}`);
		const templates = [...m.deployments].filter((d) => d.namespace === s.namespace && d.refs && selected.some((p) => ownedBy(p, d)));
		const declared = new Set(templates.flatMap((d) => d.refs!.ports.map((p) => p.name)).filter(Boolean));
		if (templates.length === 0) continue;
		const missing = (s.ports ?? []).filter((p) => typeof p.targetPort === 'string' && !declared.has(p.targetPort));
		if (missing.length === 0) continue;
		const lines = missing.map(
			(p) =>
				`service ${s.namespace}/${s.name}: targetPort "${p.targetPort}" (port ${p.port}) is ` +
				`not a port name any selected container declares, so the Service has no endpoint on it`,
		);
		out.push({
			key: `${s.namespace}/Service/${s.name}#port`,
			namespace: s.namespace,
			kind: 'Service',
			name: s.name,
			createdAt: s.createdAt,
			final: lines[0],
			lines,
			facts: {},
			message: lines[0]!,
		});
	}
	return out;
}
