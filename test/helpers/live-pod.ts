import type {LivePod} from '../../src/core/cluster/ports.js';

/** A Job's pod in namespace demo, not ready, with one container as the test gives it. */
export const jobPod = (name: string, owner: string, c: LivePod['containers'][number], phase = 'Running'): LivePod => ({
	uid: name,
	name,
	namespace: 'demo',
	phase,
	ready: false,
	labels: {},
	ownerKind: 'Job',
	ownerName: owner,
	createdAt: new Date().toISOString(),
	containers: [c],
	imagePullPolicy: {},
});
