import type {Finding} from '../../src/core/diagnose/score.js';
import type {PlannedStep, RunEvent, StepKind} from '../../src/core/provision/events.js';

/** A fixed local start time, so plain lines read 10:00:00.000 in any time zone. */
export const T0 = new Date(2025, 0, 2, 10, 0, 0, 0).getTime();
export const s = (seconds: number) => T0 + seconds * 1000;

export function planned(
	id: string,
	title: string,
	kind: StepKind,
	deps: string[],
	memoryMiB: number,
	estimateMs: number,
	residentMiB = 0,
): PlannedStep {
	return {id, title, kind, deps, memoryMiB, memorySource: 'default', residentMiB, estimateMs};
}

/** The Gateway flow, small: two builds and a cluster in parallel, then loads, deploys and a health check. */
export const PLAN: PlannedStep[] = [
	planned('build-gateway', 'Build gateway image', 'build', [], 1400, 150_000),
	planned('build-datastorage', 'Build datastorage image', 'build', [], 1400, 170_000),
	planned('cluster', 'Create Kind cluster', 'cluster', [], 300, 15_000, 700),
	planned('load-images', 'Load images into the node', 'load', ['build-gateway', 'build-datastorage', 'cluster'], 450, 25_000),
	planned('deploy-gateway', 'Deploy Gateway', 'deploy', ['load-images'], 100, 30_000, 200),
	planned('health', 'Health check', 'health', ['deploy-gateway'], 0, 5_000),
];

export const runStart = (steps: PlannedStep[] = PLAN): RunEvent => ({
	type: 'run-start',
	at: T0,
	runId: 'r-0102-1000',
	runDir: '/tmp/kdoctor/runs/r-0102-1000',
	profile: 'gateway-e2e',
	provider: 'kind',
	engine: 'podman',
	budgetMiB: 4000,
	budgetSource: 'podman machine',
	steps,
});

export const start = (id: string, sec: number, attempt = 1): RunEvent => ({type: 'step-start', at: s(sec), id, attempt});
export const end = (
	id: string,
	sec: number,
	durationSec: number,
	state: 'done' | 'failed' | 'skipped' | 'cancelled' = 'done',
	extra: {note?: string; peakMiB?: number} = {},
): RunEvent => ({
	type: 'step-end',
	at: s(sec),
	id,
	state,
	durationMs: durationSec * 1000,
	...extra,
});
export const line = (id: string, sec: number, text: string, stream: 'stdout' | 'stderr' = 'stdout'): RunEvent => ({
	type: 'step-line',
	at: s(sec),
	id,
	line: text,
	stream,
});

/** A clean parallel run: both builds and the cluster side by side, then the rest in a chain; ready at 3m20s. */
export const SUCCESS: RunEvent[] = [
	runStart(),
	start('build-gateway', 0),
	start('build-datastorage', 0),
	start('cluster', 0),
	line('build-gateway', 1, 'STEP 1/9: FROM golang:1.24 AS builder'),
	end('cluster', 15, 15, 'done', {peakMiB: 610}),
	end('build-gateway', 150, 150, 'done', {peakMiB: 1380}),
	end('build-datastorage', 170, 170, 'done', {peakMiB: 1290}),
	start('load-images', 170),
	end('load-images', 180, 10),
	start('deploy-gateway', 180),
	end('deploy-gateway', 195, 15),
	start('health', 195),
	end('health', 200, 5),
	{
		type: 'run-end',
		at: s(200),
		ok: true,
		durationMs: 200_000,
		runDir: '/tmp/kdoctor/runs/r-0102-1000',
		message: 'Gateway answers on http://localhost:8080',
		bundle: '/tmp/kdoctor/runs/r-0102-1000/bundle.tar.gz',
	},
];

export const FINDING: Finding = {
	id: 'image-name-mismatch',
	title: 'The manifest asks for an image name the node does not hold',
	layer: 'image',
	confidence: 0.85,
	summary: 'Podman tags local builds localhost/<name>; the manifest asks for <name>.',
	evidence: [
		{
			line: 41,
			text: 'Warning  ErrImageNeverPull  kubelet  Container image "gateway:1a2b" is not present with pull policy of Never',
			signal: 'never-pull',
			means: 'the node lacks that exact name',
			role: 'signature',
			source: 'text',
		},
	],
	lines: [41],
	why: [{signal: 'never-pull', means: 'the node lacks that exact name', role: 'signature', weight: 0.85, count: 1}],
	remediations: [
		{key: 'p', title: 'Patch the deployment to localhost/gateway:1a2b', kind: 'kube-patch'},
		{key: 't', title: 'Tag the image as gateway:1a2b in the node', kind: 'command'},
	],
	captures: {image: 'gateway:1a2b'},
};

/** How the run of a failed Deploy Gateway ends: the message, the resume command and the bundle. */
export const FAILED_END: RunEvent = {
	type: 'run-end',
	at: s(182),
	ok: false,
	durationMs: 182_000,
	runDir: '/tmp/r',
	message: 'Deploy Gateway failed: the manifest asks for an image name the node does not hold',
	resume: 'kdoctor up --resume r-0102-1000',
	bundle: '/tmp/r/bundle.tar.gz',
};
