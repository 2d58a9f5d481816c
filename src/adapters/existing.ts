import {closeSync, existsSync, openSync, readFileSync, readSync, statSync} from 'node:fs';
import {homedir} from 'node:os';
import {delimiter, dirname, isAbsolute, resolve} from 'node:path';
import {parse, stringify} from 'yaml';
import {reasonLine} from './exec.js';
import {writePrivateAtomic} from './kind.js';
import type {ClusterProvider, ClusterSpec, EngineName, ExecPort, LineSink} from '../core/provision/ports.js';

/** Where k3s and kubeadm (containerd from a package) put containerd's socket, in the order tried. */
export const CONTAINERD_SOCKETS = ['/run/k3s/containerd/containerd.sock', '/run/containerd/containerd.sock'];

export type ExistingOptions = {
	/** A kubeconfig file; otherwise KUBECONFIG (several paths, like kubectl), otherwise ~/.kube/config. */
	kubeconfig?: string;
	/** The context to use; otherwise the kubeconfig's current-context. */
	context?: string;
	/** containerd's socket on this host (the node); detected when not given. */
	containerdSocket?: string;
	/** A registry the cluster pulls from (host:port); images are pushed there instead of imported. */
	registry?: string;
	/** Push with TLS verification (off for a plain-HTTP local registry). */
	registryTlsVerify?: boolean;
	ctrPath?: string;
	/** The engine that pushes to the registry. */
	engine?: EngineName;
	env?: NodeJS.ProcessEnv;
	/** Sockets tried when none is given (tests point it at a private containerd). */
	socketCandidates?: string[];
};

export type ExistingProvider = ClusterProvider & {
	/** The reference manifests must use for an image built as `ref`: unchanged for a containerd import, the registry's copy when pushing. */
	deliveredRef(ref: string): string;
	/** The kubeconfig files read, in kubectl's order. */
	kubeconfigFiles(): string[];
};

type KubeconfigDoc = {
	'current-context'?: string;
	contexts?: {name: string; context?: {cluster?: string; user?: string; namespace?: string}}[];
	clusters?: {name: string; cluster?: Record<string, unknown>}[];
	users?: {name: string; user?: Record<string, unknown>}[];
};

type Named<T> = {item: T; file: string};

/** The kubeconfig files kubectl reads: --kubeconfig, else every KUBECONFIG entry, else ~/.kube/config. */
export function kubeconfigFiles(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): string[] {
	if (explicit) return [resolve(explicit)];
	const list = (env.KUBECONFIG ?? '').split(delimiter).filter((p) => p.trim().length > 0);
	if (list.length > 0) return [...new Set(list.map((p) => resolve(p)))];
	return [resolve(homedir(), '.kube', 'config')];
}

/** Merges kubeconfig files the way kubectl does: the first file to define a name (or current-context) wins. */
export function mergeKubeconfigs(files: string[]): {
	currentContext?: string;
	contexts: Map<string, Named<NonNullable<KubeconfigDoc['contexts']>[number]>>;
	clusters: Map<string, Named<NonNullable<KubeconfigDoc['clusters']>[number]>>;
	users: Map<string, Named<NonNullable<KubeconfigDoc['users']>[number]>>;
} {
	const contexts = new Map<string, Named<NonNullable<KubeconfigDoc['contexts']>[number]>>();
	const clusters = new Map<string, Named<NonNullable<KubeconfigDoc['clusters']>[number]>>();
	const users = new Map<string, Named<NonNullable<KubeconfigDoc['users']>[number]>>();
	let currentContext: string | undefined;
	for (const file of files) {
		if (!existsSync(file) || !statSync(file).isFile()) continue;
		let doc: KubeconfigDoc | null;
		try {
			doc = parse(readFileSync(file, 'utf8')) as KubeconfigDoc | null;
		} catch (error) {
			throw new Error(`kubeconfig ${file} is not valid YAML: ${(error as Error).message.split('\n')[0]}`);
		}
		if (!doc || typeof doc !== 'object') continue;
		if (!currentContext && doc['current-context']) currentContext = doc['current-context'];
		for (const c of doc.contexts ?? []) if (c?.name && !contexts.has(c.name)) contexts.set(c.name, {item: c, file});
		for (const c of doc.clusters ?? []) if (c?.name && !clusters.has(c.name)) clusters.set(c.name, {item: c, file});
		for (const u of doc.users ?? []) if (u?.name && !users.has(u.name)) users.set(u.name, {item: u, file});
	}
	return {currentContext, contexts, clusters, users};
}

/** Relative file references in a kubeconfig are relative to the file that holds them; a copy elsewhere needs them absolute. */
function absolutise(entry: Record<string, unknown> | undefined, file: string, keys: string[]): Record<string, unknown> | undefined {
	if (!entry) return entry;
	const out = {...entry};
	for (const key of keys) {
		const v = out[key];
		if (typeof v === 'string' && v.length > 0 && !isAbsolute(v)) out[key] = resolve(dirname(file), v);
	}
	return out;
}

/** Reads one member of an uncompressed tar (a `podman save` archive) without unpacking it. */
export function readTarMember(tarPath: string, wanted: (name: string) => boolean, maxSize = 4 * 1024 * 1024): string | undefined {
	const fd = openSync(tarPath, 'r');
	try {
		const header = Buffer.alloc(512);
		let pos = 0;
		let longName: string | undefined;
		for (;;) {
			if (readSync(fd, header, 0, 512, pos) < 512) return undefined;
			if (header.every((b) => b === 0)) return undefined;
			const rawName = header.subarray(0, 100).toString('utf8').replace(/\0.*$/s, '');
			const prefix = header.subarray(345, 500).toString('utf8').replace(/\0.*$/s, '');
			const size = parseInt(header.subarray(124, 136).toString('utf8').replace(/\0.*$/s, '').trim() || '0', 8);
			const type = String.fromCharCode(header[156]);
			const body = pos + 512;
			pos = body + Math.ceil(size / 512) * 512;
			if (type === 'L') {
				const buf = Buffer.alloc(size);
				readSync(fd, buf, 0, size, body);
				longName = buf.toString('utf8').replace(/\0.*$/s, '');
				continue;
			}
			const name = (longName ?? (prefix ? `${prefix}/${rawName}` : rawName)).replace(/^\.\//, '');
			longName = undefined;
			if ((type === '0' || type === '\0') && wanted(name) && size <= maxSize) {
				const buf = Buffer.alloc(size);
				readSync(fd, buf, 0, size, body);
				return buf.toString('utf8');
			}
		}
	} finally {
		closeSync(fd);
	}
}

/** The image reference a `podman save` archive holds (docker-archive manifest.json, or an OCI index annotation). */
export function archiveRef(tarPath: string): string | undefined {
	const manifest = readTarMember(tarPath, (n) => n === 'manifest.json');
	if (manifest) {
		const list = JSON.parse(manifest) as {RepoTags?: string[] | null}[];
		const tag = list.flatMap((m) => m.RepoTags ?? [])[0];
		if (tag) return tag;
	}
	const index = readTarMember(tarPath, (n) => n === 'index.json');
	if (index) {
		const doc = JSON.parse(index) as {manifests?: {annotations?: Record<string, string>}[]};
		for (const m of doc.manifests ?? []) {
			const a = m.annotations ?? {};
			const ref = a['io.containerd.image.name'] ?? a['org.opencontainers.image.ref.name'];
			if (ref && ref.includes('/')) return ref;
		}
	}
	return undefined;
}

/** The image's path without its registry host: localhost/kubernaut/datastorage:tag → kubernaut/datastorage:tag. */
function withoutRegistry(ref: string): string {
	const slash = ref.indexOf('/');
	if (slash < 0) return ref;
	const first = ref.slice(0, slash);
	return first === 'localhost' || first.includes('.') || first.includes(':') ? ref.slice(slash + 1) : ref;
}

/**
 * A cluster kdoctor did not create (k3s, kubeadm, a lab): images reach its containerd by `ctr images import`, or a
 * registry it pulls from.
 */
export function createExistingProvider(exec: ExecPort, opts: ExistingOptions = {}): ExistingProvider {
	const env = opts.env ?? process.env;
	const ctr = opts.ctrPath ?? 'ctr';
	const engine = opts.engine ?? 'podman';
	const files = () => kubeconfigFiles(opts.kubeconfig, env);

	const contextName = (): {name?: string; merged: ReturnType<typeof mergeKubeconfigs>} => {
		const merged = mergeKubeconfigs(files());
		return {name: opts.context ?? merged.currentContext, merged};
	};

	const socket = (): string | undefined =>
		opts.containerdSocket ?? (opts.socketCandidates ?? CONTAINERD_SOCKETS).find((s) => existsSync(s));

	const requireSocket = (what: string): string => {
		const s = socket();
		if (!s)
			throw new Error(
				`${what}: no containerd socket found (looked at ${(opts.socketCandidates ?? CONTAINERD_SOCKETS).join(', ')}); ` +
					`pass --containerd-socket, or --registry to push instead`,
			);
		return s;
	};

	const deliveredRef = (ref: string): string => (opts.registry ? `${opts.registry.replace(/\/+$/, '')}/${withoutRegistry(ref)}` : ref);

	return {
		name: 'existing',
		deliveredRef,
		kubeconfigFiles: files,

		async exists(): Promise<boolean> {
			const {name, merged} = contextName();
			return name !== undefined && merged.contexts.has(name);
		},

		async create(): Promise<void> {
			throw new Error('the existing provider does not create clusters: point --context at a running cluster, or use --provider kind');
		},

		/** A cluster kdoctor did not create is never deleted by it. */
		async delete(): Promise<void> {},

		async kubeconfig(spec: ClusterSpec): Promise<string> {
			const {name, merged} = contextName();
			const sources = files();
			if (!name) throw new Error(`no context given and no current-context in ${sources.join(delimiter)}`);
			const ctx = merged.contexts.get(name);
			if (!ctx) throw new Error(`no context ${name} in ${sources.join(delimiter)}`);
			// The user's own kubeconfig is never rewritten (the caller passes the context to its client); a pinned copy goes only elsewhere.
			if (sources.includes(resolve(spec.kubeconfigPath))) return spec.kubeconfigPath;
			const clusterName = ctx.item.context?.cluster;
			const userName = ctx.item.context?.user;
			const cluster = clusterName ? merged.clusters.get(clusterName) : undefined;
			const user = userName ? merged.users.get(userName) : undefined;
			if (clusterName && !cluster) throw new Error(`context ${name} names cluster ${clusterName}, which no kubeconfig defines`);
			const doc = {
				apiVersion: 'v1',
				kind: 'Config',
				'current-context': name,
				contexts: [ctx.item],
				clusters: cluster
					? [{name: cluster.item.name, cluster: absolutise(cluster.item.cluster, cluster.file, ['certificate-authority'])}]
					: [],
				users: user
					? [{name: user.item.name, user: absolutise(user.item.user, user.file, ['client-certificate', 'client-key', 'tokenFile'])}]
					: [],
			};
			writePrivateAtomic(spec.kubeconfigPath, stringify(doc, {lineWidth: 0}));
			return spec.kubeconfigPath;
		},

		async loadArchive(_spec: ClusterSpec, tarPath: string, onLine?: LineSink, signal?: AbortSignal): Promise<void> {
			if (!existsSync(tarPath) || !statSync(tarPath).isFile()) throw new Error(`image archive not found: ${tarPath}`);
			if (opts.registry) {
				const ref = archiveRef(tarPath);
				if (!ref) throw new Error(`image archive ${tarPath} names no image (no RepoTags in manifest.json)`);
				let argv: string[];
				if (engine === 'podman') {
					argv = ['podman', 'push'];
					if (opts.registryTlsVerify === false) argv.push('--tls-verify=false');
					argv.push(ref, deliveredRef(ref));
				} else {
					// docker push has no destination argument (and takes insecure registries from the daemon's config): tag, then push.
					const tag = await exec.run({argv: ['docker', 'tag', ref, deliveredRef(ref)], signal});
					if (tag.exitCode !== 0) throw new Error(`docker tag ${ref} failed: ${reasonLine(tag)}`);
					argv = ['docker', 'push', deliveredRef(ref)];
				}
				const r = await exec.run({argv, onLine, signal});
				if (r.cancelled) throw new Error(`${engine} push of ${ref} was cancelled`);
				if (r.exitCode !== 0) throw new Error(`${engine} push of ${ref} to ${opts.registry} failed: ${reasonLine(r)}`);
				return;
			}
			const sock = requireSocket('cannot import images');
			const r = await exec.run({argv: [ctr, '-a', sock, '-n', 'k8s.io', 'images', 'import', '--all-platforms', tarPath], onLine, signal});
			if (r.cancelled) throw new Error('ctr images import was cancelled');
			if (r.exitCode !== 0) throw new Error(`ctr images import of ${tarPath} failed: ${reasonLine(r)}`);
		},

		async nodeImages(): Promise<string[]> {
			const sock = requireSocket('cannot list node images');
			const r = await exec.run({argv: [ctr, '-a', sock, '-n', 'k8s.io', 'images', 'ls', '-q']});
			if (r.exitCode !== 0) throw new Error(`ctr images ls failed: ${reasonLine(r)}`);
			// CRI also records each image by its bare config digest; only names matter to a manifest.
			return r.stdout
				.split('\n')
				.map((l) => l.trim())
				.filter((l) => l.length > 0 && !/^sha256:[0-9a-f]{64}$/.test(l));
		},

		/** Node-side logs belong to whoever runs the cluster; the bundle keeps what the API server gives. */
		async exportLogs(): Promise<string[]> {
			return [];
		},
	};
}
