import {describe, expect, it} from 'vitest';
import {KbError, loadKb} from '../../src/core/kb/load.js';
import {lintKb} from '../../src/core/kb/check.js';

const entry = (over = '') => `topic: test
entries:
  - id: good-one
    title: A good entry
    layer: image
    summary: Something that really happens.
    signals:
      - {id: s, means: what it means, role: signature, weight: 0.6, pattern: 'ErrImageNeverPull'}
    examples: {positive: [a, b], negative: [c]}
${over}`;

function problems(text: string): string[] {
	try {
		loadKb([{path: 'k.yaml', text}]);
		return [];
	} catch (error) {
		expect(error).toBeInstanceOf(KbError);
		return (error as KbError).problems.map((p) => `${p.line}: ${p.message}`);
	}
}

describe('loadKb', () => {
	it('accepts a valid file', () => {
		expect(loadKb([{path: 'k.yaml', text: entry()}]).byId.get('good-one')?.layer).toBe('image');
	});

	it('points at the line of a schema error', () => {
		const bad = entry().replace('layer: image', 'layer: imagez');
		expect(problems(bad)).toEqual([expect.stringMatching(/^5: entries\.0\.layer: /)]);
	});

	it('points at the line of a YAML syntax error', () => {
		expect(problems('topic: test\nentries:\n  - id: [unclosed\n')[0]).toMatch(/^\d+: /);
	});

	it('rejects unknown keys, duplicate ids, bad regexes and entries without a signature', () => {
		expect(problems(entry().replace('summary:', 'summry: x\n    summary:'))[0]).toMatch(/summry/);
		expect(problems(entry(entry().split('entries:\n')[1]))).toContainEqual(expect.stringMatching(/duplicate id "good-one"/));
		expect(problems(entry().replace("'ErrImageNeverPull'", "'(unclosed'"))).toContainEqual(expect.stringMatching(/invalid pattern/));
		expect(problems(entry().replace('role: signature', 'role: support'))).toContainEqual(
			expect.stringMatching(/needs at least one signal with role: signature/),
		);
	});

	it('rejects a command remediation written as a shell string', () => {
		const withFix = entry().replace(
			'    examples:',
			`    remediations:
      - {key: c, title: Prune, kind: command, change: prune, verify: df -h shows space, undo: none, command: 'podman system prune -f'}
    examples:`,
		);
		expect(problems(withFix)).toEqual([expect.stringMatching(/^10: entries\.0\.remediations\.0\.command: Invalid input: expected array/)]);
	});
});

describe('lintKb', () => {
	it('rejects catastrophic patterns, reserved keys and thin examples', () => {
		const kb = loadKb([
			{
				path: 'k.yaml',
				text: entry()
					.replace("'ErrImageNeverPull'", () => "'(a+)+$'")
					.replace('positive: [a, b]', 'positive: [a]')
					.replace(
						'    examples:',
						'    remediations:\n      - {key: q, title: Quit it, kind: info, change: none, verify: none, undo: none}\n    explains: [nope]\n    examples:',
					),
			},
		]);
		const msgs = lintKb(kb).map((p) => p.message);
		expect(msgs).toContainEqual(expect.stringMatching(/backtrack catastrophically/));
		expect(msgs).toContainEqual(expect.stringMatching(/at least two positive/));
		expect(msgs).toContainEqual(expect.stringMatching(/reserved/));
		expect(msgs).toContainEqual(expect.stringMatching(/unknown id "nope"/));
	});

	it('refuses g as a fix key: the screens scroll to the top with it', () => {
		const kb = loadKb([
			{
				path: 'k.yaml',
				text: entry().replace(
					'    examples:',
					'    remediations:\n      - {key: g, title: Go on, kind: info, change: none, verify: none, undo: none}\n    examples:',
				),
			},
		]);
		expect(lintKb(kb).map((p) => p.message)).toContainEqual(expect.stringMatching(/remediation key "g" is reserved for navigation/));
	});
});
