import type {K8sObject} from './manifests.js';
import type {CertFacts, CertPort, KubePort, PemPair} from './ports.js';
import type {CertificatesSpec} from './profile.js';

const DAY_MS = 86_400_000;
const managedBy = {'app.kubernetes.io/managed-by': 'kdoctor'};

/** The names a Service's serving certificate must carry (Kubernaut's list: the Service's DNS names and localhost). */
export function servingNames(service: string, namespace: string): {dns: string[]; ips: string[]} {
	return {
		dns: ['localhost', service, `${service}.${namespace}`, `${service}.${namespace}.svc`, `${service}.${namespace}.svc.cluster.local`],
		ips: ['127.0.0.1'],
	};
}

export type CertificateResult = {
	objects: K8sObject[];
	/** One line per object: what was kept or made, with the certificate's fingerprint and expiry, never a key. */
	lines: string[];
};

/** Why a certificate already in the cluster cannot be kept, or undefined when it can. */
function unusable(facts: CertFacts | undefined, now: number, need: {names?: string[]; rsaBits?: number; ca?: boolean}): string | undefined {
	if (!facts) return 'is not a certificate';
	if (facts.keyMatches === false) return 'has a key that is not its own';
	if (need.ca && facts.issuedByCa === false) return 'is not issued by the CA in use';
	// A day of margin: a run must not start on a certificate that expires under it.
	if (Date.parse(facts.notAfter) - now < DAY_MS) return `expires ${facts.notAfter}`;
	const missing = (need.names ?? []).filter((n) => !facts.names.includes(n));
	if (missing.length) return `lacks ${missing.join(', ')}`;
	if (need.rsaBits && (facts.keyType !== 'rsa' || (facts.keyBits ?? 0) < need.rsaBits)) return `is not RSA ${need.rsaBits}`;
	return undefined;
}

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

function tlsSecret(name: string, namespace: string, pair: PemPair): K8sObject {
	return {
		apiVersion: 'v1',
		kind: 'Secret',
		metadata: {name, namespace, labels: managedBy},
		type: 'kubernetes.io/tls',
		data: {'tls.crt': b64(pair.cert), 'tls.key': b64(pair.key)},
	};
}

const short = (f: CertFacts) => `sha256 ${f.fingerprint.slice(0, 23)}…, valid until ${f.notAfter}`;

/**
 * The CA ConfigMap and the Secrets a certificates step needs: those already in the namespace and still valid are kept
 * (so a re-run does not rotate what running pods trust); the rest are made. The serving set is one unit: a new CA
 * means new serving certificates, since the CA's key is never stored.
 */
export async function certificateObjects(
	spec: CertificatesSpec,
	namespace: string,
	kube: Pick<KubePort, 'readData'>,
	certs: CertPort,
	now: number,
	signal?: AbortSignal,
): Promise<CertificateResult> {
	const objects: K8sObject[] = [];
	const lines: string[] = [];

	const caPem = (await kube.readData('ConfigMap', namespace, spec.ca.configMap))?.['ca.crt'];
	const ca = caPem === undefined ? undefined : certs.inspect(caPem);
	const caReason = caPem === undefined ? 'does not exist' : unusable(ca, now, {});
	let why = caReason && `configmap/${spec.ca.configMap} ${caReason}`;
	// The serving set is kept only whole: read no further once one of it cannot be kept.
	const kept: CertFacts[] = [];
	for (const s of spec.serving) {
		if (why) break;
		const data = await kube.readData('Secret', namespace, s.secret);
		const names = servingNames(s.service, namespace);
		const facts = data?.['tls.crt'] ? certs.inspect(data['tls.crt'], {keyPem: data['tls.key'] ?? '', caPem}) : undefined;
		const reason = data?.['tls.crt'] ? unusable(facts, now, {names: [...names.dns, ...names.ips], ca: true}) : 'does not exist';
		if (reason) why = `secret/${s.secret} ${reason}`;
		else kept.push(facts!);
	}
	if (!why) {
		lines.push(`configmap/${spec.ca.configMap}: kept (${short(ca!)})`);
		spec.serving.forEach((s, i) => lines.push(`secret/${s.secret}: kept (${short(kept[i]!)})`));
	} else {
		const ca = await certs.ca(spec.ca.commonName, spec.validDays, signal);
		objects.push({
			apiVersion: 'v1',
			kind: 'ConfigMap',
			metadata: {name: spec.ca.configMap, namespace, labels: managedBy},
			data: {'ca.crt': ca.cert},
		});
		lines.push(
			`configmap/${spec.ca.configMap}: a new CA, ECDSA P-256, CN=${spec.ca.commonName} (${short(certs.inspect(ca.cert)!)}; because ${why})`,
		);
		for (const s of spec.serving) {
			const names = servingNames(s.service, namespace);
			const pair = await certs.serving(ca, s.service, names.dns, names.ips, spec.validDays, signal);
			objects.push(tlsSecret(s.secret, namespace, pair));
			lines.push(
				`secret/${s.secret}: new, ECDSA P-256 signed by the CA, SANs ` +
					`${[...names.dns, ...names.ips].join(', ')} (${short(certs.inspect(pair.cert)!)})`,
			);
		}
	}

	for (const s of spec.signing) {
		const data = await kube.readData('Secret', namespace, s.secret);
		const facts = data?.['tls.crt'] ? certs.inspect(data['tls.crt'], {keyPem: data['tls.key'] ?? ''}) : undefined;
		const reason = data?.['tls.crt'] ? unusable(facts, now, {rsaBits: 2048}) : 'does not exist';
		if (!reason) {
			lines.push(`secret/${s.secret}: kept (${short(facts!)})`);
			continue;
		}
		const pair = await certs.signing(s.commonName, s.organization, spec.validDays, signal);
		objects.push(tlsSecret(s.secret, namespace, pair));
		lines.push(
			`secret/${s.secret}: new, RSA 2048 self-signed, CN=${s.commonName} ` +
				`(${short(certs.inspect(pair.cert)!)}; because secret/${s.secret} ${reason})`,
		);
	}
	return {objects, lines};
}
