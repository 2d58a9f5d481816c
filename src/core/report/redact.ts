import {escapeRegExp} from '../text/quote.js';
import {parseAllDocuments} from 'yaml';

/** What stands where a secret was: visible, and not something a tool would mistake for the value. */
export const REDACTED = '‹redacted›';

/** Shorter values are scrubbed only where a key names them: scrubbing "abc" everywhere would eat ordinary words. */
export const MIN_VALUE_LENGTH = 4;

const SECRET_WORDS = new Set([
	'password',
	'passwd',
	'pwd',
	'pass',
	'passphrase',
	'secret',
	'secrets',
	'token',
	'tokens',
	'apikey',
	'credential',
	'credentials',
	'auth',
	'authorization',
	'privatekey',
	'accesskey',
	'secretkey',
	'dsn',
	'cookie',
	'sessionid',
]);
/** Two words that together name a secret, though neither does alone ("key" alone is how Kubernetes names a Secret's key). */
const SECRET_PAIRS = new Set([
	'api key',
	'access key',
	'private key',
	'secret key',
	'client secret',
	'client key',
	'signing key',
	'encryption key',
	'master key',
	'tls key',
	'ssh key',
	'account key',
	'connection string',
]);
/** A last word that makes the name a reference to a secret, not the secret: secretName, tokenPath, passwordFile. */
const REFERENCE_WORDS = new Set([
	'name',
	'names',
	'ref',
	'refs',
	'keyref',
	'file',
	'files',
	'path',
	'paths',
	'dir',
	'mount',
	'mountpath',
	'type',
	'kind',
	'id',
	'ids',
	'length',
	'len',
	'ttl',
	'expiry',
	'expires',
	'expiration',
	'url',
	'uri',
	'endpoint',
	'method',
	'mode',
	'header',
	'source',
	'enabled',
	'required',
	'namespace',
	'version',
	'count',
	'policy',
	'provider',
	'format',
	'size',
	'hash',
	'required',
	'optional',
]);
/** Keys of a Secret's data that hold no secret: the user name in a login failure must stay readable. */
const PLAIN_DATA_WORDS = new Set([
	'user',
	'username',
	'login',
	'host',
	'hostname',
	'port',
	'db',
	'database',
	'dbname',
	'name',
	'namespace',
	'ca',
	'crt',
	'cert',
	'certificate',
	'pub',
	'public',
	'sslmode',
	'schema',
	'region',
]);

/** The words of a name, lower case: DB_PASSWORD, dbPassword and db-password all give [db, password]. */
function words(name: string): string[] {
	return name
		.replace(/([a-z0-9])([A-Z])/g, '$1 $2')
		.replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
		.toLowerCase()
		.split(/[^a-z0-9]+/)
		.filter(Boolean);
}

/** Whether a variable, key, header or flag name says its value is a secret (PWD and OLDPWD are folders). */
export function isSecretName(name: string): boolean {
	const bare = name.replace(/^-+/, '');
	if (bare === 'PWD' || bare === 'OLDPWD') return false;
	const w = words(bare);
	if (w.length === 0 || REFERENCE_WORDS.has(w[w.length - 1]!)) return false;
	if (w.some((x) => SECRET_WORDS.has(x))) return true;
	for (let i = 0; i + 1 < w.length; i++) if (SECRET_PAIRS.has(`${w[i]} ${w[i + 1]}`)) return true;
	return /^[A-Z][A-Z0-9_]*_KEY$/.test(bare);
}

/** A value that hides nothing: empty, already redacted, a reference to a variable, a mask, a YAML block start. */
function isPlaceholder(v: string): boolean {
	const t = v.trim();
	return (
		t === '' ||
		t.includes(REDACTED) ||
		/^\$\{?[\w.]+\}?$/.test(t) ||
		/^\$\(.*\)$/.test(t) ||
		/^\*+$/.test(t) ||
		/^<[^>]*>$/.test(t) ||
		/^(null|~|true|false)$/i.test(t) ||
		/^[|>][-+]?\d*$/.test(t) ||
		t === '{' ||
		t === '['
	);
}

function unquote(v: string): string {
	const m = /^\\?(["'])([^]*?)\\?\1$/.exec(v);
	return m ? m[2]! : v;
}

type Rule = {re: RegExp; replace: (m: RegExpExecArray, found: (value: string) => void) => string | undefined};

const NAME = String.raw`[A-Za-z_][\w.-]*`;
const QUOTED = String.raw`"(?:[^"\\\n]|\\.)*"|'[^'\n]*'|\\"(?:[^"\\\n]|\\[^"])*\\"`;
/** Headers whose value starts with a scheme word that is not itself the secret. */
const SCHEME = /^(Bearer|Basic|Token|Digest|Negotiate|Bot)$/i;

/**
 * The rules, in order; each returns the new text of its match (undefined: leave it). `found` is told each secret
 * value, so the same value is scrubbed wherever else it appears.
 */
const RULES: Rule[] = [
	// PEM private keys, whole blocks (a truncated one to the end of the text).
	{
		re: /-----BEGIN ([A-Z0-9 ]*?)PRIVATE KEY-----[^]*?(?:-----END \1PRIVATE KEY-----|$(?![^]))/g,
		replace: (m, found) => {
			for (const line of m[0].split('\n').slice(1, -1)) if (line.trim().length >= 16) found(line.trim());
			return `-----BEGIN ${m[1]}PRIVATE KEY-----${REDACTED}-----END ${m[1]}PRIVATE KEY-----`;
		},
	},
	// A YAML block scalar under a secret key: every more-indented line after it.
	{
		re: new RegExp(
			String.raw`^([ \t]*)((?:- )?)(["']?)(${NAME})\3:[ \t]*[|>][-+]?\d*[ \t]*\n((?:(?:\1[ \t]+.*|[ \t]*)(?:\n|$(?![^])))+)`,
			'gm',
		),
		replace: (m, found) => {
			if (!isSecretName(m[4]!)) return undefined;
			const raw = m[5]!;
			const body = raw.replace(/\n+$/, '');
			const indent = /^[ \t]*/.exec(body)![0];
			if (!body.trim()) return undefined;
			found(
				body
					.split('\n')
					.map((l) => l.slice(indent.length))
					.join('\n'),
			);
			for (const l of body.split('\n')) if (/^\S{16,}$/.test(l.trim())) found(l.trim());
			return `${m[0].slice(0, m[0].length - raw.length)}${indent}${REDACTED}${raw.slice(body.length)}`;
		},
	},
	// An env entry given as name and value: `- name: DB_PASSWORD` / `  value: x`, {name: X, value: y}, {"name":"X","value":"y"}.
	{
		re: new RegExp(
			String.raw`(\\?["']?name\\?["']?:[ \t]*\\?["']?)(${NAME})` +
				String.raw`(\\?["']?[ \t]*,?[ \t]*(?:\n[ \t]*)?\\?["']?value\\?["']?:[ \t]*)(${QUOTED}|[^\s,}\]"']+)`,
			'g',
		),
		replace: (m, found) => {
			const value = unquote(m[4]!);
			if (!isSecretName(m[2]!) || isPlaceholder(value)) return undefined;
			found(value);
			return (
				`${m[1]}${m[2]}${m[3]}` +
				`${m[4]!.startsWith('"') || m[4]!.startsWith('\\"') || m[4]!.startsWith("'") ? quoteLike(m[4]!, REDACTED) : REDACTED}`
			);
		},
	},
	// A flag: --password x, --db-password=x, --token "x".
	{
		re: new RegExp(String.raw`(?<![\w-])(--?[A-Za-z][\w-]*)(=|[ \t]+)(${QUOTED}|(?!-)[^\s"']+)`, 'g'),
		replace: (m, found) => {
			const value = unquote(m[3]!);
			if (!isSecretName(m[1]!) || isPlaceholder(value) || (m[2] !== '=' && SCHEME.test(value))) return undefined;
			found(value);
			return `${m[1]}${m[2]}${REDACTED}`;
		},
	},
	// An assignment: DB_PASSWORD=x, password = "x", ?token=x&, export API_KEY='x'.
	{
		re: new RegExp(String.raw`(?<![\w.\/-])(\\?["']?)(${NAME})\1([ \t]*=[ \t]*)(${QUOTED}|[^\s"'&;,)}\]]+)`, 'g'),
		replace: (m, found) => {
			const value = unquote(m[4]!);
			if (!isSecretName(m[2]!) || isPlaceholder(value) || SCHEME.test(value)) return undefined;
			found(value);
			return `${m[1]}${m[2]}${m[1]}${m[3]}${/^\\?["']/.test(m[4]!) ? quoteLike(m[4]!, REDACTED) : REDACTED}`;
		},
	},
	// A key and its value: `password: x` (YAML), "token": "x" (JSON), X-Auth-Token: x (a header). Mid-line prose
	// ("could not get token: connection refused") is left alone; a quoted key or a line that starts with the key is not prose.
	{
		re: new RegExp(
			String.raw`(^[ \t]*(?:- )?|[{,;(\[][ \t]*|(?<![\w.-]))(\\?["']?)(${NAME})\2:([ \t]*)(${QUOTED}|[^\s,}\]"']+(?:[ \t]+[^\s,}\]"']+)*)`,
			'gm',
		),
		replace: (m, found) => {
			const [, lead, quote, name, space, raw] = m as unknown as string[];
			if (!isSecretName(name!)) return undefined;
			const quotedValue = /^\\?["']/.test(raw!);
			const lineStart = /^[ \t]*(?:- )?$/.test(lead!) && (m.index === 0 || m.input[m.index - 1] === '\n');
			const structured = lineStart || quote !== '' || /[{,;(\[]/.test(lead!);
			// Unquoted: a YAML value runs to the end of the line; elsewhere it is one word.
			let value = quotedValue ? raw! : structured ? raw!.replace(/[ \t]+#.*$/, '') : raw!.split(/[ \t]/)[0]!;
			const rest = raw!.slice(value.length);
			if (SCHEME.test(value.split(/[ \t]/)[0]!)) return undefined;
			const bare = unquote(value);
			if (isPlaceholder(bare)) return undefined;
			if (!structured && /^[a-z]{2,}$/.test(bare) && /^[ \t]+[A-Za-z]/.test(rest)) return undefined;
			found(bare);
			value = quotedValue ? quoteLike(value, REDACTED) : REDACTED;
			return `${lead}${quote}${name}${quote}:${space}${value}${rest}`;
		},
	},
	// The credential after an auth scheme, wherever it appears: Authorization: Bearer x, curl -H 'Authorization: Basic x'.
	{
		re: /\b(Bearer|Basic|Token)([ \t]+)([A-Za-z0-9._~+\/=-]{8,})/g,
		replace: (m, found) => {
			if (/^[a-z]+$/.test(m[3]!) && m[1] !== 'Bearer') return undefined;
			found(m[3]!);
			return `${m[1]}${m[2]}${REDACTED}`;
		},
	},
	// A URL's password: postgres://user:pass@host/db.
	{
		re: /\b([a-z][a-z0-9+.-]*:\/\/[^\s:@\/]*:)([^\s@\/]+)(@)/gi,
		replace: (m, found) => {
			if (isPlaceholder(m[2]!)) return undefined;
			found(decodeURIComponentSafe(m[2]!));
			found(m[2]!);
			return `${m[1]}${REDACTED}${m[3]}`;
		},
	},
	// A Go-style DSN: user:pass@tcp(host:3306)/db.
	{
		re: /\b([\w.-]+:)([^\s@\/:]+)(@(?:tcp|unix)\()/g,
		replace: (m, found) => {
			found(m[2]!);
			return `${m[1]}${REDACTED}${m[3]}`;
		},
	},
	// Tokens that say what they are by their shape: JWTs, GitHub and GitLab tokens, AWS access key ids, Slack tokens.
	{
		re: new RegExp(
			[
				String.raw`\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}`,
				String.raw`\bgh[pousr]_[A-Za-z0-9]{30,}\b`,
				String.raw`\bglpat-[A-Za-z0-9_-]{20,}\b`,
				String.raw`\bAKIA[0-9A-Z]{16}\b`,
				String.raw`\bxox[abprs]-[A-Za-z0-9-]{10,}`,
			].join('|'),
			'g',
		),
		replace: (m, found) => {
			found(m[0]);
			return REDACTED;
		},
	},
];

function decodeURIComponentSafe(s: string): string {
	try {
		return decodeURIComponent(s);
	} catch {
		return s;
	}
}

/** The placeholder, quoted the way the value was. */
function quoteLike(raw: string, inner: string): string {
	const q = /^(\\?["'])/.exec(raw)![1]!;
	return `${q}${inner}${q}`;
}

/** Applies the key rules; returns the text and how many values they replaced. */
export function redactByKey(text: string, found: (value: string) => void = () => {}): {text: string; count: number} {
	let count = 0;
	let out = text;
	for (const rule of RULES) {
		out = out.replace(rule.re, (...args) => {
			const groups = args.slice(0, -2) as string[];
			const index = args[args.length - 2] as number;
			const input = args[args.length - 1] as string;
			const m = Object.assign(groups, {index, input}) as unknown as RegExpExecArray;
			const r = rule.replace(m, found);
			if (r === undefined) return groups[0]!;
			count++;
			return r;
		});
	}
	return {text: out, count};
}

function base64(s: string): string {
	return Buffer.from(s, 'utf8').toString('base64');
}

/**
 * A redactor for one report: it knows the run's secret values (its Secrets, its secret-named variables) and
 * scrubs them wherever they appear, after the key rules. It counts what it replaced, never what it was.
 */
export class Redactor {
	private readonly values = new Set<string>();
	private pattern: RegExp | undefined;
	private replaced = 0;

	constructor(values: Iterable<string> = []) {
		for (const v of values) this.add(v);
	}

	/**
	 * A secret value: scrubbed verbatim (and as base64) wherever it appears, when it is long enough to be told apart.
	 * A value a key rule found in free text may be a word of prose the rule misread ("token: expired"): a single
	 * plain word from there is redacted where it was named but not hunted everywhere.
	 */
	add(value: string, from: 'document' | 'text' = 'document'): void {
		const v = value.trim();
		if (v.length < MIN_VALUE_LENGTH || isPlaceholder(v)) return;
		if (from === 'text' && /^[A-Za-z]{1,15}$/.test(v)) return;
		for (const x of [v, base64(v), base64(v).replace(/=+$/, '')]) {
			if (x.length < MIN_VALUE_LENGTH || this.values.has(x)) continue;
			this.values.add(x);
			this.pattern = undefined;
		}
	}

	/** Learns the values the key rules find in a text, without keeping the text: run over all material first. */
	learn(text: string): void {
		redactByKey(text, (v) => this.add(v, 'text'));
	}

	/** The redacted text: key rules first, then every known value. */
	text(text: string): string {
		const r = redactByKey(text, (v) => this.add(v, 'text'));
		this.replaced += r.count;
		return this.scrub(r.text);
	}

	/** Only the known values, for text kdoctor wrote itself (a finished report), where the key rules would misread prose. */
	scrub(text: string): string {
		if (this.values.size === 0) return text;
		this.pattern ??= new RegExp(
			[...this.values]
				.sort((a, b) => b.length - a.length)
				.map(escapeRegExp)
				.join('|'),
			'g',
		);
		return text.replace(this.pattern, () => {
			this.replaced++;
			return REDACTED;
		});
	}

	/** A value secret by where it sits (the value of a secret-named variable a fix set): learned, and replaced here. */
	hide(value: string): string {
		this.add(value);
		this.replaced++;
		return REDACTED;
	}

	/** How many values were replaced so far. */
	get count(): number {
		return this.replaced;
	}

	/** How many distinct values it knows (counting each value's base64 forms). */
	get known(): number {
		return this.values.size;
	}
}

/**
 * Every secret value in YAML or JSON documents (manifests, a bundle's objects, run.json): a Secret's data
 * (base64-decoded) and stringData, except keys that name a user, host or database; any value under a
 * secret-named key; the value of an env entry whose name is secret-named. Nothing for text that does not parse:
 * `Redactor.learn` reads that.
 */
export function secretValuesInDocuments(text: string): string[] {
	const out: string[] = [];
	try {
		for (const d of parseAllDocuments(text, {uniqueKeys: false}) as ReturnType<typeof parseAllDocuments> & unknown[]) {
			if (d.errors.length === 0) walk(d.toJS({maxAliasCount: 100}) as unknown, out, 0);
		}
	} catch {
		/* not YAML */
	}
	return out;
}

function secretValuesByKey(text: string): string[] {
	const out: string[] = [];
	redactByKey(text, (v) => out.push(v));
	return out;
}

function scalar(v: unknown): string | undefined {
	return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'bigint' ? String(v) : undefined;
}

function walk(node: unknown, out: string[], depth: number): void {
	if (depth > 64 || node === null || typeof node !== 'object') {
		// A JSON document inside a string (last-applied-configuration, a config file in a ConfigMap) is read too.
		if (typeof node === 'string' && /^\s*[{[]/.test(node) && node.length < 1_000_000) {
			try {
				walk(JSON.parse(node), out, depth + 1);
			} catch {
				/* not JSON */
			}
		}
		return;
	}
	if (Array.isArray(node)) {
		for (const x of node) walk(x, out, depth + 1);
		return;
	}
	const o = node as Record<string, unknown>;
	if (o.kind === 'Secret') {
		for (const [k, v] of Object.entries((o.data as Record<string, unknown>) ?? {})) {
			const s = scalar(v);
			if (s === undefined) continue;
			const decoded = Buffer.from(s, 'base64').toString('utf8');
			if (secretDataKey(k)) {
				out.push(s);
				secretDataValue(decoded, out, depth);
			}
		}
		for (const [k, v] of Object.entries((o.stringData as Record<string, unknown>) ?? {})) {
			const s = scalar(v);
			if (s !== undefined && secretDataKey(k)) secretDataValue(s, out, depth);
		}
	}
	const name = scalar(o.name);
	const value = scalar(o.value);
	if (name && value !== undefined && isSecretName(name)) out.push(value);
	for (const [k, v] of Object.entries(o)) {
		const s = scalar(v);
		if (s !== undefined && isSecretName(k)) out.push(s);
		else walk(v, out, depth + 1);
	}
}

function secretDataKey(key: string): boolean {
	const w = words(key);
	return isSecretName(key) || !w.some((x) => PLAIN_DATA_WORDS.has(x));
}

/** A Secret's value: itself when one line; a file in it (YAML, JSON, .env) by its secret-named keys, or line by line. */
function secretDataValue(value: string, out: string[], depth: number): void {
	if (!value.includes('\n')) {
		out.push(value);
		return;
	}
	let structured = false;
	try {
		const doc = parseAllDocuments(value);
		const docs = Array.isArray(doc) ? doc : [doc];
		for (const d of docs) {
			const js = d.errors.length === 0 ? (d.toJS() as unknown) : undefined;
			if (js && typeof js === 'object') {
				structured = true;
				walk(js, out, depth + 1);
			}
		}
	} catch {
		/* not YAML */
	}
	const byKey = secretValuesByKey(value);
	out.push(...byKey);
	if (!structured && byKey.length === 0) {
		out.push(value);
		for (const line of value.split('\n')) if (line.trim()) out.push(line.trim());
	}
}

/** Values of secret-named variables in an environment (the process's, a run's). */
export function secretValuesInEnv(env: Record<string, string | undefined>): string[] {
	return Object.entries(env)
		.filter(([k, v]) => v !== undefined && isSecretName(k))
		.map(([, v]) => v!);
}
