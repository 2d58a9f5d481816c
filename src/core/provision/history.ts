import {z} from 'zod';

/** What earlier runs measured, so the next plan uses real peaks and durations instead of defaults. */
export const HistorySchema = z.object({
	version: z.literal(1),
	peaks: z.record(z.string(), z.object({miB: z.number().positive(), at: z.string(), oomKilled: z.boolean().optional()})).default({}),
	durations: z.record(z.string(), z.object({ms: z.number().nonnegative(), runs: z.number().int().positive()})).default({}),
});
export type History = z.infer<typeof HistorySchema>;

export const emptyHistory = (): History => ({version: 1, peaks: {}, durations: {}});

/** A damaged history file is not worth failing a run over: start again from the defaults. */
export function parseHistory(text: string | undefined): History {
	if (!text) return emptyHistory();
	try {
		const r = HistorySchema.safeParse(JSON.parse(text));
		return r.success ? r.data : emptyHistory();
	} catch {
		return emptyHistory();
	}
}

export function learnedPeak(h: History, key: string): number | undefined {
	return h.peaks[key]?.miB;
}

export function learnedDuration(h: History, key: string): number | undefined {
	return h.durations[key]?.ms;
}

/** Headroom over a measured peak: the same build varies by a few percent between runs. */
const HEADROOM = 1.15;

/**
 * Records a build's measured peak. A peak only moves down slowly (one good run does not undo an OOM), and
 * never below the last measurement with headroom.
 */
export function recordPeak(h: History, key: string, measuredMiB: number, at: string): History {
	const prev = h.peaks[key];
	const next = Math.ceil(measuredMiB * HEADROOM);
	const miB = prev ? Math.max(next, Math.round(prev.miB * 0.9)) : next;
	return {...h, peaks: {...h.peaks, [key]: {miB, at}}};
}

/**
 * A build was killed for memory with `assumedMiB` planned for it: raise what we assume by half, or to the
 * peak seen before the kill with headroom, whichever is higher, but never above the whole budget.
 */
export function recordOom(
	h: History,
	key: string,
	assumedMiB: number,
	seenMiB: number | undefined,
	budgetMiB: number,
	at: string,
): {history: History; miB: number} {
	const raised = Math.max(Math.ceil(assumedMiB * 1.5), seenMiB ? Math.ceil(seenMiB * 1.25) : 0);
	const miB = Math.min(raised, budgetMiB);
	return {history: {...h, peaks: {...h.peaks, [key]: {miB, at, oomKilled: true}}}, miB};
}

/** Moving average of a step's duration, so one slow run does not distort the next plan. */
export function recordDuration(h: History, key: string, ms: number): History {
	const prev = h.durations[key];
	const next = prev ? {ms: Math.round(prev.ms * 0.6 + ms * 0.4), runs: prev.runs + 1} : {ms: Math.round(ms), runs: 1};
	return {...h, durations: {...h.durations, [key]: next}};
}
