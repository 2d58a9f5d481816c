/** Looks at an SVG chart as a picture: rendered to pixels by resvg, then read row band by row band. */
import {writeFileSync} from 'node:fs';
import {Resvg} from '@resvg/resvg-js';

export type Picture = {width: number; height: number; pixels: Uint8Array; scale: number; png: Buffer};

/** Renders the SVG at a given width (the chart's own size scaled), keeping the PNG to look at. */
export function render(svg: string, width = 800): Picture {
	const r = new Resvg(svg, {fitTo: {mode: 'width', value: width}, background: '#ffffff'}).render();
	const svgWidth = Number(/<svg[^>]*\swidth="(\d+(?:\.\d+)?)"/.exec(svg)?.[1] ?? width);
	return {width: r.width, height: r.height, pixels: r.pixels, scale: r.width / svgWidth, png: r.asPng()};
}

export function savePng(p: Picture, path: string): void {
	writeFileSync(path, p.png);
}

export type Kind = 'red' | 'green' | 'light-green' | 'amber' | 'grey' | 'white' | 'other';

/** What colour family a pixel is, with room for anti-aliasing at the edges. */
export function kindAt(p: Picture, x: number, y: number): Kind {
	const i = (Math.round(y) * p.width + Math.round(x)) * 4;
	const [r, g, b] = [p.pixels[i]!, p.pixels[i + 1]!, p.pixels[i + 2]!];
	if (r > 245 && g > 245 && b > 245) return 'white';
	if (r > 180 && g < 90 && b < 90) return 'red';
	if (g > 130 && r < 60 && b < 110) return 'green';
	if (g > 220 && r > 160 && r < 210 && b > 180 && b < 220) return 'light-green';
	if (r > 220 && g > 140 && g < 180 && b < 40) return 'amber';
	if (Math.abs(r - g) < 12 && Math.abs(g - b) < 16 && r > 130 && r < 200) return 'grey';
	return 'other';
}

/** The vertical band (in picture pixels) of the row whose label is `label`, found from the label's baseline in the SVG. */
export function rowBand(svg: string, p: Picture, label: string): {top: number; bottom: number} {
	const esc = label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
	const m = new RegExp(`<text x="8" y="(\\d+(?:\\.\\d+)?)"[^>]*>(?:✗ )?${esc}</text>`).exec(svg);
	if (!m) throw new Error(`no row labelled ${label} in the chart`);
	const baseline = Number(m[1]);
	// A row is 22 units high and its label's baseline sits 15 units below the row's top.
	return {top: Math.ceil((baseline - 15 + 2) * p.scale), bottom: Math.floor((baseline + 7 - 2) * p.scale)};
}

/** How many pixels of each kind a band holds, right of the labels (x from `fromX` picture pixels). */
export function census(p: Picture, band: {top: number; bottom: number}, fromX = 0): Record<Kind, number> {
	const out: Record<Kind, number> = {red: 0, green: 0, 'light-green': 0, amber: 0, grey: 0, white: 0, other: 0};
	for (let y = band.top; y <= band.bottom; y++) for (let x = Math.round(fromX); x < p.width; x++) out[kindAt(p, x, y)]++;
	return out;
}

/** Where the plot starts (the axis line), in picture pixels: the x of the first tick line. */
export function plotLeft(svg: string, p: Picture): number {
	const m = /<line x1="(\d+(?:\.\d+)?)" y1="\d+" x2="\1"/.exec(svg);
	return m ? Number(m[1]) * p.scale + 2 : 0;
}
