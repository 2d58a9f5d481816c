/** Small builders for tests that talk to the local cluster. */
import {readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {expect} from 'vitest';
import {parse, stringify} from 'yaml';
import {KubeError} from '../../src/adapters/kube.js';

/** A one-container Deployment labelled app=NAME whose image is only taken from the node (pull policy Never). */
export function testDeployment(
	name: string,
	container: Record<string, unknown>,
	extra: Record<string, unknown> = {},
): Record<string, unknown> {
	return {
		apiVersion: 'apps/v1',
		kind: 'Deployment',
		metadata: {name},
		spec: {
			replicas: 1,
			selector: {matchLabels: {app: name}},
			template: {
				metadata: {labels: {app: name}},
				spec: {terminationGracePeriodSeconds: 1, containers: [{name: 'app', imagePullPolicy: 'Never', ...container}], ...extra},
			},
		},
	};
}

/** A copy of a kubeconfig with another server, user or context name, written (0600) into dir. */
export function kubeconfigVariant(base: string, dir: string, file: string, change: (cfg: Record<string, any>) => void): string {
	const cfg = parse(readFileSync(base, 'utf8')) as Record<string, any>;
	change(cfg);
	const path = join(dir, file);
	writeFileSync(path, stringify(cfg), {mode: 0o600});
	return path;
}

/** The one-line KubeError a promise rejects with; the test fails if it resolves. */
export async function kubeRejection(p: Promise<unknown>): Promise<KubeError> {
	try {
		await p;
	} catch (error) {
		expect(error).toBeInstanceOf(KubeError);
		expect((error as Error).message).not.toContain('\n');
		return error as KubeError;
	}
	throw new Error('expected a rejection');
}
