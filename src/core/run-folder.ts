/**
 * The layout of a `kdoctor up` run folder (runs/<run id>/), in one place. Names in it come from run.json and
 * runs/latest, which may be copies from another machine: only names of the shapes kdoctor writes are used as paths.
 */
/** The run's record, written last by `kdoctor up` (its absence means the run was cut off). */
export const RUN_FILE = 'run.json';
const RUN_ID = /^[\w][\w.-]{0,99}$/;
const STEP_ID = /^[\w][\w.:-]{0,99}$/;

/** A run id as kdoctor makes one (no path separators, no `..`). */
export function isRunId(id: unknown): id is string {
	return typeof id === 'string' && RUN_ID.test(id) && !id.includes('..');
}

/** A step id as kdoctor makes one (`deploy:gateway`). */
export function isStepId(id: unknown): id is string {
	return typeof id === 'string' && STEP_ID.test(id) && !id.includes('..');
}

/** The step's own log inside the run folder (`steps/deploy-gateway.log`), or undefined for a name that is not a step id. */
export function stepLogPath(step: unknown): string | undefined {
	return isStepId(step) ? `steps/${step.replace(':', '-')}.log` : undefined;
}
