/**
 * CertPort over openssl's argv (OpenSSL or macOS's LibreSSL: only subcommands and options both have) and node's
 * X509Certificate for reading. Keys live in a private temporary folder for the moment openssl needs them.
 */
import {X509Certificate, createPrivateKey, randomBytes} from 'node:crypto';
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import type {CertFacts, CertPort, ExecPort, PemPair} from '../core/provision/ports.js';
import {reasonLine} from './exec.js';

const EXTENSIONS = `[req]
distinguished_name = dn
[dn]
[ca]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[serving]
basicConstraints = CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = @alt
[signing]
basicConstraints = CA:false
keyUsage = digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost
`;

/** A subject for openssl's -subj: `/` and `\\` would start a new attribute, so they are refused, not escaped. */
function subject(parts: [string, string | undefined][]): string {
	return parts
		.filter(([, v]) => v !== undefined)
		.map(([k, v]) => {
			if (/[/\\\n\r=+]/.test(v!)) throw new Error(`a certificate name may not contain / \\ = + or a line break: ${JSON.stringify(v)}`);
			return `/${k}=${v}`;
		})
		.join('');
}

export function createCerts(exec: ExecPort): CertPort {
	async function withDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
		// mkdtemp makes the folder 0700: the key is never readable by another user, and it is gone when openssl is done.
		const dir = mkdtempSync(join(tmpdir(), 'kdoctor-certs-'));
		try {
			return await fn(dir);
		} finally {
			rmSync(dir, {recursive: true, force: true});
		}
	}
	async function openssl(args: string[], signal?: AbortSignal): Promise<void> {
		const r = await exec.run({argv: ['openssl', ...args], signal, timeoutMs: 60_000});
		if (r.exitCode !== 0) throw new Error(`openssl ${args[0]} failed: ${reasonLine(r)}`);
	}
	const serial = () =>
		`0x${randomBytes(16)
			.toString('hex')
			.replace(/^[89a-f]/, '7')}`;
	const ecKey = (dir: string, signal?: AbortSignal) =>
		openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', join(dir, 'tls.key')], signal);
	const pair = (dir: string): PemPair => ({
		cert: readFileSync(join(dir, 'tls.crt'), 'utf8'),
		key: readFileSync(join(dir, 'tls.key'), 'utf8'),
	});
	const config = (dir: string, alt = '') => {
		writeFileSync(join(dir, 'openssl.cnf'), `${EXTENSIONS}[alt]\n${alt}`, {mode: 0o600});
		return join(dir, 'openssl.cnf');
	};

	/** A self-signed certificate for dir/tls.key, with the config's section of extensions. */
	const selfSigned = (dir: string, subj: string, days: number, extensions: string, signal?: AbortSignal) =>
		// -set_serial, not the default: two certificates of the same name made a second apart must still differ.
		openssl(
			[
				'req',
				'-x509',
				'-new',
				'-sha256',
				'-key',
				join(dir, 'tls.key'),
				'-subj',
				subj,
				'-days',
				String(days),
				'-set_serial',
				serial(),
				'-config',
				config(dir),
				'-extensions',
				extensions,
				'-out',
				join(dir, 'tls.crt'),
			],
			signal,
		);

	return {
		ca: (commonName, days, signal) =>
			withDir(async (dir) => {
				await ecKey(dir, signal);
				await selfSigned(dir, subject([['CN', commonName]]), days, 'ca', signal);
				return pair(dir);
			}),
		serving: (ca, commonName, dnsNames, ips, days, signal) =>
			withDir(async (dir) => {
				for (const n of dnsNames)
					if (!/^[A-Za-z0-9*.-]+$/.test(n)) throw new Error(`not a DNS name for a certificate: ${JSON.stringify(n)}`);
				for (const n of ips) if (!/^[0-9a-fA-F.:]+$/.test(n)) throw new Error(`not an IP address for a certificate: ${JSON.stringify(n)}`);
				const alt = [...dnsNames.map((n, i) => `DNS.${i + 1} = ${n}`), ...ips.map((n, i) => `IP.${i + 1} = ${n}`)].join('\n');
				writeFileSync(join(dir, 'ca.crt'), ca.cert, {mode: 0o600});
				writeFileSync(join(dir, 'ca.key'), ca.key, {mode: 0o600});
				await ecKey(dir, signal);
				const cnf = config(dir, `${alt}\n`);
				await openssl(
					[
						'req',
						'-new',
						'-sha256',
						'-key',
						join(dir, 'tls.key'),
						'-subj',
						subject([['CN', commonName]]),
						'-config',
						cnf,
						'-out',
						join(dir, 'tls.csr'),
					],
					signal,
				);
				await openssl(
					[
						'x509',
						'-req',
						'-sha256',
						'-in',
						join(dir, 'tls.csr'),
						'-CA',
						join(dir, 'ca.crt'),
						'-CAkey',
						join(dir, 'ca.key'),
						'-set_serial',
						serial(),
						'-days',
						String(days),
						'-extfile',
						cnf,
						'-extensions',
						'serving',
						'-out',
						join(dir, 'tls.crt'),
					],
					signal,
				);
				return pair(dir);
			}),
		signing: (commonName, organization, days, signal) =>
			withDir(async (dir) => {
				await openssl(['genrsa', '-out', join(dir, 'tls.key'), '2048'], signal);
				const subj = subject([
					['O', organization],
					['CN', commonName],
				]);
				await selfSigned(dir, subj, days, 'signing', signal);
				return pair(dir);
			}),
		inspect: (certPem, opts = {}) => inspectCert(certPem, opts),
	};
}

/** What a PEM certificate says, read by node's X.509 parser; undefined when it is not one. */
export function inspectCert(certPem: string, opts: {keyPem?: string; caPem?: string} = {}): CertFacts | undefined {
	let cert: X509Certificate;
	try {
		cert = new X509Certificate(certPem);
	} catch {
		return undefined;
	}
	const names = (cert.subjectAltName ?? '')
		.split(/,\s*/)
		.map((n) => /^(?:DNS|IP Address):(.+)$/.exec(n.trim())?.[1])
		.filter((n): n is string => !!n);
	const details = cert.publicKey.asymmetricKeyDetails;
	const facts: CertFacts = {
		subject: cert.subject.replace(/\n/g, ', '),
		notAfter: new Date(cert.validTo).toISOString(),
		names,
		keyType: cert.publicKey.asymmetricKeyType ?? 'unknown',
		keyBits: details?.modulusLength,
		fingerprint: cert.fingerprint256,
	};
	if (opts.keyPem !== undefined) {
		try {
			facts.keyMatches = cert.checkPrivateKey(createPrivateKey(opts.keyPem));
		} catch {
			facts.keyMatches = false;
		}
	}
	if (opts.caPem !== undefined) {
		try {
			const ca = new X509Certificate(opts.caPem);
			facts.issuedByCa = cert.checkIssued(ca) && cert.verify(ca.publicKey);
		} catch {
			facts.issuedByCa = false;
		}
	}
	return facts;
}
