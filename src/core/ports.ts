/** What engines may touch of the file system; the adapter does the real I/O. */
export interface FsPort {
	/** Files under root whose relative path matches one of the globs (bounded walk, skips vendored folders). */
	list(root: string, globs: string[]): string[];
	read(path: string): string;
	exists(path: string): boolean;
	/** Writes through a temp file and a rename, so a reader never sees half a file. */
	writeAtomic(path: string, text: string): void;
}

export type JournalFileChange = {path: string; before: string; after: string};

export type JournalEntry = {
	id: string;
	at: string;
	finding: string;
	remediation: string;
	title: string;
	kind: 'edit-file' | 'kube-patch' | 'command';
	files: JournalFileChange[];
	undone?: string;
};

/** The undo journal: every change kdoctor makes is recorded here before it is reported done. */
export interface JournalPort {
	record(entry: JournalEntry): void;
	list(): JournalEntry[];
	markUndone(id: string, at: string): void;
}

export interface ClockPort {
	now(): Date;
}
