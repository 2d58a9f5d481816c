import {z} from 'zod';

/** Layers a cause can live in, from the machine up to the workload. */
export const LAYERS = ['host', 'engine', 'build', 'image', 'cluster', 'workload'] as const;
export type Layer = (typeof LAYERS)[number];

export const REMEDIATION_KINDS = ['edit-file', 'kube-patch', 'command', 'rerun', 'info'] as const;
export type RemediationKind = (typeof REMEDIATION_KINDS)[number];

const FollowedBy = z.strictObject({
	pattern: z.string().min(1),
	within: z.number().int().min(0).max(500).default(3),
});

/** A capture taken from a pattern match and handed to remediations as a template variable. */
const Capture = z.strictObject({
	name: z.string().regex(/^[a-z][a-zA-Z0-9]*$/),
	group: z.number().int().min(1).max(9),
	/** 'image-ref' normalises short image names (alpine → docker.io/library/alpine) and skips stage names. */
	as: z.enum(['text', 'image-ref']).default('text'),
	/** The signal only counts when the captured value starts with none of these (a setting name with $). */
	unlessPrefix: z.union([z.array(z.string()), z.string().regex(/^\$[a-zA-Z]+$/)]).optional(),
});

const FactOp = z.strictObject({
	fact: z.string().regex(/^[a-z][a-zA-Z0-9]*(\.[a-z][a-zA-Z0-9]*)*$/),
	equals: z.union([z.string(), z.number(), z.boolean()]).optional(),
	in: z.array(z.union([z.string(), z.number()])).optional(),
	matches: z.string().optional(),
	gte: z.number().optional(),
	lte: z.number().optional(),
});

export const SignalSchema = z
	.strictObject({
		id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/),
		/** What this piece of evidence means, shown next to it. */
		means: z.string().min(3),
		role: z.enum(['signature', 'support', 'against']).default('support'),
		weight: z.number().gt(0).max(1),
		pattern: z.string().min(1).optional(),
		caseSensitive: z.boolean().default(false),
		followedBy: FollowedBy.optional(),
		/** The signal counts only if this pattern appears nowhere in the input (evidence of absence). */
		unlessSeen: z.string().min(1).optional(),
		capture: Capture.optional(),
		when: FactOp.optional(),
		/** The signal counts only in output of one of these kinds (contexts seen anywhere in it): exit 137 in a build log. */
		inContext: z.array(z.string()).min(1).optional(),
		/** The signal does not count in output of any of these kinds. */
		notInContext: z.array(z.string()).min(1).optional(),
	})
	.refine((s) => (s.pattern ? 1 : 0) + (s.when ? 1 : 0) === 1, {
		message: 'a signal has exactly one of `pattern` (text) or `when` (structured fact)',
	})
	.refine((s) => !s.followedBy || s.pattern, {message: '`followedBy` needs a `pattern`'})
	.refine((s) => !s.capture || s.pattern, {message: '`capture` needs a `pattern`'})
	.refine((s) => !s.unlessSeen || s.pattern, {message: '`unlessSeen` needs a `pattern`'});
export type Signal = z.infer<typeof SignalSchema>;

const EditSpec = z.strictObject({
	/** `evidence`: the file the evidence line came from; `search`: files under the working directory. */
	in: z.enum(['evidence', 'search']),
	glob: z.array(z.string()).default(['**/*.yaml', '**/*.yml']),
	/** Literal text to find (after templating), matched as a whole image reference or word. */
	find: z.string().min(1),
	replace: z.string(),
	boundary: z.enum(['image-ref', 'none']).default('none'),
});

/** What a kube-patch changes on the workload the finding is about; kdoctor applies it with live access. */
const PatchSpec = z.strictObject({
	set: z.enum(['image', 'env', 'memory-limit', 'readiness-path', 'restart']),
	/** The value comes from the person (asked on the screen, or --value); the text says what to type. */
	ask: z.string().min(3).optional(),
});
export type PatchSet = z.infer<typeof PatchSpec>['set'];

const MapRule = z.strictObject({match: z.string(), value: z.string()});

export const RemediationSchema = z
	.strictObject({
		key: z.string().regex(/^[a-z]$/, 'a remediation key is one lower-case letter'),
		title: z.string().min(3),
		kind: z.enum(REMEDIATION_KINDS),
		/** The exact change, in words a reviewer can check. */
		change: z.string().min(3),
		verify: z.string().min(3),
		undo: z.string().min(3),
		destructive: z.boolean().default(false),
		/** Needs a live cluster (applied by the live-triage engine, previewed offline). */
		needsCluster: z.boolean().default(false),
		/** Signal ids of this entry: the fix is offered only when the evidence holds one (the taint it removes, the probe it edits). */
		needs: z.array(z.string()).min(1).optional(),
		edit: EditSpec.optional(),
		patch: PatchSpec.optional(),
		/** argv for `command` remediations; never a shell string. Templated with {{captures}}. */
		command: z.array(z.string()).min(1).optional(),
		/** For a `rerun`: flags added to the run's own command (from its run.json) to re-run it with changed settings. */
		rerunWith: z.array(z.string()).min(1).optional(),
		/** `confirmed`: kdoctor runs the command itself once the person confirms (fix --yes, or y on the screen); `print`: it only shows it. */
		run: z.enum(['print', 'confirmed']).default('print'),
		/** After running: this read-only command's output must no longer have a line equal to `lacksLine`, or the fix did not work. */
		check: z.strictObject({command: z.array(z.string()).min(1), lacksLine: z.string()}).optional(),
		/** Derived template variables: first rule whose regex matches the source capture wins. */
		derive: z.record(z.string(), z.strictObject({from: z.string(), rules: z.array(MapRule).min(1)})).optional(),
	})
	.refine((r) => r.kind !== 'edit-file' || r.edit, {message: 'an edit-file remediation needs `edit`'})
	.refine((r) => !r.patch || r.kind === 'kube-patch', {message: '`patch` belongs to a kube-patch remediation'})
	.refine((r) => r.kind !== 'command' || r.command, {message: 'a command remediation needs `command` (an argv array)'})
	.refine((r) => r.run !== 'confirmed' || r.kind === 'command', {message: '`run: confirmed` belongs to a command remediation'});
export type Remediation = z.infer<typeof RemediationSchema>;

const Example = z.union([
	z.string().min(1),
	z.strictObject({
		name: z.string().optional(),
		text: z.string().default(''),
		facts: z.record(z.string(), z.array(z.union([z.string(), z.number(), z.boolean()]))).optional(),
		/** For positives: this entry must be the top-ranked finding. */
		top: z.boolean().default(false),
		/**
		 * For positives: the text cannot decide between this cause and a confusion, so the finding must stay "possible"
		 * (found, below the diagnosis threshold) and say the check that separates them.
		 */
		possible: z.boolean().default(false),
		source: z.string().optional(),
	}),
]);

export const EntrySchema = z.strictObject({
	id: z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/),
	title: z.string().min(5),
	layer: z.enum(LAYERS),
	summary: z.string().min(10),
	signals: z.array(SignalSchema).min(1),
	/** Other entries whose symptoms this cause explains; they rank below it when both match. */
	explains: z.array(z.string()).default([]),
	confusedWith: z
		/** `check`: the one command that separates the two when the text alone cannot (shown beside "possible" findings). */
		.array(z.strictObject({id: z.string(), tellApart: z.string().min(5), check: z.string().min(3).optional()}))
		.default([]),
	/** Grace period before a live transient state counts (0: final at first sight). */
	graceSeconds: z.number().int().min(0).default(0),
	remediations: z.array(RemediationSchema).default([]),
	references: z.array(z.string()).default([]),
	examples: z.strictObject({
		positive: z.array(Example).min(1),
		negative: z.array(Example).min(1),
	}),
});
export type Entry = z.infer<typeof EntrySchema>;
export type Example = z.infer<typeof Example>;

/**
 * Output-wide context: what kind of output this is (a build log, `kubectl describe`, a pod log, the kind CLI …), seen
 * when its pattern appears anywhere. Signals may require or refuse a kind (`inContext`, `notInContext`) or prefer it
 * (`when: {fact: output.kind, equals: ID}`); a context with `damp` also damps every finding (a sub-second unit-test run).
 */
export const ContextSchema = z.strictObject({
	id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/),
	means: z.string().min(3),
	/** One pattern, or several (each linted and prefiltered on its own; any of them shows the kind). */
	pattern: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
	/** Every finding's confidence is multiplied by (1 - damp). */
	damp: z.number().gt(0).lt(1).optional(),
	examples: z.strictObject({positive: z.array(z.string().min(1)).min(1), negative: z.array(z.string().min(1)).min(1)}),
});
export type Context = z.infer<typeof ContextSchema>;

export const KbFileSchema = z
	.strictObject({
		topic: z.string().min(2),
		settings: z.record(z.string(), z.union([z.string(), z.array(z.string())])).default({}),
		contexts: z.array(ContextSchema).default([]),
		entries: z.array(EntrySchema).default([]),
	})
	.refine((f) => f.entries.length + f.contexts.length > 0, {message: 'a KB file needs entries or contexts'});
export type KbFile = z.infer<typeof KbFileSchema>;
