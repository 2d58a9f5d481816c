import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import {parse} from 'yaml';
import {describe, expect, it} from 'vitest';
import {gooseUp, parseManifests, renderTemplate, type K8sObject} from '../../src/core/provision/manifests.js';
import {imageRef} from '../../src/core/provision/plan.js';
import {expandBuildArgs, ProfilesSchema} from '../../src/core/provision/profile.js';

// The facts of Kubernaut's Gateway E2E (jordigilh/kubernaut at d5a4a870, test/infrastructure) that its services
// exit without, each checked on the profile as kdoctor renders it.
const root = new URL('../../', import.meta.url).pathname;
const profiles = ProfilesSchema.parse((parse(readFileSync(join(root, 'profiles.yaml'), 'utf8')) as {profiles: unknown}).profiles);
const kubernaut = profiles['kubernaut-gateway']!;
const demo = profiles.demo!;

function rendered(profileFile: string, namespace: string): K8sObject[] {
	const p = profileFile.startsWith('manifests/demo') ? demo : kubernaut;
	const images = new Map(p.images.map((i) => [i.name, imageRef(i, 'f'.repeat(64))]));
	const file = join(root, profileFile);
	return parseManifests(renderTemplate(readFileSync(file, 'utf8'), {images, namespace, pullPolicy: 'Never'}, file), file);
}
const find = (objs: K8sObject[], kind: string, name: string) => {
	const o = objs.find((x) => x.kind === kind && x.metadata?.name === name);
	if (!o) throw new Error(`no ${kind}/${name}`);
	return o as K8sObject & Record<string, any>;
};
const podSpec = (d: Record<string, any>) => d.spec.template.spec as {containers: any[]; volumes: any[]};
const step = (p: typeof kubernaut, id: string) => p.deploy.find((d) => d.id === id)!;

describe('the kubernaut-gateway profile, against Kubernaut’s real Gateway E2E', () => {
	const ds = rendered('manifests/kubernaut-gateway/datastorage.yaml', 'kubernaut-system');
	const gw = rendered('manifests/kubernaut-gateway/gateway.yaml', 'kubernaut-system');

	it('DataStorage’s config names the secret keys (ADR-030 §6: "database passwordKey required" otherwise)', () => {
		const config = parse(String(find(ds, 'ConfigMap', 'datastorage-config').data['config.yaml'])) as Record<string, any>;
		expect(config.database).toMatchObject({usernameKey: 'username', passwordKey: 'password'});
		expect(config.redis).toMatchObject({passwordKey: 'password'});
		expect(config.server).toMatchObject({signerCertDir: '/etc/signing-certs', tls: {certDir: '/etc/tls'}});
		// The keys it names are the keys the secrets hold.
		const pg = rendered('manifests/kubernaut-gateway/postgresql.yaml', 'kubernaut-system');
		const dbSecrets = parse(String(find(pg, 'Secret', 'postgresql-secret').stringData['db-secrets.yaml'])) as Record<string, string>;
		expect(Object.keys(dbSecrets)).toEqual(expect.arrayContaining(['username', 'password']));
	});

	it('the signing Secret is a required mount, datastorage-tls an optional one, as in Kubernaut', () => {
		const vols = podSpec(find(ds, 'Deployment', 'datastorage')).volumes;
		expect(vols.find((v) => v.name === 'signing-certs').secret).toEqual({secretName: 'datastorage-signing'});
		expect(vols.find((v) => v.name === 'tls').secret).toEqual({secretName: 'datastorage-tls', optional: true});
		const mounts = podSpec(find(ds, 'Deployment', 'datastorage')).containers[0].volumeMounts.map((m: any) => m.mountPath);
		expect(mounts).toEqual(expect.arrayContaining(['/etc/signing-certs', '/etc/tls']));
	});

	it('the Gateway trusts the inter-service CA (a required ConfigMap mount) and calls DataStorage over https', () => {
		const spec = podSpec(find(gw, 'Deployment', 'gateway'));
		expect(spec.volumes.find((v) => v.name === 'tls-ca').configMap).toEqual({name: 'inter-service-ca'});
		expect(spec.containers[0].env).toContainEqual({name: 'TLS_CA_FILE', value: '/etc/tls-ca/ca.crt'});
		const config = parse(String(find(gw, 'ConfigMap', 'gateway-config').data['config.yaml'])) as Record<string, any>;
		expect(config.datastorage.url).toBe('https://data-storage-service.kubernaut-system.svc.cluster.local:8080');
	});

	it('a certificates step makes the CA, datastorage-tls for the DataStorage Service and the RSA signing Secret first', () => {
		const certs = step(kubernaut, 'certificates').certificates!;
		expect(certs.ca.configMap).toBe('inter-service-ca');
		expect(certs.serving).toContainEqual({secret: 'datastorage-tls', service: 'data-storage-service'});
		expect(certs.signing).toContainEqual(expect.objectContaining({secret: 'datastorage-signing', commonName: 'datastorage-signing'}));
		// The Service the serving certificate is for is the one the Gateway calls.
		expect(find(ds, 'Service', 'data-storage-service')).toBeTruthy();
		expect(step(kubernaut, 'datastorage').after).toContain('certificates');
	});

	it('seeds the 11 ActionTypes with the status AuthWebhook would write, after DataStorage and before the Gateway', () => {
		const seeded = rendered('manifests/kubernaut-gateway/action-types.yaml', 'kubernaut-system');
		expect(seeded).toHaveLength(11);
		for (const a of seeded) {
			expect(a).toMatchObject({apiVersion: 'kubernaut.ai/v1alpha1', kind: 'ActionType', metadata: {namespace: 'kubernaut-system'}});
			const spec = (a as Record<string, any>).spec;
			expect(spec.name).toMatch(/^[A-Z][A-Za-z0-9]*$/);
			expect(spec.description.what && spec.description.whenToUse).toBeTruthy();
		}
		expect(new Set(seeded.map((a) => (a as Record<string, any>).spec.name)).size).toBe(11);
		const s = step(kubernaut, 'action-types');
		expect(s.setStatus).toEqual({kind: 'ActionType', status: {registered: true, catalogStatus: 'Active', registeredBy: 'kdoctor'}});
		expect(s.after).toContain('datastorage');
		expect(step(kubernaut, 'gateway').after).toContain('action-types');
	});

	it('builds with GOARCH set to the CPU built for, as BuildImageForKind passes runtime.GOARCH', () => {
		for (const name of ['gateway', 'datastorage']) {
			const img = kubernaut.images.find((i) => i.name === name)!;
			expect(expandBuildArgs(img.buildArgs, 'arm64', img.platform)).toMatchObject({GOARCH: 'arm64'});
			expect(expandBuildArgs(img.buildArgs, 'arm64', 'linux/amd64')).toMatchObject({GOARCH: 'amd64'});
		}
	});

	it('goose’s NO TRANSACTION marker, above Up, reaches the Job that looks for it', () => {
		const sql = '-- +goose NO TRANSACTION\n-- +goose Up\nCREATE INDEX CONCURRENTLY i ON t (c);\n-- +goose Down\nDROP INDEX i;\n';
		const up = gooseUp(sql);
		expect(up).toBe('-- +goose NO TRANSACTION\nCREATE INDEX CONCURRENTLY i ON t (c);\n');
		const job = readFileSync(join(root, 'manifests/kubernaut-gateway/migrations.yaml'), 'utf8');
		expect(job).toContain("grep -q '+goose NO TRANSACTION'");
		expect(up).toContain('+goose NO TRANSACTION');
		expect(gooseUp('-- +goose Up\nSELECT 1;\n')).toBe('SELECT 1;\n');
	});
});

describe('the demo has the same TLS and signing shape, so the path runs for real wherever the demo runs', () => {
	const ds = rendered('manifests/demo/datastorage.yaml', 'kdoctor-demo');
	const gw = rendered('manifests/demo/gateway.yaml', 'kdoctor-demo');

	it('DataStorage serves its API with datastorage-tls and needs datastorage-signing; the Gateway trusts the CA', () => {
		const config = JSON.parse(String(find(ds, 'ConfigMap', 'datastorage-config').data['config.json'])) as Record<string, any>;
		expect(config.server).toMatchObject({signerCertDir: '/etc/signing-certs', tls: {certDir: '/etc/tls'}});
		const vols = podSpec(find(ds, 'Deployment', 'datastorage')).volumes;
		expect(vols.find((v) => v.name === 'signing-certs').secret).toEqual({secretName: 'datastorage-signing'});
		const gspec = podSpec(find(gw, 'Deployment', 'gateway'));
		expect(gspec.volumes.find((v) => v.name === 'tls-ca').configMap).toEqual({name: 'inter-service-ca'});
		const gconfig = JSON.parse(String(find(gw, 'ConfigMap', 'gateway-config').data['config.json'])) as Record<string, any>;
		expect(gconfig.datastorage.healthUrl).toMatch(/^https:\/\/data-storage-service\.kdoctor-demo\.svc\.cluster\.local:8080\//);
		expect(step(demo, 'certificates').certificates!.serving).toContainEqual({secret: 'datastorage-tls', service: 'data-storage-service'});
		expect(step(demo, 'datastorage').after).toContain('certificates');
	});
});
