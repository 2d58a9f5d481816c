import {escapeXml} from './gantt-svg.js';

const esc = escapeXml;

/** Inline Markdown of the kinds the report writes: code spans, bold, links, images, backslash escapes. */
export function inlineHtml(s: string, images: Record<string, string> = {}): string {
	let out = '';
	let i = 0;
	while (i < s.length) {
		const c = s[i]!;
		if (c === '\\' && i + 1 < s.length && /[!-/:-@[-`{-~]/.test(s[i + 1]!)) {
			out += esc(s[i + 1]!);
			i += 2;
			continue;
		}
		if (c === '`') {
			const run = /^`+/.exec(s.slice(i))![0];
			const close = s.indexOf(run, i + run.length);
			if (close > 0 && s[close + run.length] !== '`') {
				let code = s.slice(i + run.length, close);
				if (code.startsWith(' ') && code.endsWith(' ') && code.trim() !== '') code = code.slice(1, -1);
				out += `<code>${esc(code)}</code>`;
				i = close + run.length;
				continue;
			}
			out += esc(run);
			i += run.length;
			continue;
		}
		if (s.startsWith('**', i)) {
			const close = s.indexOf('**', i + 2);
			if (close > i + 2) {
				out += `<strong>${inlineHtml(s.slice(i + 2, close), images)}</strong>`;
				i = close + 2;
				continue;
			}
		}
		const link = /^(!?)\[([^\]]*)\]\(([^)\s]+)\)/.exec(s.slice(i));
		if (link) {
			const [all, bang, text, href] = link;
			const target = decodeURI(href!);
			if (bang && images[target] !== undefined) out += `<figure>${images[target]}</figure>`;
			else if (bang) out += `<img src="${esc(href!)}" alt="${esc(text!)}">`;
			else out += `<a href="${esc(href!)}">${inlineHtml(text!, images)}</a>`;
			i += all!.length;
			continue;
		}
		out += esc(c);
		i++;
	}
	return out;
}

/** Table cells split on pipes that are not escaped (the report escapes pipes in its cells). */
function cells(line: string): string[] {
	const inner = line.trim().replace(/^\|/, '').replace(/\|$/, '');
	const out: string[] = [];
	let cur = '';
	for (let i = 0; i < inner.length; i++) {
		if (inner[i] === '\\' && inner[i + 1] === '|') {
			cur += '\\|';
			i++;
		} else if (inner[i] === '|') {
			out.push(cur.trim());
			cur = '';
		} else cur += inner[i];
	}
	out.push(cur.trim());
	return out;
}

/** In a table, `\|` inside a code span is a pipe (GFM); elsewhere the inline rules already read it. */
function cellHtml(cell: string, images: Record<string, string>): string {
	return inlineHtml(
		cell.replace(/(`+)([^`]*?)\1/g, (m, f: string, body: string) => `${f}${body.replace(/\\\|/g, '|')}${f}`),
		images,
	);
}

/**
 * Markdown to HTML for the subset the report writes (headings, paragraphs, lists, quotes, fenced code, tables,
 * rules, images): small and exact rather than general, so the report needs no Markdown library.
 */
export function markdownToHtml(md: string, images: Record<string, string> = {}): string {
	const lines = md.split('\n');
	const out: string[] = [];
	let i = 0;
	while (i < lines.length) {
		const line = lines[i]!;
		const fence = /^(`{3,})(\S*)\s*$/.exec(line);
		if (fence) {
			const body: string[] = [];
			i++;
			while (i < lines.length && lines[i] !== fence[1]) body.push(lines[i++]!);
			i++;
			out.push(`<pre><code${fence[2] ? ` class="language-${esc(fence[2])}"` : ''}>${esc(body.join('\n'))}</code></pre>`);
			continue;
		}
		const heading = /^(#{1,6}) (.*)$/.exec(line);
		if (heading) {
			out.push(`<h${heading[1]!.length}>${inlineHtml(heading[2]!, images)}</h${heading[1]!.length}>`);
			i++;
			continue;
		}
		if (/^---+\s*$/.test(line)) {
			out.push('<hr>');
			i++;
			continue;
		}
		if (line.startsWith('|') && /^\|[-:| ]+\|\s*$/.test(lines[i + 1] ?? '')) {
			const head = cells(line);
			const align = cells(lines[i + 1]!).map((c) => (c.endsWith(':') ? ' style="text-align:right"' : ''));
			i += 2;
			const rows: string[][] = [];
			while (i < lines.length && lines[i]!.startsWith('|')) rows.push(cells(lines[i++]!));
			const headHtml = head.every((h) => h === '')
				? ''
				: `<thead><tr>${head.map((h, k) => `<th${align[k] ?? ''}>${cellHtml(h, images)}</th>`).join('')}</tr></thead>`;
			out.push(
				`<table>${headHtml}` +
					`<tbody>${rows.map((r) => `<tr>${r.map((c, k) => `<td${align[k] ?? ''}>${cellHtml(c, images)}</td>`).join('')}</tr>`).join('')}` +
					`</tbody></table>`,
			);
			continue;
		}
		if (line.startsWith('- ')) {
			const items: string[] = [];
			while (i < lines.length && lines[i]!.startsWith('- ')) items.push(lines[i++]!.slice(2));
			out.push(`<ul>${items.map((it) => `<li>${inlineHtml(it, images)}</li>`).join('')}</ul>`);
			continue;
		}
		if (line.startsWith('> ')) {
			const quote: string[] = [];
			while (i < lines.length && lines[i]!.startsWith('> ')) quote.push(lines[i++]!.slice(2));
			out.push(`<blockquote><p>${inlineHtml(quote.join(' '), images)}</p></blockquote>`);
			continue;
		}
		if (line.trim() === '') {
			i++;
			continue;
		}
		const para: string[] = [];
		while (i < lines.length && lines[i]!.trim() !== '' && !/^(#{1,6} |`{3,}|- |> |\||---+\s*$)/.test(lines[i]!)) para.push(lines[i++]!);
		if (para.length === 0) para.push(lines[i++]!);
		out.push(`<p>${inlineHtml(para.join(' '), images)}</p>`);
	}
	return out.join('\n');
}

const STYLE = `body{font:15px/1.5 system-ui,-apple-system,'Segoe UI',sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;
color:#111827}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,'DejaVu Sans Mono',monospace;font-size:13px}
code{background:#f3f4f6;padding:0 .25em;border-radius:3px}pre{background:#f3f4f6;padding:.8em;overflow-x:auto}pre code{padding:0}
table{border-collapse:collapse;margin:.5em 0}th,td{border:1px solid #e5e7eb;padding:.25em .5em;vertical-align:top}
th{background:#f9fafb;text-align:left}
blockquote{margin:.5em 0;padding:0 1em;border-left:3px solid #d1d5db;color:#374151}figure{margin:1em 0;overflow-x:auto}`;

/** One self-contained HTML file: the report with its chart inline, no script, no outside resource. */
export function renderHtml(title: string, md: string, images: Record<string, string>): string {
	return (
		`<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<meta name="viewport" content="width=device-width, ` +
		`initial-scale=1">\n<title>${esc(title)}</title>\n<style>\n${STYLE}` +
		`\n</style>\n</head>\n<body>\n${markdownToHtml(md, images)}\n</body>\n</html>\n`
	);
}
