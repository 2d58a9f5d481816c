import safeRegex from 'safe-regex2';
import type {Signal} from './schema.js';

/** Every regex a signal carries: its own pattern, the line that must follow it, the text that cancels it. */
export function signalPatterns(s: Signal): string[] {
	return [s.pattern, s.followedBy?.pattern, s.unlessSeen].filter((p): p is string => p !== undefined);
}

/** A pattern that could backtrack without end on a hostile line: kb lint's test, and a team file's at load. */
export function mayBacktrack(pattern: string): boolean {
	return !safeRegex(pattern, {limit: 25});
}
