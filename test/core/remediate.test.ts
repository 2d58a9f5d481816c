import {mkdtempSync, readdirSync, readFileSync, writeFileSync, mkdirSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {beforeEach, describe, expect, it} from 'vitest';
import {createFsPort} from '../../src/adapters/fs-port.js';
import {createJournal} from '../../src/adapters/journal.js';
import {diagnoseText} from '../../src/core/diagnose/diagnose.js';
import {createExec, reasonLine} from '../../src/adapters/exec.js';
import type {JournalPort} from '../../src/core/ports.js';
import {createChangeService, JOURNAL_SHAPE, undoable} from '../../src/core/remediate/changes.js';
import {fillTemplate, planRemediation} from '../../src/core/remediate/plan.js';
import {inlineKb} from '../helpers/kb.js';

const KB = inlineKb(
	`
topic: remediation
entries:
  - id: short-name
    title: Image name without registry
    layer: image
    summary: The manifest names an image without the localhost/ prefix podman gave it.
    signals:
      - {id: img, means: image, role: signature, weight: 0.8, pattern: 'Container image "([\\w][\\w./:-]*)" is not present', capture: {name: image, group: 1}}
    remediations:
      - key: m
        title: Prefix {{image}} with localhost/
        kind: edit-file
        change: replace {{image}} with localhost/{{image}}
        verify: the pod starts
        undo: kdoctor undo
        edit: {in: search, glob: ['**/*.yaml'], find: '{{image}}', replace: 'localhost/{{image}}', boundary: image-ref}
      - key: c
        title: Load {{image}} into {{cluster}}
        kind: command
        change: loads it
        verify: crictl lists it
        undo: nothing
        command: [kind, load, image-archive, '{{archive}}', --name, '{{cluster}}']
      - key: p
        title: Patch the deployment
        kind: kube-patch
        needsCluster: true
        change: set image
        verify: pod ready
        undo: patch back
    examples: {positive: [a, b], negative: [c]}
  - id: policy
    title: Base image from a forbidden registry
    layer: build
    summary: A Dockerfile FROM line names a registry outside the allow-list.
    settings: {}
    signals:
      - {id: from, means: base image, role: signature, weight: 0.8, pattern: '^\\s*FROM\\s+(?:--platform=\\S+\\s+)?(\\S+)', capture: {name: image, group: 1, as: image-ref, unlessPrefix: [registry.access.redhat.com/]}}
    remediations:
      - key: f
        title: Use an approved base image instead of {{image}}
        kind: edit-file
        change: FROM {{image}} becomes FROM {{approved}}
        verify: podman build succeeds
        undo: kdoctor undo
        edit: {in: evidence, glob: ['**/Dockerfile'], find: '{{image}}', replace: '{{approved}}', boundary: image-ref}
        derive: {approved: {from: image, rules: [{match: golang, value: registry.access.redhat.com/ubi9/go-toolset:latest}, {match: '.', value: registry.access.redhat.com/ubi9/ubi-minimal:latest}]}}
    examples: {positive: [a, b], negative: [c]}
`.replace('    settings: {}\n', ''),
);

let dir: string;
const fs = createFsPort();
const clock = {now: () => new Date('2026-11-23T10:00:00Z')};
// The change service on a test journal, real files and the real command runner (argv, no shell).
const changes = (journal: JournalPort, files = fs) =>
	createChangeService({journal, fs: files, clock, exec: async () => createExec(), failure: reasonLine});

beforeEach(() => {
	dir = mkdtempSync(join(tmpdir(), 'kdoctor-fix-'));
	mkdirSync(join(dir, 'manifests'));
	writeFileSync(
		join(dir, 'manifests', 'gateway.yaml'),
		'spec:\n  containers:\n    - image: gateway:run-1\n    - image: localhost/gateway:run-1\n    - image: gateway:run-10\n',
	);
	writeFileSync(join(dir, 'notes.txt'), 'image: gateway:run-1\n');
});

function plan(text: string, key: string, evidenceFile?: string) {
	const d = diagnoseText(KB, text);
	const f = d.findings[0]!;
	const entry = KB.kb.byId.get(f.id)!;
	return planRemediation(
		entry,
		entry.remediations.find((r) => r.key === key)!,
		f,
		{fs, cwd: dir, evidenceFile},
	);
}

describe('edit-file remediations', () => {
	it('previews an exact diff touching only whole image references, and changes nothing yet', () => {
		const p = plan('Container image "gateway:run-1" is not present with pull policy of Never', 'm');
		expect(p.status).toBe('ready');
		expect(p.title).toBe('Prefix gateway:run-1 with localhost/');
		expect(p.edits).toHaveLength(1);
		expect(p.edits![0]!.count).toBe(1);
		expect(p.edits![0]!.diff).toContain('--- a/manifests/gateway.yaml');
		expect(p.edits![0]!.diff).toContain('-    - image: gateway:run-1\n+    - image: localhost/gateway:run-1\n');
		expect(readFileSync(join(dir, 'manifests', 'gateway.yaml'), 'utf8')).toContain('- image: gateway:run-1\n');
	});

	it('applies atomically with a journal entry, and undo restores the file byte for byte', async () => {
		const journal = createJournal(join(dir, 'journal'));
		const before = readFileSync(join(dir, 'manifests', 'gateway.yaml'), 'utf8');
		const p = plan('Container image "gateway:run-1" is not present', 'm');
		const rec = changes(journal).applyEdit(p);
		const after = readFileSync(join(dir, 'manifests', 'gateway.yaml'), 'utf8');
		expect(after).toBe(
			'spec:\n  containers:\n    - image: localhost/gateway:run-1\n    - image: localhost/gateway:run-1\n    - image: gateway:run-10\n',
		);
		expect(journal.list()).toHaveLength(1);
		expect(readdirSync(join(dir, 'manifests'))).toEqual(['gateway.yaml']);
		const pending = changes(journal).newestUndoable();
		expect(pending?.id).toBe(rec.id);
		expect(await changes(journal).undo(pending!)).toEqual([`restored ${join(dir, 'manifests', 'gateway.yaml')}`]);
		expect(readFileSync(join(dir, 'manifests', 'gateway.yaml'), 'utf8')).toBe(before);
		expect(changes(journal).newestUndoable()).toBeUndefined();
		await expect(changes(journal).undo(journal.list().find((e) => e.id === rec.id)!)).rejects.toThrow(/cannot be undone: undone /);
	});

	it('refuses to apply over a file changed since the preview, and to undo over a later edit', () => {
		const journal = createJournal(join(dir, 'journal'));
		const p = plan('Container image "gateway:run-1" is not present', 'm');
		writeFileSync(join(dir, 'manifests', 'gateway.yaml'), 'someone else edited this\n');
		expect(() => changes(journal).applyEdit(p)).toThrow(/changed since the preview/);
		expect(journal.list()).toHaveLength(0);
		const p2 = plan('Container image "gateway:run-1" is not present', 'm');
		expect(p2.status).toBe('nothing-to-change');
	});

	it('refuses to undo when the file was edited after kdoctor changed it', async () => {
		const journal = createJournal(join(dir, 'journal'));
		changes(journal).applyEdit(plan('Container image "gateway:run-1" is not present', 'm'));
		writeFileSync(join(dir, 'manifests', 'gateway.yaml'), 'hand edit\n');
		await expect(changes(journal).undo(changes(journal).newestUndoable()!)).rejects.toThrow(/changed after kdoctor edited it/);
		expect(readFileSync(join(dir, 'manifests', 'gateway.yaml'), 'utf8')).toBe('hand edit\n');
	});

	it('edits the Dockerfile the evidence came from, each FROM it names to its own approved image', () => {
		const dockerfile = join(dir, 'Dockerfile');
		const text =
			'FROM docker.io/library/golang:1.24-alpine AS builder\nRUN go build ./...\nFROM builder AS test\nFROM alpine:3.20\nFROM registry.access.redhat.com/ubi9/ubi-minimal:latest\n';
		writeFileSync(dockerfile, text);
		const d = diagnoseText(KB, text);
		const f = d.findings[0]!;
		expect(f.id).toBe('policy');
		const entry = KB.kb.byId.get('policy')!;
		const p = planRemediation(entry, entry.remediations[0]!, f, {fs, cwd: dir, evidenceFile: dockerfile});
		expect(p.status).toBe('ready');
		// One fix for every line the evidence names (a stage alias and an approved image are left as they are).
		expect(p.edits![0]!.after).toBe(
			text
				.replace('docker.io/library/golang:1.24-alpine', 'registry.access.redhat.com/ubi9/go-toolset:latest')
				.replace('FROM alpine:3.20', 'FROM registry.access.redhat.com/ubi9/ubi-minimal:latest'),
		);
		expect(p.edits![0]!.count).toBe(2);
		expect(f.why[0]!.count).toBe(2);
	});

	it('cannot edit a file when the evidence came from standard input', () => {
		const d = diagnoseText(KB, 'FROM golang:1.24\n');
		const entry = KB.kb.byId.get('policy')!;
		const p = planRemediation(entry, entry.remediations[0]!, d.findings[0]!, {fs, cwd: dir, evidenceFile: '-'});
		expect(p.status).toBe('missing-input');
	});
});

describe('applying is all or nothing', () => {
	it('changes no file when one of several cannot be staged, and writes no journal entry', () => {
		writeFileSync(join(dir, 'other.yaml'), 'image: gateway:run-1\n');
		const journal = createJournal(join(dir, 'journal'));
		const p = plan('Container image "gateway:run-1" is not present', 'm');
		expect(p.edits).toHaveLength(2);
		let calls = 0;
		const failing = {
			...fs,
			stage: (path: string, text: string) =>
				++calls === 2
					? (() => {
							throw new Error('disk full');
						})()
					: fs.stage(path, text),
		};
		expect(() => changes(journal, failing).applyEdit(p)).toThrow(/nothing was changed: disk full/);
		expect(readFileSync(join(dir, 'manifests', 'gateway.yaml'), 'utf8')).toContain('- image: gateway:run-1\n');
		expect(readFileSync(join(dir, 'other.yaml'), 'utf8')).toBe('image: gateway:run-1\n');
		expect(journal.list()).toHaveLength(0);
		expect(readdirSync(join(dir, 'manifests'))).toEqual(['gateway.yaml']);
	});
});

describe('other remediation kinds', () => {
	it('fills a command argv from captures and says what is missing, never running it', () => {
		const p = plan('Container image "gateway:run-1" is not present', 'c');
		expect(p.status).toBe('missing-input');
		expect(p.reason).toMatch(/archive, cluster/);
		expect(p.argv).toEqual(['kind', 'load', 'image-archive', '{{archive}}', '--name', '{{cluster}}']);
	});

	it('marks a kube-patch as needing the cluster', () => {
		expect(plan('Container image "gateway:run-1" is not present', 'p').status).toBe('needs-cluster');
	});

	it('keeps template values literal, even with $ and regex characters', () => {
		expect(fillTemplate('GOARCH=${TARGETARCH} {{a}}', {a: '$1.*'}).text).toBe('GOARCH=${TARGETARCH} $1.*');
		expect(fillTemplate('{{a}} {{b}}', {a: 'x'}).missing).toEqual(['b']);
	});
});

describe('the change service runs host commands and takes them back', () => {
	it('journals first, runs argv one after another, undoes with the recorded undo, and stops at the first failure', async () => {
		const journal = createJournal(join(dir, 'journal'));
		const made = join(dir, 'made by kdoctor');
		const done = await changes(journal).runCommands({
			finding: 'f',
			remediation: 'x',
			title: 'make a file',
			commands: [['touch', made]],
			undo: [['rm', made]],
			timeoutMs: 10_000,
		});
		expect(done.failed).toBeUndefined();
		expect(readdirSync(dir)).toContain('made by kdoctor');
		const [entry] = journal.list();
		expect(entry).toMatchObject({v: JOURNAL_SHAPE, kind: 'command', host: {commands: [['touch', made]], undo: [['rm', made]]}});
		expect(changes(journal).undoPreview(entry!, dir).change).toContain(`runs rm '${made}'`);
		expect(await changes(journal).undo(entry!)).toEqual([`ran rm '${made}'`]);
		expect(readdirSync(dir)).not.toContain('made by kdoctor');
		expect(undoable(journal.list()[0]!)).toMatch(/^undone /);

		const second = join(dir, 'never made');
		const failed = await changes(journal).runCommands({
			finding: 'f',
			remediation: 'y',
			title: 'fails first',
			commands: [
				['ls', join(dir, 'no such file')],
				['touch', second],
			],
			noUndo: 'nothing to take back',
			timeoutMs: 10_000,
		});
		expect(failed.failed?.argv[0]).toBe('ls');
		expect(failed.ran).toHaveLength(1);
		expect(readdirSync(dir)).not.toContain('never made');
		expect(undoable(journal.list().find((e) => e.remediation === 'y')!)).toBe('nothing to take back');
	});
});
