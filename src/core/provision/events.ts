import type {Finding} from '../diagnose/score.js';

export type StepKind = 'check' | 'build' | 'pull' | 'cluster' | 'load' | 'deploy' | 'health' | 'coverage';
export type StepState = 'waiting' | 'running' | 'done' | 'failed' | 'skipped' | 'cancelled';

/** A step of the plan as the screen and the JSON stream describe it. */
export type PlannedStep = {
	id: string;
	title: string;
	kind: StepKind;
	deps: string[];
	/** Peak memory assumed for scheduling, MiB, and where the figure came from. */
	memoryMiB: number;
	memorySource: 'default' | 'profile' | 'learned';
	/** Memory held after the step until the run ends (the cluster node), MiB. */
	residentMiB: number;
	/** Expected duration, ms (learned, or the default). */
	estimateMs: number;
};

/** Everything `kdoctor up` reports, in order; the screen, plain lines and --json all read this stream. */
export type RunEvent =
	| {
			type: 'run-start';
			at: number;
			runId: string;
			runDir: string;
			profile: string;
			provider: string;
			engine: string;
			budgetMiB: number;
			budgetSource: string;
			steps: PlannedStep[];
	  }
	| {type: 'step-start'; at: number; id: string; attempt: number}
	| {type: 'step-line'; at: number; id: string; line: string; stream: 'stdout' | 'stderr'}
	/** A note on a running step worth a line of its own (cache hit, image names, retry reason). */
	| {type: 'step-note'; at: number; id: string; text: string}
	| {
			type: 'step-end';
			at: number;
			id: string;
			state: Exclude<StepState, 'waiting' | 'running'>;
			durationMs: number;
			/** Why a step ended as it did, in one line: "cached", "OOM-killed, re-running alone". */
			note?: string;
			peakMiB?: number;
	  }
	/** A build was killed for memory: it will run again alone, with its learned peak raised. */
	| {
			type: 'step-retry';
			at: number;
			id: string;
			attempt: number;
			reason: string;
			memoryMiB: number;
			/** The KB's finding for the kill, with its evidence. */ finding?: Finding;
	  }
	| {type: 'diagnosis'; at: number; step?: string; findings: Finding[]}
	| {
			type: 'run-end';
			at: number;
			ok: boolean;
			durationMs: number;
			runDir: string;
			/** One line: what happened and what to do next. */
			message: string;
			/** The command that resumes after a failure or Ctrl-C, when there is one. */
			resume?: string;
			bundle?: string;
	  };

export type RunListener = (event: RunEvent) => void;
