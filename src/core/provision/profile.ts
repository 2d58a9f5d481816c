import {z} from 'zod';

/** An image the flow builds (Dockerfile) or preloads (an external reference pulled once and imported). */
export const ImageSchema = z
	.strictObject({
		/** Key manifests use: `${image:gateway}` becomes the exact reference the node holds. */
		name: z.string().regex(/^[a-z][a-z0-9-]*$/),
		/** Repository without registry or tag; podman stores it as localhost/<repository>:<tag>. */
		repository: z
			.string()
			.regex(/^[a-z0-9][a-z0-9._/-]*$/)
			.optional(),
		dockerfile: z.string().min(1).optional(),
		/** Build context, relative to the profile's source folder. */
		context: z.string().min(1).optional(),
		/** `${arch}` in a value is the CPU the image is built for (Kubernaut passes GOARCH so, never an empty TARGETARCH). */
		buildArgs: z.record(z.string(), z.string()).default({}),
		/** `linux/amd64` etc.; unset means the engine's native platform (never emulation by accident). */
		platform: z.string().optional(),
		/** Peak memory to assume the first time, MiB (later runs use what was measured). */
		memoryMiB: z.number().int().positive().optional(),
		/** An external image (postgres, redis) to pull once and import, instead of building. */
		pull: z.string().min(1).optional(),
	})
	.refine((i) => (i.pull ? !i.dockerfile && !i.context : !!i.dockerfile && !!i.context && !!i.repository), {
		message: 'an image has either `pull`, or `repository` + `dockerfile` + `context`',
	});
export type ImageSpec = z.infer<typeof ImageSchema>;

export const PortMappingSchema = z.strictObject({
	containerPort: z.number().int().min(1).max(65535),
	hostPort: z.number().int().min(1).max(65535),
	purpose: z.string().optional(),
});

export const ClusterSchema = z.strictObject({
	name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/),
	/** Kind's node image; pinned by digest as Kubernaut pins it. */
	nodeImage: z.string().optional(),
	minKindVersion: z
		.string()
		.regex(/^\d+\.\d+\.\d+$/)
		.optional(),
	ports: z.array(PortMappingSchema).default([]),
	/** Kind kubeadmConfigPatches, passed through verbatim. */
	kubeadmConfigPatches: z.array(z.string()).default([]),
	/** Memory the node keeps while the cluster exists, MiB. */
	memoryMiB: z.number().int().positive().default(700),
	waitSeconds: z.number().int().positive().default(300),
});
export type ClusterSpecConfig = z.infer<typeof ClusterSchema>;

export const WaitSchema = z.strictObject({
	/** Label selectors whose pods must all be Ready. */
	pods: z.array(z.string()).default([]),
	/** Jobs that must complete. */
	jobs: z.array(z.string()).default([]),
	timeoutSeconds: z.number().int().positive().default(300),
});

const objectName = z.string().regex(/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/);

/**
 * Certificates the step makes before its manifests (Kubernaut's GenerateInterServiceTLS and GenerateSigningCertSecret):
 * a CA in a ConfigMap (`ca.crt`), a serving Secret per Service signed by it (ECDSA P-256, SANs of the Service's DNS
 * names, localhost and 127.0.0.1), and self-signed RSA 2048 signing Secrets. Kept while valid, made anew otherwise.
 */
export const CertificatesSchema = z.strictObject({
	ca: z.strictObject({configMap: objectName, commonName: z.string().min(1)}),
	serving: z.array(z.strictObject({secret: objectName, service: objectName})).default([]),
	signing: z.array(z.strictObject({secret: objectName, commonName: z.string().min(1), organization: z.string().optional()})).default([]),
	/** Days a made certificate is valid (Kubernaut makes a cluster per run and uses one; kdoctor keeps clusters). */
	validDays: z.number().int().min(1).max(825).default(30),
});
export type CertificatesSpec = z.infer<typeof CertificatesSchema>;

export const DeployStepSchema = z
	.strictObject({
		id: z.string().regex(/^[a-z][a-z0-9-]*$/),
		title: z.string().optional(),
		/** Manifest files (multi-document YAML), relative to the profile's source folder, applied in order. */
		files: z.array(z.string().min(1)).default([]),
		certificates: CertificatesSchema.optional(),
		/**
		 * A status to set on every applied object of a kind (through its status subresource) once applied: what a
		 * controller or admission webhook the profile does not run would have written (Kubernaut's ActionType seeding).
		 */
		setStatus: z.strictObject({kind: z.string().min(1), status: z.record(z.string(), z.unknown())}).optional(),
		/** Steps (deploy ids) that must be done first; images it names are loaded first automatically. */
		after: z.array(z.string()).default([]),
		/** A ConfigMap generated from files (SQL migrations), applied before the manifests. */
		configMapFrom: z
			.strictObject({name: z.string(), glob: z.string(), dir: z.string(), gooseUpOnly: z.boolean().default(false)})
			.optional(),
		wait: WaitSchema.optional(),
		/** Deployments that get GOCOVERDIR, the /coverdata hostPath and root when --coverage is on. */
		coverage: z.array(z.string()).default([]),
	})
	.refine((d) => d.files.length > 0 || d.certificates, {message: 'a deploy step has `files`, `certificates` or both'});
export type DeployStep = z.infer<typeof DeployStepSchema>;

export const HealthSchema = z.strictObject({
	url: z.string().url(),
	timeoutSeconds: z.number().int().positive().default(90),
	expectStatus: z.number().int().default(200),
});

export const ProfileSchema = z.strictObject({
	description: z.string().default(''),
	/** Where relative paths resolve: `.` is kdoctor's own folder (demo), `$source` the --source checkout. */
	source: z.string().default('.'),
	namespace: z.string().regex(/^[a-z0-9][a-z0-9-]*$/),
	images: z.array(ImageSchema).min(1),
	cluster: ClusterSchema,
	/** The Kind config (YAML) to write for the run, relative to source; ports/mounts come from `cluster`. */
	deploy: z.array(DeployStepSchema).min(1),
	health: z.array(HealthSchema).default([]),
	/** The Go module root inside the image (coverage paths are rewritten from it to the source). */
	coverageRoot: z.string().default('/opt/app-root/src'),
});
export type Profile = z.infer<typeof ProfileSchema>;

export const ProfilesSchema = z.record(z.string().regex(/^[a-z][a-z0-9-]*$/), ProfileSchema);

/** A profile's build args with `${arch}` filled in: the platform's CPU when the image names one, else the engine's. */
export function expandBuildArgs(args: Record<string, string>, engineArch: string, platform?: string): Record<string, string> {
	const arch = platform?.split('/')[1] ?? engineArch;
	return Object.fromEntries(Object.entries(args).map(([k, v]) => [k, v.replaceAll('${arch}', arch)]));
}
