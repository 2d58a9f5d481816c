import {describe, expect, it} from 'vitest';
import {diagnoseStream, diagnoseText} from '../../src/core/diagnose/diagnose.js';
import {TextScanner, MAX_SEGMENT} from '../../src/core/diagnose/scan.js';
import {inlineKb} from '../helpers/kb.js';

const KB = inlineKb(`
topic: test
entries:
  - id: never-pull
    title: Image never pulled
    layer: image
    summary: A pod waits because the image is missing on the node.
    signals:
      - {id: reason, means: kubelet reason, role: signature, weight: 0.6, pattern: '\\bErrImageNeverPull\\b'}
      - {id: image, means: the image name, role: support, weight: 0.3, pattern: 'Container image "([^"]+)" is not present', capture: {name: image, group: 1}}
    examples: {positive: [ErrImageNeverPull, ErrImageNeverPull], negative: [ok]}
  - id: absent
    title: Built but never loaded
    layer: image
    summary: Images were built and nothing in the output loads them.
    signals:
      - {id: built, means: built, role: signature, weight: 0.6, pattern: 'Successfully tagged localhost/', unlessSeen: 'kind load image-archive'}
    examples: {positive: [x, y], negative: [z]}
  - id: wrapped
    title: A message wrapped over lines
    layer: engine
    summary: The container name is in use, said over two lines.
    signals:
      - {id: name, means: name in use, role: signature, weight: 0.7, pattern: 'the container name "[^"]+"', followedBy: {pattern: 'is already in use', within: 1}}
    examples: {positive: [x, y], negative: [z]}
`);

describe('TextScanner', () => {
	it('reports the right line numbers and the capture', () => {
		const d = diagnoseText(KB, 'one\ntwo\nWarning ErrImageNeverPull\nContainer image "gw:1" is not present with pull policy of Never\n');
		const f = d.findings[0]!;
		expect(f.id).toBe('never-pull');
		expect(f.evidence.map((e) => e.line)).toEqual([3, 4]);
		expect(f.captures.image).toBe('gw:1');
		expect(d.stats.lines).toBe(4);
	});

	it('gives the same result however the stream is cut into chunks', async () => {
		const text = Array.from({length: 50}, (_, i) =>
			i === 31 ? 'pod  0/1  ErrImageNeverPull  0  5s' : `noise line ${i} with some words`,
		).join('\r\n');
		const whole = diagnoseText(KB, text);
		for (const size of [1, 7, 64, 1000]) {
			const chunks = async function* () {
				const bytes = Buffer.from(text);
				for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
			};
			const d = await diagnoseStream(KB, chunks());
			expect(d.findings.map((f) => [f.id, f.confidence, f.evidence[0]!.line])).toEqual(
				whole.findings.map((f) => [f.id, f.confidence, f.evidence[0]!.line]),
			);
			expect(d.findings[0]!.evidence[0]!.before).toEqual(['noise line 29 with some words', 'noise line 30 with some words']);
			expect(d.findings[0]!.evidence[0]!.after).toEqual(['noise line 32 with some words', 'noise line 33 with some words']);
		}
	});

	it('joins a message wrapped onto the next line, and only within the window', () => {
		const hit = diagnoseText(KB, 'ERROR: the container name "kind-control-plane"\nis already in use by 8f54\n');
		expect(hit.findings[0]!.id).toBe('wrapped');
		expect(hit.findings[0]!.evidence[0]!.related).toEqual({line: 2, text: 'is already in use by 8f54'});
		const miss = diagnoseText(KB, 'the container name "x"\nsomething\nelse\nis already in use\n');
		expect(miss.findings.find((f) => f.id === 'wrapped')).toBeUndefined();
	});

	it('counts an unlessSeen signal only when its veto pattern appears nowhere, before or after', () => {
		expect(diagnoseText(KB, 'Successfully tagged localhost/gw:1\ndeploy\n').findings.map((f) => f.id)).toContain('absent');
		expect(
			diagnoseText(KB, 'Successfully tagged localhost/gw:1\nkind load image-archive gw.tar\n').findings.map((f) => f.id),
		).not.toContain('absent');
		expect(
			diagnoseText(KB, 'kind load image-archive gw.tar\nSuccessfully tagged localhost/gw:1\n').findings.map((f) => f.id),
		).not.toContain('absent');
	});

	it('strips colour codes before matching', () => {
		const d = diagnoseText(KB, '\u001B[31mErr\u001B[0mImageNeverPull\n');
		expect(d.findings[0]?.id).toBe('never-pull');
	});

	it('scans a line longer than a segment and still finds a symptom at its end', () => {
		const line = 'x'.repeat(MAX_SEGMENT * 3 + 17) + ' ErrImageNeverPull';
		const d = diagnoseText(KB, `${line}\nnext\n`);
		expect(d.findings[0]?.id).toBe('never-pull');
		expect(d.findings[0]!.evidence[0]!.line).toBe(1);
		expect(d.findings[0]!.evidence[0]!.text.length).toBeLessThan(500);
		expect(d.stats.lines).toBe(2);
	});

	it('tells empty and blank input apart from a clean log', () => {
		expect(diagnoseText(KB, '').status).toBe('empty');
		expect(diagnoseText(KB, '  \n\n\t\n').status).toBe('empty');
		const clean = diagnoseText(KB, 'all good\n');
		expect(clean.status).toBe('ok');
		expect(clean.findings).toEqual([]);
	});

	it('judges binary from the bytes, whatever matched in them: a word inside binary data is no finding', () => {
		const s = new TextScanner(KB);
		s.push('\u0000\u0001\u0002 ErrImageNeverPull \u0000\n');
		const r = s.end();
		expect(r.binary).toBe(true);
		expect(r.matches.size).toBe(0);
		// A log with one stray NUL in a megabyte of text is still a log.
		const t = new TextScanner(KB);
		t.push(`${'I1201 12:00:00 starting up\n'.repeat(40_000)}\u0000\nErrImageNeverPull\n`);
		const q = t.end();
		expect(q.binary).toBe(false);
		expect(q.matches.has('never-pull/reason')).toBe(true);
	});

	it('counts every occurrence but keeps only a few as evidence', () => {
		const d = diagnoseText(KB, 'ErrImageNeverPull\n'.repeat(1000));
		expect(d.findings[0]!.why[0]!.count).toBe(1000);
		expect(d.findings[0]!.evidence.length).toBeLessThanOrEqual(8);
	});

	it('reads quotes escaped by a JSON or a language string (\\" and \\\\\\") as the quotes the tool printed, in literals and patterns', () => {
		const d = diagnoseText(KB, '{"msg":"Container image \\"gw:2\\" is not present", "reason":"ErrImageNeverPull"}\n');
		expect(d.findings[0]!.id).toBe('never-pull');
		expect(d.findings[0]!.captures.image).toBe('gw:2');
		const twice = diagnoseText(KB, 'out: "ErrImageNeverPull: Container image \\\\\\"gw:3\\\\\\" is not present"\n');
		expect(twice.findings[0]!.captures.image).toBe('gw:3');
		// A backslash anywhere else is kept, and never completes a literal on its own.
		expect(diagnoseText(KB, 'ErrImage\\NeverPull\n').findings).toEqual([]);
	});
});
