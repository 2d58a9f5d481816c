/**
 * A one-look reader of the Kubernetes API over node:https, for the commands that list once and answer (triage --json,
 * diagnose -n, fix -n, up's failure diagnosis): importing @kubernetes/client-node costs more than the whole look.
 * It speaks the kubeconfigs local clusters write (client certificates, bearer tokens, basic auth, a CA); anything
 * else (exec plugins, auth providers, proxies, impersonation) is client-node's, and `restConfig` says so by
 * returning undefined.
 */
import {existsSync, readFileSync} from 'node:fs';
import {connect, constants, type ClientHttp2Session, type SecureClientSessionOptions} from 'node:http2';
import {homedir} from 'node:os';
import {delimiter, dirname, isAbsolute, join} from 'node:path';
import {parse} from 'yaml';
import {KubeError, noLogYet, type KubeOptions} from './kube.js';

export type RestConfig = {
	server: string;
	namespace: string;
	tls: SecureClientSessionOptions;
	headers: Record<string, string>;
	timeoutMs: number;
	/** One HTTP/2 connection for every request of the look: one TLS handshake, the lists multiplexed on it. */
	session?: ClientHttp2Session;
	failure?: Error;
	/** Requests in flight: the connection keeps the process alive only while there are some. */
	inflight?: number;
};

type Named<T> = {name?: string} & T;
type KubeconfigFile = {
	clusters?: Named<{cluster?: Record<string, unknown>}>[];
	users?: Named<{user?: Record<string, unknown>}>[];
	contexts?: Named<{context?: {cluster?: string; user?: string; namespace?: string}}>[];
	'current-context'?: string;
};

// Cluster and user fields this reader understands; any other field may change how to connect, so client-node decides.
const CLUSTER_FIELDS = new Set([
	'server',
	'certificate-authority',
	'certificate-authority-data',
	'insecure-skip-tls-verify',
	'tls-server-name',
	'extensions',
]);
const USER_FIELDS = new Set([
	'client-certificate',
	'client-certificate-data',
	'client-key',
	'client-key-data',
	'token',
	'tokenFile',
	'username',
	'password',
	'extensions',
]);

/** kubectl's files: --kubeconfig, else every file of $KUBECONFIG (first to define a name wins), else ~/.kube/config. */
function kubeconfigFiles(opts: KubeOptions): {files: string[]; source: string} {
	if (opts.kubeconfig) {
		if (!existsSync(opts.kubeconfig)) throw new KubeError('config', `kubeconfig ${opts.kubeconfig} does not exist`);
		return {files: [opts.kubeconfig], source: opts.kubeconfig};
	}
	if (process.env.KUBECONFIG) {
		const files = process.env.KUBECONFIG.split(delimiter).filter((f) => f && existsSync(f));
		if (files.length === 0) throw new KubeError('config', `none of the files in KUBECONFIG=${process.env.KUBECONFIG} exists`);
		return {files, source: `KUBECONFIG=${process.env.KUBECONFIG}`};
	}
	const file = join(homedir(), '.kube', 'config');
	if (!existsSync(file)) throw new KubeError('config', `no kubeconfig: ${file} does not exist and KUBECONFIG is not set`);
	return {files: [file], source: file};
}

/**
 * The connection the kubeconfig describes, when this reader can make it; undefined when only client-node can (the
 * caller then uses it). Errors a person must fix (no such context, unreadable file) are KubeErrors, as client-node's.
 */
export function restConfig(opts: KubeOptions): RestConfig | undefined {
	const {files, source} = kubeconfigFiles(opts);
	const clusters = new Map<string, {cluster?: Record<string, unknown>; dir: string}>();
	const users = new Map<string, {user?: Record<string, unknown>; dir: string}>();
	const contexts = new Map<string, {cluster?: string; user?: string; namespace?: string}>();
	let current = '';
	for (const file of files) {
		let doc: KubeconfigFile;
		try {
			doc = (parse(readFileSync(file, 'utf8')) ?? {}) as KubeconfigFile;
		} catch (error) {
			throw new KubeError('config', `kubeconfig ${file} could not be read: ${(error as Error).message.split('\n')[0]}`);
		}
		const dir = dirname(file);
		for (const c of doc.clusters ?? []) if (c.name && !clusters.has(c.name)) clusters.set(c.name, {cluster: c.cluster, dir});
		for (const u of doc.users ?? []) if (u.name && !users.has(u.name)) users.set(u.name, {user: u.user, dir});
		for (const c of doc.contexts ?? []) if (c.name && !contexts.has(c.name)) contexts.set(c.name, c.context ?? {});
		current ||= doc['current-context'] ?? '';
	}
	const name = opts.context ?? current;
	if (opts.context && !contexts.has(opts.context))
		throw new KubeError('config', `context "${opts.context}" is not in ${source} (it has: ${[...contexts.keys()].join(', ') || 'none'})`);
	if (!name) throw new KubeError('config', `${source} has no current-context; pass --context`);
	const ctx = contexts.get(name);
	if (!ctx) throw new KubeError('config', `current-context "${name}" is not defined in ${source}`);
	const cl = clusters.get(ctx.cluster ?? '');
	if (!cl?.cluster?.server) throw new KubeError('config', `kubeconfig context "${name}" names no cluster`);
	const us = users.get(ctx.user ?? '') ?? {user: {}, dir: cl.dir};
	const cluster = cl.cluster;
	const user = us.user ?? {};
	if (Object.keys(cluster).some((k) => !CLUSTER_FIELDS.has(k)) || Object.keys(user).some((k) => !USER_FIELDS.has(k))) return undefined;
	const server = String(cluster.server).replace(/\/+$/, '');
	if (!server.startsWith('https://')) return undefined;
	if (process.env.HTTPS_PROXY || process.env.https_proxy) return undefined;

	const read = (data: unknown, file: unknown, dir: string, what: string): Buffer | undefined => {
		if (typeof data === 'string' && data) return Buffer.from(data, 'base64');
		if (typeof file !== 'string' || !file) return undefined;
		const path = isAbsolute(file) ? file : join(dir, file);
		try {
			return readFileSync(path);
		} catch {
			throw new KubeError('config', `the kubeconfig's ${what} ${path} cannot be read`);
		}
	};
	const headers: Record<string, string> = {accept: 'application/json', 'user-agent': 'kdoctor'};
	const token =
		typeof user.token === 'string' && user.token
			? user.token
			: typeof user.tokenFile === 'string' && user.tokenFile
				? read(undefined, user.tokenFile, us.dir, 'token file')!.toString('utf8').trim()
				: undefined;
	if (token) headers.authorization = `Bearer ${token}`;
	else if (typeof user.username === 'string' && typeof user.password === 'string')
		headers.authorization = `Basic ${Buffer.from(`${user.username}:${user.password}`).toString('base64')}`;
	const tls: SecureClientSessionOptions = {
		ca: read(cluster['certificate-authority-data'], cluster['certificate-authority'], cl.dir, 'certificate authority'),
		cert: read(user['client-certificate-data'], user['client-certificate'], us.dir, 'client certificate'),
		key: read(user['client-key-data'], user['client-key'], us.dir, 'client key'),
		rejectUnauthorized: cluster['insecure-skip-tls-verify'] !== true,
		...(typeof cluster['tls-server-name'] === 'string' ? {servername: cluster['tls-server-name']} : {}),
	};
	return {server, namespace: ctx.namespace || 'default', tls, headers, timeoutMs: opts.requestTimeoutMs ?? 30_000};
}

const NETWORK: Record<string, string> = {
	ECONNREFUSED: 'connection refused',
	ENOTFOUND: 'host name not found',
	EAI_AGAIN: 'host name not found',
	ECONNRESET: 'connection reset',
	EHOSTUNREACH: 'no route to host',
	ENETUNREACH: 'no route to host',
	ETIMEDOUT: 'connection timed out',
};

/** The look's connection, made at the first request; it never keeps the process alive by itself. */
function session(rc: RestConfig): ClientHttp2Session {
	if (rc.session && !rc.session.closed && !rc.session.destroyed) return rc.session;
	const s = connect(rc.server, rc.tls);
	// The connection's own failure (refused, TLS) says more than the streams it cancels.
	s.on('error', (e) => (rc.failure = e));
	s.unref();
	rc.session = s;
	return s;
}

/** One GET, its body as text; every failure a one-line KubeError in the words client-node's path uses. */
export function restGet(rc: RestConfig, path: string, what: string, signal?: AbortSignal): Promise<string> {
	return new Promise((resolve, reject) => {
		let s: ClientHttp2Session;
		try {
			s = session(rc);
		} catch (error) {
			return reject(networkError(rc, error as Error, what, signal));
		}
		const req = s.request({[constants.HTTP2_HEADER_PATH]: path, ...rc.headers}, {signal});
		if ((rc.inflight = (rc.inflight ?? 0) + 1) === 1) s.ref();
		req.once('close', () => {
			if ((rc.inflight = (rc.inflight ?? 1) - 1) === 0) s.unref();
		});
		// A stream cancelled because the connection failed carries the connection's error as its cause.
		const fail = (e: Error & {code?: string; cause?: unknown}) =>
			reject(networkError(rc, rc.failure ?? (e.cause instanceof Error ? e.cause : e), what, signal));
		req.setTimeout(rc.timeoutMs, () =>
			req.close(
				constants.NGHTTP2_CANCEL,
				() =>
					void reject(
						new KubeError(
							'timeout',
							`the Kubernetes API server at ${rc.server} did not answer within ${Math.round(rc.timeoutMs / 100) / 10}s (trying to ${what})`,
						),
					),
			),
		);
		let status = 0;
		req.on('response', (h) => (status = Number(h[constants.HTTP2_HEADER_STATUS] ?? 0)));
		const chunks: Buffer[] = [];
		req.on('data', (c: Buffer) => chunks.push(c));
		req.on('error', fail);
		req.on('end', () => {
			const body = Buffer.concat(chunks).toString('utf8');
			if (status >= 200 && status < 300) return resolve(body);
			let message = `HTTP ${status}`;
			try {
				const m = (JSON.parse(body) as {message?: unknown}).message;
				if (typeof m === 'string' && m) message = m.replace(/\s*\n\s*/g, ' ');
			} catch {
				if (body.trim()) message = body.trim().split('\n')[0]!.slice(0, 300);
			}
			if (status === 401)
				return reject(
					new KubeError(
						'unauthorized',
						`the API server at ${rc.server} rejected the kubeconfig's credentials (401 Unauthorized): could not ${what}`,
						401,
					),
				);
			const kind =
				status === 403
					? 'forbidden'
					: status === 404
						? 'not-found'
						: status === 400 || status === 409 || status === 422
							? 'invalid'
							: 'api';
			const e = new KubeError(kind, status === 403 ? `not allowed to ${what}: ${message}` : `could not ${what}: ${message}`, status);
			e.serverMessage = message;
			reject(e);
		});
		req.end();
	});
}

function networkError(rc: RestConfig, e: Error & {code?: string}, what: string, signal?: AbortSignal): KubeError {
	if (e instanceof KubeError) return e;
	if (signal?.aborted || e.name === 'AbortError') return new KubeError('cancelled', `cancelled while trying to ${what}`);
	const code = e.code ?? '';
	if (/CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME/i.test(code))
		return new KubeError(
			'tls',
			`TLS with the Kubernetes API server at ${rc.server} failed: ${e.message.split('\n')[0]} (trying to ${what})`,
		);
	return new KubeError(
		'unreachable',
		`cannot reach the Kubernetes API server at ${rc.server}: ${NETWORK[code] ?? e.message.split('\n')[0]} (is the cluster running?)`,
	);
}

/** Every item of a list, page by page (a namespace of thousands of events does not come back as one body). */
export async function restList(rc: RestConfig, path: string, what: string, signal?: AbortSignal): Promise<unknown[]> {
	const items: unknown[] = [];
	let cont = '';
	do {
		const q = new URLSearchParams({limit: '500', ...(cont ? {continue: cont} : {})});
		const page = JSON.parse(await restGet(rc, `${path}?${q}`, what, signal)) as {items?: unknown[]; metadata?: {continue?: string}};
		items.push(...(page.items ?? []));
		cont = page.metadata?.continue ?? '';
	} while (cont);
	return items;
}

/** A container's log as the kubelet has it (timestamps on), '' when there is none yet or no previous instance. */
export async function restLogs(
	rc: RestConfig,
	namespace: string,
	pod: string,
	container: string,
	o: {previous?: boolean; tailLines?: number; timestamps?: boolean},
): Promise<string> {
	const q = new URLSearchParams({container});
	if (o.previous) q.set('previous', 'true');
	if (o.tailLines !== undefined) q.set('tailLines', String(o.tailLines));
	if (o.timestamps) q.set('timestamps', 'true');
	const what = `read ${o.previous ? 'previous ' : ''}logs of ${namespace}/${pod} container ${container}`;
	try {
		return await restGet(rc, `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}/log?${q}`, what);
	} catch (error) {
		if (noLogYet(error)) return '';
		throw error;
	}
}
