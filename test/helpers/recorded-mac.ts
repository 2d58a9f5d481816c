import {cpSync, mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {afterAll, beforeAll} from 'vitest';
import {createSetupFacts} from '../../src/adapters/setup-facts.js';
import {loadCompiledKb} from '../../src/commands/context.js';
import {createDoctorStore, type DoctorStore} from '../../src/state/store.js';
import {setupIntents} from '../../src/ui/run-setup.js';
import {recordedExec} from './recorded-exec.js';

/** The setup screen's world: a state folder of its own and a copy of the Kubernaut checkout, both gone afterwards. */
export function recordedMacCheckout(name: string): {checkout: string} {
	const state = mkdtempSync(join(tmpdir(), `kdoctor-${name}-`));
	const checkout = mkdtempSync(join(tmpdir(), `kdoctor-${name}-checkout-`));
	const saved = process.env.KDOCTOR_STATE_DIR;
	beforeAll(() => {
		process.env.KDOCTOR_STATE_DIR = state;
		cpSync(fileURLToPath(new URL('../fixtures/kubernaut-checkout', import.meta.url)), checkout, {recursive: true});
	});
	afterAll(() => {
		if (saved === undefined) delete process.env.KDOCTOR_STATE_DIR;
		else process.env.KDOCTOR_STATE_DIR = saved;
		rmSync(state, {recursive: true, force: true});
		rmSync(checkout, {recursive: true, force: true});
	});
	return {checkout};
}

/** The setup run on the recorded Mac (its podman, kind and Go as they answered there) for the kubernaut-gateway profile. */
export async function recordedMacSetup(checkout: string): Promise<{store: DoctorStore; intents: ReturnType<typeof setupIntents>}> {
	const kb = await loadCompiledKb({});
	const store = createDoctorStore();
	const facts = createSetupFacts({
		platform: 'darwin',
		exec: recordedExec(),
		env: {HOME: '/Users/dev', PATH: process.env.PATH},
		isRoot: false,
	});
	return {store, intents: setupIntents(kb, store, {profile: 'kubernaut-gateway', source: checkout}, facts)};
}
