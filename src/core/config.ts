import {parse} from 'yaml';
import {z} from 'zod';
import {ProfilesSchema} from './provision/profile.js';

export const ConfigSchema = z.strictObject({
	policy: z
		.strictObject({
			/** Registries (prefixes) base images may come from; Kubernaut's ADR-028 allows Red Hat's. */
			allowedBaseRegistries: z.array(z.string().min(1)).optional(),
		})
		.default({}),
	/** Provisioning profiles for `kdoctor up`; they add to (or replace, by name) the built-in ones. */
	profiles: ProfilesSchema.optional(),
});
export type Config = z.infer<typeof ConfigSchema>;

/** Parses kdoctor.yaml; problems come back as one readable line each. */
export function parseConfig(text: string, path: string): Config {
	let raw: unknown;
	try {
		raw = parse(text) ?? {};
	} catch (error) {
		throw new Error(`${path}: not valid YAML (${(error as Error).message.split('\n')[0]})`);
	}
	const r = ConfigSchema.safeParse(raw);
	if (!r.success) throw new Error(`${path}: ${r.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ')}`);
	return r.data;
}

/** KB settings the config overrides. */
export function kbOverrides(config: Config): Record<string, string[]> {
	const out: Record<string, string[]> = {};
	if (config.policy.allowedBaseRegistries) out.allowedBaseRegistries = config.policy.allowedBaseRegistries;
	return out;
}
