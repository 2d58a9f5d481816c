import type {StepState} from '../provision/events.js';
import type {ReportSpan} from './model.js';

export type GanttStep = {id: string; state: StepState; cached: boolean; failed: boolean; durationMs?: number; spans: ReportSpan[]};
export type GanttInput = {title: string; spanMs: number; steps: GanttStep[]};

/** Fills by state; a cache hit is a light bar so the eye goes to what really ran. Exported for the picture test. */
export const GANTT_COLORS = {
	done: '#16a34a',
	failed: '#dc2626',
	cancelled: '#9ca3af',
	skipped: '#9ca3af',
	cached: '#bbf7d0',
	retried: '#f59e0b',
	running: '#3b82f6',
	waiting: '#e5e7eb',
} as const;

/** DejaVu first: some renderers (resvg) try only the first family, and where it is missing browsers go down the list. */
const FONT = `'DejaVu Sans Mono', Menlo, Consolas, 'Liberation Mono', ui-monospace, SFMono-Regular, monospace`;
const CHAR_W = 7.3;
const ROW_H = 22;
const BAR_H = 14;
const HEAD_H = 52;
const LEGEND_H = 34;
const DUR_W = 84;

/** Text and attribute values as XML wants them. */
export function escapeXml(s: string): string {
	return s.replace(/[&<>"']/g, (c) => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;'})[c]!);
}

/** Tick spacing: the smallest step that keeps the axis to at most eight intervals. */
export function tickStep(spanMs: number): number {
	const steps = [
		10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000, 3_600_000,
	];
	return steps.find((s) => spanMs / s <= 8) ?? Math.ceil(spanMs / 8 / 3_600_000) * 3_600_000;
}

/** "0s", "0.05s", "2.5s", "45s", "2m", "2m30s": tick labels in seconds (as precise as the tick step), minutes past two. */
export function tickLabel(ms: number, step = 1000): string {
	if (step < 1000) return `${+(ms / 1000).toFixed(step < 100 ? 2 : 1)}s`;
	const s = Math.round(ms / 1000);
	if (s < 120) return `${s}s`;
	return s % 60 === 0 ? `${s / 60}m` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

function fill(span: ReportSpan, step: GanttStep): string {
	if (span.retried) return GANTT_COLORS.retried;
	if (step.cached) return GANTT_COLORS.cached;
	return GANTT_COLORS[span.state];
}

/**
 * The run's steps as an SVG Gantt chart: one row per step in start order on a shared time axis from the run's
 * start, a bar per attempt (an attempt that was re-run is amber), the failed step's row marked. Pure string
 * building: the same chart in the Markdown's image and inline in the HTML.
 */
export function ganttSvg(input: GanttInput, formatMs: (ms: number) => string, width = 960): string {
	const span = Math.max(1, input.spanMs);
	const labelW = Math.round(Math.min(300, Math.max(130, 20 + Math.max(0, ...input.steps.map((s) => s.id.length + 2)) * CHAR_W)));
	const plotX = labelW;
	const plotW = width - labelW - DUR_W - 12;
	const height = HEAD_H + input.steps.length * ROW_H + LEGEND_H;
	const x = (ms: number) => plotX + (Math.min(Math.max(ms, 0), span) / span) * plotW;
	const out: string[] = [];
	out.push(
		`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
			`font-family="${escapeXml(FONT)}" font-size="12" role="img" aria-label="${escapeXml(input.title)}">`,
	);
	out.push(`<title>${escapeXml(input.title)}</title>`);
	out.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`);
	out.push(`<text x="8" y="18" font-size="13" font-weight="bold" fill="#111827">${escapeXml(input.title)}</text>`);

	const top = HEAD_H;
	const bottom = HEAD_H + input.steps.length * ROW_H;
	input.steps.forEach((s, i) => {
		if (i % 2 === 1) out.push(`<rect x="0" y="${top + i * ROW_H}" width="${width}" height="${ROW_H}" fill="#f8fafc"/>`);
	});
	const step = tickStep(span);
	for (let t = 0; t <= span + 1; t += step) {
		const tx = x(t).toFixed(1);
		out.push(`<line x1="${tx}" y1="${top - 6}" x2="${tx}" y2="${bottom}" stroke="#e5e7eb" stroke-width="1"/>`);
		out.push(`<text x="${tx}" y="${top - 10}" text-anchor="middle" fill="#6b7280">${escapeXml(tickLabel(t, step))}</text>`);
	}
	out.push(`<line x1="${plotX}" y1="${top}" x2="${plotX}" y2="${bottom}" stroke="#9ca3af" stroke-width="1"/>`);

	input.steps.forEach((s, i) => {
		const y = top + i * ROW_H;
		const barY = y + (ROW_H - BAR_H) / 2;
		const maxChars = Math.floor((labelW - 16) / CHAR_W);
		const label = (s.failed ? '✗ ' : '') + (s.id.length > maxChars ? `${s.id.slice(0, maxChars - 1)}…` : s.id);
		out.push(
			`<text x="8" y="${y + 15}" ` +
				`fill="${s.failed ? GANTT_COLORS.failed : s.spans.length === 0 ? '#9ca3af' : '#111827'}` +
				`"${s.failed ? ' font-weight="bold"' : ''}>${escapeXml(label)}</text>`,
		);
		if (s.spans.length === 0) {
			out.push(
				`<text x="${plotX + 6}" y="${y + 15}" fill="#9ca3af">${escapeXml(s.state === 'cancelled' ? 'not started' : s.state)}</text>`,
			);
			return;
		}
		for (const sp of s.spans) {
			const x1 = x(sp.startMs);
			const w = Math.max(2, x(sp.endMs) - x1);
			const stroke = s.cached ? ` stroke="${GANTT_COLORS.done}" stroke-width="1"` : '';
			out.push(
				`<rect x="${x1.toFixed(1)}" y="${barY}" width="${w.toFixed(1)}" height="${BAR_H}" rx="2" ` +
					`fill="${fill(sp, s)}"${stroke}` +
					`><title>${escapeXml(`${s.id} attempt ${sp.attempt}: ${sp.retried ? 're-run' : s.cached ? 'cached' : sp.state}, `)}` +
					`${escapeXml(formatMs(sp.endMs - sp.startMs))}` +
					`</title></rect>`,
			);
		}
		const last = s.spans[s.spans.length - 1]!;
		if (s.failed) {
			// After the bar when there is room before the duration column, else inside its end, in white.
			const end = x(last.endMs);
			if (plotX + plotW - end >= 58)
				out.push(`<text x="${(end + 5).toFixed(1)}" y="${y + 15}" fill="${GANTT_COLORS.failed}" font-weight="bold">failed</text>`);
			else if (end - x(last.startMs) >= 60)
				out.push(`<text x="${(end - 5).toFixed(1)}" y="${y + 15}" text-anchor="end" fill="#ffffff" font-weight="bold">failed</text>`);
		}
		if (s.durationMs !== undefined)
			out.push(`<text x="${width - 8}" y="${y + 15}" text-anchor="end" fill="#374151">${escapeXml(formatMs(s.durationMs))}</text>`);
	});

	const legend: [string, string][] = [
		['done', GANTT_COLORS.done],
		['cached', GANTT_COLORS.cached],
		['failed', GANTT_COLORS.failed],
		['re-run (OOM)', GANTT_COLORS.retried],
		['cancelled / skipped', GANTT_COLORS.cancelled],
	];
	let lx = plotX;
	const ly = bottom + 14;
	for (const [name, color] of legend) {
		out.push(`<rect x="${lx}" y="${ly}" width="12" height="12" rx="2" fill="${color}"/>`);
		out.push(`<text x="${lx + 16}" y="${ly + 10}" fill="#374151">${escapeXml(name)}</text>`);
		lx += 16 + name.length * CHAR_W + 18;
	}
	out.push('</svg>');
	return `${out.join('\n')}\n`;
}
