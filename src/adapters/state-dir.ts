import {chmodSync, lstatSync, mkdirSync} from 'node:fs';
import {homedir} from 'node:os';
import {join} from 'node:path';

/** Where kdoctor keeps its state: KDOCTOR_STATE_DIR, else $XDG_STATE_HOME/kdoctor, else ~/.local/state/kdoctor. */
export function stateDir(): string {
	if (process.env.KDOCTOR_STATE_DIR) return process.env.KDOCTOR_STATE_DIR;
	const base = process.env.XDG_STATE_HOME || join(homedir(), '.local', 'state');
	return join(base, 'kdoctor');
}

/** Makes dir (and any missing parent) owner-only; one made by an older kdoctor with 0755 is tightened too. */
export function ownerOnly(dir: string): void {
	mkdirSync(dir, {recursive: true, mode: 0o700});
	const st = lstatSync(dir);
	// Only a folder this user owns is tightened: a shared KDOCTOR_STATE_DIR of someone else's is left as it is.
	if (st.isDirectory() && (st.mode & 0o077) !== 0 && (typeof process.getuid !== 'function' || st.uid === process.getuid()))
		chmodSync(dir, 0o700);
}

/**
 * A folder under the state dir, made private (0700) along with the state dir itself: the journal keeps copies of
 * edited files and the runs keep Secrets, so no other user may list or read them.
 */
export function privateStateDir(...parts: string[]): string {
	const root = stateDir();
	ownerOnly(root);
	if (parts.length === 0) return root;
	const dir = join(root, ...parts);
	ownerOnly(dir);
	return dir;
}
