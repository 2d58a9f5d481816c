/** What engines may touch of the file system; the adapter does the real I/O. */
export interface FsPort {
	/** Files under root whose relative path matches one of the globs (bounded walk, skips vendored folders). */
	list(root: string, globs: string[]): string[];
	/** UTF-8 text; throws NotTextError for anything else, so an edit can never re-encode a file. */
	read(path: string): string;
	exists(path: string): boolean;
	/** False for a read-only file (mode bits), even for root: kdoctor does not override that. */
	writable(path: string): boolean;
	/** The real path behind links, so an edit changes the target and keeps the link. */
	canonical(path: string): string;
	/** Writes through a temp file and a rename, so a reader never sees half a file. */
	writeAtomic(path: string, text: string): void;
	/** Writes the temp file now and renames on commit(), so several files change all or nothing. */
	stage(path: string, text: string): {commit(): void; abort(): void};
}

export class NotTextError extends Error {}

export type JournalFileChange = {path: string; before: string; after: string};

export type JournalEntry = {
	/** The entry's shape (core/remediate/changes.ts JOURNAL_SHAPE); absent in entries written before it was numbered. */
	v?: number;
	id: string;
	at: string;
	finding: string;
	remediation: string;
	title: string;
	kind: 'edit-file' | 'kube-patch' | 'command';
	files: JournalFileChange[];
	/** A live patch: where it went, the value it replaced, and the patch that takes it back. */
	kube?: {
		kubeconfig?: string;
		context?: string;
		namespace: string;
		deployment: string;
		container: string;
		field: string;
		before?: string;
		after: string;
		patch: Record<string, unknown>;
		undoPatch: Record<string, unknown>;
	};
	/** A command kdoctor ran on the host (setup's fixes), and the commands that take it back when there are some. */
	host?: {commands: string[][]; undo?: string[][]; noUndo?: string};
	undone?: string;
	/** The evidence the fix was found in (`fix --from`), absolute paths: a run's report finds its fixes by them. */
	from?: string[];
	/** Whether the change was seen to work: a live patch's rollout watch, a command's check (ms: how long it took). */
	verify?: {ok: boolean; message: string; ms?: number};
};

/** A journal file kdoctor will not act on: damaged, or not written by this user's kdoctor. */
export type JournalProblem = {file: string; why: string};

/** The undo journal: every change kdoctor makes is recorded here before it is reported done. */
export interface JournalPort {
	record(entry: JournalEntry): void;
	/** The entries this kdoctor wrote (signature checked); damaged and foreign files are in problems(). */
	list(): JournalEntry[];
	problems(): JournalProblem[];
	markUndone(id: string, at: string): void;
}

export interface ClockPort {
	now(): Date;
}
