import {createTriage, LIVE_KINDS, type TriageSnapshot} from '../../src/core/cluster/engine.js';
import type {LiveNode, LivePod} from '../../src/core/cluster/ports.js';
import {diagnoseText} from '../../src/core/diagnose/diagnose.js';
import type {CompiledKb} from '../../src/core/kb/compile.js';
import {jobPod} from './live-pod.js';

/** The real triage engine's first complete snapshot of namespace demo, fed these pods and their previous logs. */
export async function engineSnapshot(
	kb: CompiledKb,
	pods: LivePod[],
	previousLog: (pod: string) => string,
	nodes: LiveNode[] = [{uid: 'n', name: 'n', ready: true, images: []}],
): Promise<TriageSnapshot> {
	let last: TriageSnapshot | undefined;
	const t = createTriage(
		{
			diagnose: (text, facts) => diagnoseText(kb, text, facts),
			logs: async (_n, p, _c, o) => (o.previous ? previousLog(p) : ''),
			now: () => Date.now(),
			setTimer: (fn, ms) => setTimeout(fn, ms),
			clearTimer: (x) => clearTimeout(x as NodeJS.Timeout),
		},
		{namespace: 'demo', onUpdate: (x) => (last = x)},
	);
	for (const k of LIVE_KINDS) if (k !== 'pods' && k !== 'nodes') t.sink.reset(k, []);
	t.sink.reset('nodes', nodes);
	t.sink.reset('pods', pods);
	for (let i = 0; i < 200 && !last?.complete; i++) await new Promise((r) => setTimeout(r, 10));
	t.stop();
	return last!;
}

/** The demo namespace's two faults: a crash loop with its log, and an image the node does not hold. */
export const DEMO_PODS: LivePod[] = [
	jobPod('gateway-1', 'gateway', {
		name: 'gateway',
		image: 'localhost/demo/gateway:kd-1',
		ready: false,
		restartCount: 3,
		waitingReason: 'CrashLoopBackOff',
		lastTerminatedReason: 'Error',
		lastExitCode: 1,
	}),
	jobPod(
		'worker-1',
		'worker',
		{
			name: 'worker',
			image: 'demo/worker:kd-1',
			ready: false,
			restartCount: 0,
			waitingReason: 'ErrImageNeverPull',
			waitingMessage: 'Container image "demo/worker:kd-1" is not present with pull policy of Never',
		},
		'Pending',
	),
];
export const DEMO_NODES: LiveNode[] = [{uid: 'n', name: 'n', ready: true, images: ['localhost/demo/worker:kd-1']}];
export const demoPreviousLog = (pod: string) =>
	pod === 'gateway-1'
		? '2026-11-23T10:00:01.000Z {"level":"fatal","msg":"KUBERNAUT_CONTROLLER_NAMESPACE environment variable is required","env_var":"KUBERNAUT_CONTROLLER_NAMESPACE"}'
		: '';
