import {parseAllDocuments} from 'yaml';

export type TemplateValues = {images: Map<string, string>; namespace: string; pullPolicy: string};

export class ManifestError extends Error {}

/**
 * Fills a manifest template. Only three placeholders exist, and an unknown one is an error rather than
 * text left in a manifest: a half-substituted image name is exactly the trap kdoctor exists to close.
 */
export function renderTemplate(text: string, values: TemplateValues, file: string): string {
	return text.replace(/\$\{([^}]*)\}/g, (whole, inner: string) => {
		if (inner === 'namespace') return values.namespace;
		if (inner === 'pullPolicy') return values.pullPolicy;
		const m = /^image:([a-z][a-z0-9-]*)$/.exec(inner);
		if (m) {
			const ref = values.images.get(m[1]!);
			if (!ref) throw new ManifestError(`${file}: \${image:${m[1]}} names an image the profile does not define`);
			return ref;
		}
		throw new ManifestError(`${file}: unknown placeholder ${whole} (known: \${image:NAME}, \${namespace}, \${pullPolicy})`);
	});
}

export type K8sObject = Record<string, unknown> & {
	apiVersion?: string;
	kind?: string;
	metadata?: {name?: string; namespace?: string; labels?: Record<string, string>};
};

/** Parses multi-document YAML; a document that is empty or only comments is dropped. */
export function parseManifests(text: string, file: string): K8sObject[] {
	const docs = parseAllDocuments(text);
	const out: K8sObject[] = [];
	for (const d of docs) {
		if (d.errors.length > 0) throw new ManifestError(`${file}: not valid YAML (${d.errors[0]!.message.split('\n')[0]})`);
		const v = d.toJS() as unknown;
		if (v === null || v === undefined) continue;
		if (typeof v !== 'object' || Array.isArray(v)) throw new ManifestError(`${file}: a document is not a Kubernetes object`);
		const o = v as K8sObject;
		if (!o.apiVersion || !o.kind || !o.metadata?.name)
			throw new ManifestError(`${file}: a document lacks apiVersion, kind or metadata.name`);
		out.push(o);
	}
	return out;
}

/** Images every container of the objects asks for, with their pull policies (for the presence check). */
export function containerImages(objects: K8sObject[]): {object: string; container: string; image: string; pullPolicy?: string}[] {
	const out: {object: string; container: string; image: string; pullPolicy?: string}[] = [];
	for (const o of objects) {
		const spec = podSpecOf(o);
		if (!spec) continue;
		for (const c of [...((spec.initContainers as unknown[]) ?? []), ...((spec.containers as unknown[]) ?? [])] as Record<
			string,
			unknown
		>[]) {
			out.push({
				object: `${o.kind}/${o.metadata!.name}`,
				container: String(c.name),
				image: String(c.image),
				pullPolicy: c.imagePullPolicy as string | undefined,
			});
		}
	}
	return out;
}

function podSpecOf(o: K8sObject): Record<string, unknown> | undefined {
	const spec = o.spec as Record<string, unknown> | undefined;
	if (!spec) return undefined;
	if (o.kind === 'Pod') return spec;
	const template = (
		o.kind === 'CronJob' ? ((spec.jobTemplate as Record<string, unknown>)?.spec as Record<string, unknown>)?.template : spec.template
	) as Record<string, unknown> | undefined;
	return template?.spec as Record<string, unknown> | undefined;
}

/**
 * Coverage builds write counters to GOCOVERDIR; the node's /coverdata is the host folder Kind mounts, so
 * the named Deployments get the variable, the hostPath and root (the folder is the host user's).
 */
export function addCoverage(objects: K8sObject[], deployments: string[]): K8sObject[] {
	return objects.map((o) => {
		if (o.kind !== 'Deployment' || !deployments.includes(o.metadata!.name!)) return o;
		const copy = structuredClone(o);
		const spec = podSpecOf(copy)!;
		spec.securityContext = {...((spec.securityContext as object) ?? {}), runAsUser: 0, runAsGroup: 0};
		const volumes = ((spec.volumes as unknown[]) ?? []).filter((v) => (v as {name: string}).name !== 'coverdata');
		spec.volumes = [...volumes, {name: 'coverdata', hostPath: {path: '/coverdata', type: 'DirectoryOrCreate'}}];
		for (const c of (spec.containers as Record<string, unknown>[]) ?? []) {
			const env = ((c.env as {name: string}[]) ?? []).filter((e) => e.name !== 'GOCOVERDIR');
			c.env = [...env, {name: 'GOCOVERDIR', value: '/coverdata'}];
			const mounts = ((c.volumeMounts as {name: string}[]) ?? []).filter((m) => m.name !== 'coverdata');
			c.volumeMounts = [...mounts, {name: 'coverdata', mountPath: '/coverdata'}];
		}
		return copy;
	});
}

/** The Up half of a goose migration: what runs against a fresh database; of goose's markers only NO TRANSACTION stays. */
export function gooseUp(sql: string): string {
	const lines = sql.split(/\r?\n/);
	const up = lines.findIndex((l) => /^--\s*\+goose\s+Up\b/i.test(l));
	if (up === -1) return sql;
	const down = lines.findIndex((l, i) => i > up && /^--\s*\+goose\s+Down\b/i.test(l));
	// goose reads NO TRANSACTION anywhere in the file (it is usually above Up): the Job looks for it in what it is given.
	const noTx = lines.some((l) => /^--\s*\+goose\s+NO\s+TRANSACTION\b/i.test(l));
	return (
		(noTx ? '-- +goose NO TRANSACTION\n' : '') +
		lines
			.slice(up + 1, down === -1 ? undefined : down)
			.filter((l) => !/^--\s*\+goose\s+Statement(Begin|End)\b/i.test(l))
			.join('\n')
			.trim()
			.concat('\n')
	);
}

/** A ConfigMap of SQL files in name order, so a Job can apply them with psql. */
export function configMapFrom(name: string, namespace: string, files: {name: string; text: string}[], upOnly: boolean): K8sObject {
	const data: Record<string, string> = {};
	for (const f of [...files].sort((a, b) => a.name.localeCompare(b.name))) data[f.name] = upOnly ? gooseUp(f.text) : f.text;
	return {apiVersion: 'v1', kind: 'ConfigMap', metadata: {name, namespace}, data};
}
