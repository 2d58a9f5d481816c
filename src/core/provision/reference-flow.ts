import type {StepSpec} from './schedule.js';

/**
 * Kubernaut's Gateway E2E flow with the durations its reference measured (builds 2–3 min and 150–190 s for a
 * DataStorage rebuild, cluster ~15 s, image load ~25–30 s, migrations ~10 s, deploys ~30 s) and its memory
 * figure of 1–1.5 GB peak per Go build. The Kind node's resident memory and the small steps' memory are
 * estimates, not measurements; learned figures from real runs replace them (Step 2).
 */
export const REFERENCE_FLOW: StepSpec[] = [
	{id: 'build-gateway', deps: [], durationMs: 150_000, memoryMiB: 1400},
	{id: 'build-datastorage', deps: [], durationMs: 170_000, memoryMiB: 1400},
	{id: 'cluster', deps: [], durationMs: 15_000, memoryMiB: 300, residentMiB: 700},
	{id: 'crds', deps: ['cluster'], durationMs: 3_000, memoryMiB: 50},
	{id: 'load-gateway', deps: ['build-gateway', 'cluster'], durationMs: 25_000, memoryMiB: 450},
	{id: 'load-datastorage', deps: ['build-datastorage', 'cluster'], durationMs: 28_000, memoryMiB: 450},
	{id: 'postgres-redis', deps: ['cluster'], durationMs: 20_000, memoryMiB: 100, residentMiB: 300},
	{id: 'migrations', deps: ['postgres-redis'], durationMs: 10_000, memoryMiB: 80},
	{id: 'datastorage', deps: ['load-datastorage', 'migrations', 'crds'], durationMs: 30_000, memoryMiB: 100, residentMiB: 250},
	{id: 'gateway', deps: ['load-gateway', 'datastorage'], durationMs: 30_000, memoryMiB: 100, residentMiB: 200},
	{id: 'health', deps: ['gateway'], durationMs: 5_000, memoryMiB: 0},
];
