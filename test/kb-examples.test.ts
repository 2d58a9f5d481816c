import {describe, expect, it} from 'vitest';
import {lintKb, testKb} from '../src/core/kb/check.js';
import {realKb} from './helpers/kb.js';

/** The 38 ids outside measurements score against: every one must exist. */
const REQUIRED = `arch-mismatch base-image-policy build-context-missing-file build-oom-killed container-name-conflict
coverage-dir-unwritable crashloop-app-error crashloop-config-error crd-not-installed db-auth-failed dependency-unreachable
disk-full engine-unreachable engine-vm-resources go-runtime-emulation-crash go-runtime-lfstack-crash go-toolchain-too-old
healthcheck-timeout host-port-conflict image-name-mismatch image-not-loaded image-pull-local-image kind-cluster-exists
kind-config-invalid kind-extra-mount-missing kind-load-image-not-present kind-node-not-ready migration-failed
nodeport-unreachable pod-oom-killed pod-unschedulable podman-rootless-cgroups rbac-forbidden readiness-probe-failing
registry-auth registry-rate-limit registry-tls serviceaccount-missing`.split(/\s+/);

const kb = realKb();

describe('the shipped knowledge base', () => {
	it('has every required id, each with two positive and one negative example', () => {
		for (const id of REQUIRED) {
			const e = kb.kb.byId.get(id);
			expect(e, id).toBeDefined();
			expect(e!.examples.positive.length, id).toBeGreaterThanOrEqual(2);
			expect(e!.examples.negative.length, id).toBeGreaterThanOrEqual(1);
		}
	});

	it('passes lint with no errors', () => {
		expect(lintKb(kb.kb).filter((p) => p.severity === 'error')).toEqual([]);
	});

	describe.each(kb.kb.entries.map((e) => e.id))('%s', (id) => {
		it.each(testKb(kb, id).map((r) => [`${r.kind} ${r.name}`, r] as const))('%s', (_name, r) => {
			expect(r.ok, r.message).toBe(true);
		});
	});
});
