import {describe, expect, it} from 'vitest';
import {isSecretName, REDACTED, redactByKey, Redactor, secretValuesInDocuments, secretValuesInEnv} from '../../src/core/report/redact.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const key = (text: string) => redactByKey(text).text;

describe('names that say their value is a secret', () => {
	it.each([
		'POSTGRES_PASSWORD',
		'password',
		'db_passwd',
		'DB_PWD',
		'dbPassword',
		'x-auth-token',
		'Authorization',
		'GITHUB_TOKEN',
		'api_key',
		'apiKey',
		'API-KEY',
		'AWS_SECRET_ACCESS_KEY',
		'private_key',
		'client_secret',
		'clientSecret',
		'client-key-data',
		'tls.key',
		'STRIPE_KEY',
		'credentials',
		'DATABASE_DSN',
		'auth',
		'session_token',
		'passphrase',
	])('%s is secret', (n) => expect(isSecretName(n)).toBe(true));
	it.each([
		'PWD',
		'OLDPWD',
		'author',
		'authentication',
		'username',
		'user',
		'key',
		'secretName',
		'secretRef',
		'secretKeyRef',
		'secretsFile',
		'tokenPath',
		'password_file',
		'POSTGRES_USER',
		'POSTGRES_DB',
		'keyboard',
		'monkey',
		'tokenizer',
		'host',
		'SECRET_NAME',
		'auth_url',
		'hashKey',
	])('%s is not', (n) => expect(isSecretName(n)).toBe(false));
});

describe('redaction by key', () => {
	it.each([
		['POSTGRES_PASSWORD=hunter22 psql -h db', `POSTGRES_PASSWORD=${REDACTED} psql -h db`],
		['export API_KEY="sk-live-12345"', `export API_KEY="${REDACTED}"`],
		["export GITHUB_TOKEN='ghx_abcdef'", `export GITHUB_TOKEN='${REDACTED}'`],
		['DB_PASSWORD = s3cr3t', `DB_PASSWORD = ${REDACTED}`],
		['password: hunter2', `password: ${REDACTED}`],
		['    password: "a b c"  # set by CI', `    password: "${REDACTED}"  # set by CI`],
		['  - password: x7', `  - password: ${REDACTED}`],
		['{"token": "abc123def", "user": "bob"}', `{"token": "${REDACTED}", "user": "bob"}`],
		['{"auth":"dXNlcjpwYXNz"}', `{"auth":"${REDACTED}"}`],
		['--password hunter2 --profile demo', `--password ${REDACTED} --profile demo`],
		['psql --password=hunter2 -U slm_user', `psql --password=${REDACTED} -U slm_user`],
		[
			'kubectl create secret generic s --from-literal=password=abc123',
			`kubectl create secret generic s --from-literal=password=${REDACTED}`,
		],
		['curl -H "Authorization: Bearer eyJhbGciOi.xyz123456"', `curl -H "Authorization: Bearer ${REDACTED}"`],
		['Authorization: Basic dXNlcjpwYXNzd29yZA==', `Authorization: Basic ${REDACTED}`],
		['X-Auth-Token: 0123456789abcdef', `X-Auth-Token: ${REDACTED}`],
		['GET /api?token=abc123&page=2 HTTP/1.1', `GET /api?token=${REDACTED}&page=2 HTTP/1.1`],
		['dsn: postgres://slm_user:s3cret@postgresql:5432/action_history?sslmode=disable', `dsn: ${REDACTED}`],
		['connecting to postgres://slm_user:s3cret@postgresql:5432/db', `connecting to postgres://slm_user:${REDACTED}@postgresql:5432/db`],
		['redis://:hunter2@redis:6379/0', `redis://:${REDACTED}@redis:6379/0`],
		['open slm_user:s3cret@tcp(mysql:3306)/db', `open slm_user:${REDACTED}@tcp(mysql:3306)/db`],
		[
			'host=postgresql port=5432 user=slm_user password=test_password dbname=action_history',
			`host=postgresql port=5432 user=slm_user password=${REDACTED} dbname=action_history`,
		],
		['client-key-data: LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQo=', `client-key-data: ${REDACTED}`],
		['    token: eyJhbGciOiJSUzI1NiIsImtpZCI6IiJ9.eyJpc3MiOiJrdWJlcm5ldGVzIn0.c2lnbmF0dXJlMTIz', `    token: ${REDACTED}`],
		[
			'time=12:00 level=info msg="logged in" jwt=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abcdefghijklm',
			`time=12:00 level=info msg="logged in" jwt=${REDACTED}`,
		],
	])('%s', (input, expected) => expect(key(input)).toBe(expected));

	it('replaces an env entry given as name and value, in block, flow and JSON form', () => {
		expect(key('env:\n  - name: DB_PASSWORD\n    value: sup3rs3cret\n  - name: DB_USER\n    value: slm_user\n')).toBe(
			`env:\n  - name: DB_PASSWORD\n    value: ${REDACTED}\n  - name: DB_USER\n    value: slm_user\n`,
		);
		expect(key('env: [{name: API_TOKEN, value: tok-999}, {name: LOG_LEVEL, value: debug}]')).toBe(
			`env: [{name: API_TOKEN, value: ${REDACTED}}, {name: LOG_LEVEL, value: debug}]`,
		);
		expect(key('"env":[{"name":"REDIS_PASSWORD","value":"r3d1s"},{"name":"PORT","value":"8080"}]')).toBe(
			`"env":[{"name":"REDIS_PASSWORD","value":"${REDACTED}"},{"name":"PORT","value":"8080"}]`,
		);
	});

	it('replaces a block scalar under a secret key, and nothing after it', () => {
		const yaml = 'stringData:\n  db-secrets.yaml: |\n    username: slm_user\n    password: test_password\n  other: kept\n';
		expect(key(yaml)).toBe(`stringData:\n  db-secrets.yaml: |\n    ${REDACTED}\n  other: kept\n`);
	});

	it('replaces whole PEM private keys, a truncated one to the end', () => {
		const pem =
			'-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAxyz1234567890abcdef\nZmFrZSBrZXkgbWF0ZXJpYWw=\n-----END RSA PRIVATE KEY-----';
		expect(key(`before\n${pem}\nafter`)).toBe(`before\n-----BEGIN RSA PRIVATE KEY-----${REDACTED}-----END RSA PRIVATE KEY-----\nafter`);
		expect(key('-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC')).not.toContain('MIIEvQ');
		// A certificate is public.
		expect(key('-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----')).toContain('MIIBszCCAVmgAwIBAgIU');
	});

	it.each([
		'FATAL:  password authentication failed for user "slm_user"',
		'pq: password authentication failed for user "slm_user"',
		'2026-03-12T09:45:01Z ERROR datastorage failed to connect: pq: password authentication failed for user "slm_user"',
		'rate limiter: token bucket empty, retrying in 2s',
		'could not get token: connection refused',
		'MountVolume.SetUp failed for volume "secrets" : secret "datastorage-db-secret" not found',
		'secretName: postgresql-secret',
		'"secretsFile": "/etc/datastorage/secrets/db-secrets.yaml"',
		'- {key: db-secrets.yaml, path: db-secrets.yaml}',
		'valueFrom: {secretKeyRef: {name: postgresql-secret, key: POSTGRES_PASSWORD}}',
		'password: ""',
		'password: ${POSTGRES_PASSWORD}',
		'PWD=/work/main',
		'image: localhost/kdoctor-demo/gateway:kd-bd43e5c85ed0@sha256:3489c7674813ba5d8b1a9977baea8a6e553784dab7b84759d1014dbd78f7ebd5',
		'the author: Jane Doe',
		'Bearer tokens are rejected',
		'listen tcp4 :23180: bind: address already in use (held by pid 32405, python3)',
	])('leaves ordinary text alone: %s', (line) => {
		const r = redactByKey(line);
		expect(r.text).toBe(line);
		expect(r.count).toBe(0);
	});
});

describe('redaction by value', () => {
	const secret = `apiVersion: v1
kind: Secret
metadata:
  name: postgresql-secret
type: Opaque
stringData:
  POSTGRES_USER: slm_user
  POSTGRES_PASSWORD: test_password
  POSTGRES_DB: action_history
  db-secrets.yaml: |
    username: slm_user
    password: not_the_password
data:
  api-token: ${b64('tk-9f8e7d6c5b4a')}
  pin: ${b64('123')}
---
apiVersion: apps/v1
kind: Deployment
spec:
  template:
    spec:
      containers:
        - name: app
          env:
            - {name: SMTP_PASSWORD, value: m41l-p4ss}
            - {name: LOG_LEVEL, value: debug}
`;
	const values = secretValuesInDocuments(secret);

	it("collects a Secret's values (stringData, base64 data, the password inside a file) and secret-named env values, not user names or database names", () => {
		expect(values).toEqual(expect.arrayContaining(['test_password', 'not_the_password', 'tk-9f8e7d6c5b4a', 'm41l-p4ss']));
		expect(values).not.toContain('slm_user');
		expect(values).not.toContain('action_history');
		expect(values).not.toContain('debug');
	});

	it('scrubs those values anywhere, inside long lines, as text and as base64', () => {
		const r = new Redactor(values);
		const longLine = `${'x'.repeat(3000)} connecting with test_password to db action_history as slm_user ${'y'.repeat(3000)}`;
		const out = r.text(longLine);
		expect(out).not.toContain('test_password');
		expect(out).toContain(`with ${REDACTED} to db action_history as slm_user`);
		expect(r.text(`secret data: ${b64('not_the_password')} and ${b64('tk-9f8e7d6c5b4a')}`)).toBe(
			`secret data: ${REDACTED} and ${REDACTED}`,
		);
		expect(r.text('header X-Token-Echo tk-9f8e7d6c5b4a; mail m41l-p4ss')).toBe(`header X-Token-Echo ${REDACTED}; mail ${REDACTED}`);
		// The user name and the database stay readable, so the hand-off still says who could not log in.
		expect(r.text('FATAL: password authentication failed for user "slm_user"')).toBe(
			'FATAL: password authentication failed for user "slm_user"',
		);
		expect(r.count).toBe(5);
	});

	it('does not scrub values shorter than four characters by value (too many false hits), but does by key', () => {
		const r = new Redactor(values);
		expect(r.text('retry 123 of 500')).toBe('retry 123 of 500');
		expect(r.text('pin 123 rejected; password: 123')).toBe(`pin 123 rejected; password: ${REDACTED}`);
		expect(r.known).toBeGreaterThan(0);
	});

	it('learns values the key rules find in one text and scrubs them in another', () => {
		const r = new Redactor();
		r.learn('2026-03-12 starting with DB_PASSWORD=Zq8-hunter-2 from the environment');
		expect(r.text('connection string built: host=db pw Zq8-hunter-2')).toBe(`connection string built: host=db pw ${REDACTED}`);
		// A single plain word a key rule found in prose is redacted there but not hunted everywhere.
		r.learn('auth: expired');
		expect(r.text('the session expired')).toBe('the session expired');
	});

	it('takes secret-named variables of an environment', () => {
		expect(secretValuesInEnv({GITHUB_TOKEN: 'ghx-1234567', HOME: '/root', PWD: '/work', NPM_CONFIG_AUTH: 'abc'})).toEqual([
			'ghx-1234567',
			'abc',
		]);
	});

	it('reads a Secret in a kubectl List, JSON and a JSON document inside an annotation', () => {
		const list = JSON.stringify({
			kind: 'List',
			items: [
				{kind: 'Secret', data: {REDIS_PASSWORD: b64('r3d1s-pa55')}},
				{
					kind: 'Deployment',
					metadata: {
						annotations: {
							'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify({
								spec: {containers: [{env: [{name: 'JWT_SECRET', value: 'jwt-s3cr3t-v4lue'}]}]},
							}),
						},
					},
				},
			],
		});
		expect(secretValuesInDocuments(list)).toEqual(expect.arrayContaining(['r3d1s-pa55', 'jwt-s3cr3t-v4lue']));
	});

	it('finds nothing in text that is not YAML, and does not throw', () => {
		expect(secretValuesInDocuments('{{{ not: [yaml')).toEqual([]);
		expect(secretValuesInDocuments('\u0000\u0001binary')).toEqual([]);
	});
});
