import {spawnSync} from 'node:child_process';
import {mkdtempSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {createCerts, inspectCert} from '../../src/adapters/certs.js';
import {createExec} from '../../src/adapters/exec.js';
import {certificateObjects, servingNames} from '../../src/core/provision/certificates.js';
import {CertificatesSchema} from '../../src/core/provision/profile.js';

// Real openssl (the adapter's argv) and node's X.509 parser; the cluster's side is the Secrets' data as a map,
// exactly what KubePort.readData returns.
const certs = createCerts(createExec());
const spec = CertificatesSchema.parse({
	ca: {configMap: 'inter-service-ca', commonName: 'kubernaut-inter-service-ca'},
	serving: [
		{secret: 'datastorage-tls', service: 'data-storage-service'},
		{secret: 'gateway-tls', service: 'gateway-service'},
	],
	signing: [{secret: 'datastorage-signing', commonName: 'datastorage-signing', organization: 'Kubernaut'}],
});
const ns = 'kubernaut-system';
type Obj = {kind: string; metadata: {name: string}; type?: string; data: Record<string, string>};
/** The cluster after applying the objects: what readData would return for each name. */
const clusterOf = (objects: unknown[], before = new Map<string, Record<string, string>>()) => {
	const m = new Map(before);
	for (const o of objects as Obj[]) {
		const data =
			o.kind === 'Secret' ? Object.fromEntries(Object.entries(o.data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()])) : o.data;
		m.set(`${o.kind}/${o.metadata.name}`, data);
	}
	return m;
};
const reader = (m: Map<string, Record<string, string>>) => ({
	readData: async (kind: string, _ns: string, name: string) => m.get(`${kind}/${name}`),
});
const openssl = (args: string[], dir: string) => spawnSync('openssl', args, {cwd: dir, encoding: 'utf8'});

describe('inter-service TLS and the signing certificate, made with openssl as Kubernaut’s E2E makes them', () => {
	it('first run: a CA, serving pairs it signed for each Service’s DNS names, an RSA 2048 signing pair', {timeout: 60_000}, async () => {
		const now = Date.now();
		const r = await certificateObjects(spec, ns, reader(new Map()), certs, now);
		expect(r.objects.map((o) => `${o.kind}/${o.metadata!.name}`)).toEqual([
			'ConfigMap/inter-service-ca',
			'Secret/datastorage-tls',
			'Secret/gateway-tls',
			'Secret/datastorage-signing',
		]);
		const cluster = clusterOf(r.objects);
		const ca = cluster.get('ConfigMap/inter-service-ca')!['ca.crt']!;
		const ds = cluster.get('Secret/datastorage-tls')!;
		expect((r.objects[1] as Obj).type).toBe('kubernetes.io/tls');
		const facts = inspectCert(ds['tls.crt']!, {keyPem: ds['tls.key']!, caPem: ca})!;
		expect(facts).toMatchObject({keyType: 'ec', keyMatches: true, issuedByCa: true});
		expect(facts.names).toEqual(expect.arrayContaining([...servingNames('data-storage-service', ns).dns, '127.0.0.1']));
		expect(facts.names).toContain('data-storage-service.kubernaut-system.svc.cluster.local');
		expect(Date.parse(facts.notAfter) - now).toBeGreaterThan(29 * 86_400_000);
		const signing = cluster.get('Secret/datastorage-signing')!;
		expect(inspectCert(signing['tls.crt']!, {keyPem: signing['tls.key']!})).toMatchObject({
			keyType: 'rsa',
			keyBits: 2048,
			keyMatches: true,
		});
		// openssl itself agrees: the chain verifies for serverAuth, and the CA is a CA.
		const dir = mkdtempSync(join(tmpdir(), 'kd-certs-'));
		writeFileSync(join(dir, 'ca.crt'), ca);
		writeFileSync(join(dir, 'tls.crt'), ds['tls.crt']!);
		const v = openssl(['verify', '-purpose', 'sslserver', '-CAfile', 'ca.crt', 'tls.crt'], dir);
		expect(v.stdout.trim(), v.stderr).toBe('tls.crt: OK');
		expect(openssl(['x509', '-in', 'ca.crt', '-noout', '-text'], dir).stdout).toMatch(/CA:TRUE/);
		// What the step prints names each certificate by its fingerprint and never carries a key.
		expect(r.lines).toHaveLength(4);
		expect(r.lines.join('\n')).not.toMatch(/PRIVATE KEY|BEGIN/);
		expect(r.lines[1]).toMatch(/^secret\/datastorage-tls: new, ECDSA P-256 signed by the CA, SANs localhost, data-storage-service,/);
	});

	it('a second run keeps what is valid, so running pods keep trusting the same CA', {timeout: 60_000}, async () => {
		const first = await certificateObjects(spec, ns, reader(new Map()), certs, Date.now());
		const cluster = clusterOf(first.objects);
		const again = await certificateObjects(spec, ns, reader(cluster), certs, Date.now());
		expect(again.objects).toEqual([]);
		expect(again.lines.every((l) => /: kept \(sha256 /.test(l))).toBe(true);
	});

	it(
		'a serving pair from another CA, or one near its end, makes the whole serving set anew; the signing pair stays',
		{timeout: 60_000},
		async () => {
			const a = clusterOf((await certificateObjects(spec, ns, reader(new Map()), certs, Date.now())).objects);
			const b = clusterOf((await certificateObjects(spec, ns, reader(new Map()), certs, Date.now())).objects);
			const mixed = new Map(a);
			mixed.set('Secret/gateway-tls', b.get('Secret/gateway-tls')!);
			const r = await certificateObjects(spec, ns, reader(mixed), certs, Date.now());
			expect(r.objects.map((o) => o.metadata!.name)).toEqual(['inter-service-ca', 'datastorage-tls', 'gateway-tls']);
			expect(r.lines[0]).toMatch(/because secret\/gateway-tls is not issued by the CA in use\)$/);
			expect(r.lines.at(-1)).toMatch(/^secret\/datastorage-signing: kept/);
			// 29.5 days on, less than a day is left: everything is made again.
			const later = await certificateObjects(spec, ns, reader(a), certs, Date.now() + 29.5 * 86_400_000);
			expect(later.objects).toHaveLength(4);
			expect(later.lines[0]).toMatch(/because configmap\/inter-service-ca expires /);
		},
	);

	it('a Secret whose key is not its certificate’s, or that is not a certificate at all, is replaced', {timeout: 60_000}, async () => {
		const a = clusterOf((await certificateObjects(spec, ns, reader(new Map()), certs, Date.now())).objects);
		const broken = new Map(a);
		broken.set('Secret/datastorage-signing', {
			'tls.crt': a.get('Secret/datastorage-signing')!['tls.crt']!,
			'tls.key': a.get('Secret/datastorage-tls')!['tls.key']!,
		});
		broken.set('ConfigMap/inter-service-ca', {'ca.crt': 'not a certificate\u001b[2J'});
		const r = await certificateObjects(spec, ns, reader(broken), certs, Date.now());
		expect(r.objects).toHaveLength(4);
		expect(r.lines[0]).toMatch(/because configmap\/inter-service-ca is not a certificate\)$/);
		expect(r.lines.at(-1)).toMatch(/because secret\/datastorage-signing has a key that is not its own\)$/);
	});

	it('refuses a name that would become another subject attribute or a line of openssl’s config', async () => {
		await expect(certs.signing('x/CN=evil', undefined, 1)).rejects.toThrow(/may not contain/);
		await expect(certs.serving({cert: '', key: ''}, 'svc', ['a\nDNS.9 = evil'], [], 1)).rejects.toThrow(/not a DNS name/);
	});
});
