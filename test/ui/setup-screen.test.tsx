import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import {render} from 'ink-testing-library';
import {describe, expect, it} from 'vitest';
import {homeActions, type HomeAction, type HomeState} from '../../src/commands/home.js';
import {HomeScreen} from '../../src/ui/screens/home-screen.js';
import {SetupScreen} from '../../src/ui/screens/setup-screen.js';
import {StoreProvider} from '../../src/ui/store-context.js';
import {expectNoErrorFrames, KEYS, press, tick} from '../helpers/ink.js';
import {recordedMacCheckout, recordedMacSetup} from '../helpers/recorded-mac.js';

process.env.FORCE_COLOR = '0';
const {checkout} = recordedMacCheckout('setup-ui');

async function until(cond: () => boolean, ms = 10_000) {
	const end = Date.now() + ms;
	while (!cond()) {
		if (Date.now() > end) throw new Error('timed out waiting for the screen');
		await tick();
	}
}

describe('the setup screen, on the recorded Mac', () => {
	it(
		'fills in as checks end, previews the machine resize without running it, and applies the GOARCH fix after y',
		{timeout: 30_000},
		async () => {
			const {store, intents} = await recordedMacSetup(checkout);
			const r = render(
				<StoreProvider store={store}>
					<SetupScreen onIntent={intents.onIntent} heading="kdoctor setup — kubernaut-gateway" color={false} />
				</StoreProvider>,
			);
			try {
				await intents.run();
				await until(() => (r.lastFrame() ?? '').includes('Not ready'));
				const frame = r.lastFrame()!;
				expect(frame).toContain('Container engine');
				expect(frame).toMatch(/\[✗\] Engine memory against the profile's builds: podman machine podman-machine-default has 2048 MiB/);
				expect(frame).toContain('[m] Give podman machine podman-machine-default');
				// Without colour (color={false}, as NO_COLOR) the selected row still shows: one row has the marker.
				expect(frame.split('\n').filter((l) => /^› \[/.test(l))).toHaveLength(1);
				expect(frame).toMatch(/\[✗\] Image gateway: docker\/gateway\.Dockerfile:6: ENV …GOARCH=amd64 builds amd64/);

				// The resize is previewed as the exact commands and needs y; n leaves it.
				await press(r.stdin, 'm');
				await until(() => (r.lastFrame() ?? '').includes('y apply (journaled)'));
				expect(r.lastFrame()).toContain('$ podman machine stop podman-machine-default');
				expect(r.lastFrame()).toContain('$ podman machine start podman-machine-default');
				await press(r.stdin, 'n');
				expect(r.lastFrame()).not.toContain('y apply (journaled)');

				const file = join(checkout, 'docker/gateway.Dockerfile');
				await press(r.stdin, 'a');
				await until(() => (r.lastFrame() ?? '').includes('y apply (journaled)'));
				expect(r.lastFrame()).toContain('+ENV CGO_ENABLED=0 GOOS=linux GOARCH=${TARGETARCH}');
				expect(readFileSync(file, 'utf8')).toContain('GOARCH=amd64');
				await press(r.stdin, 'y');
				await until(() => (r.lastFrame() ?? '').includes('done: edited'));
				expect(readFileSync(file, 'utf8')).toContain('GOARCH=${TARGETARCH}');
				await press(r.stdin, KEYS.ESC);
				await until(() => !(r.lastFrame() ?? '').includes('GOARCH=amd64 builds amd64'));
				// Details and help open and close with enter, ? and a key.
				await press(r.stdin, KEYS.ENTER);
				expect(r.lastFrame()).toContain('— ');
				await press(r.stdin, '?');
				expect(r.lastFrame()).toContain('kdoctor setup — keys');
				await press(r.stdin, 'x');
				expectNoErrorFrames(r.frames);
			} finally {
				r.unmount();
			}
		},
	);
});

describe('the home screen', () => {
	const base: HomeState = {
		firstRun: false,
		profiles: [
			{name: 'demo', description: "kdoctor's demo", origin: 'built-in'},
			{name: 'kubernaut-gateway', description: "Kubernaut's Gateway E2E environment", origin: 'built-in'},
		],
	};
	const show = async (s: HomeState, keys: string[]) => {
		let chosen: HomeAction | undefined;
		const r = render(<HomeScreen state={s} onChoose={(a) => (chosen = a)} color={false} now={Date.parse('2026-11-23T10:10:00Z')} />);
		await tick();
		const frame = r.lastFrame()!;
		await press(r.stdin, ...keys);
		const after = r.lastFrame()!;
		expectNoErrorFrames(r.frames);
		r.unmount();
		return {frame, after, chosen: chosen as HomeAction | undefined};
	};

	it('a first day offers setup first', async () => {
		const {frame, chosen} = await show({...base, firstRun: true}, [KEYS.ENTER]);
		expect(frame).toContain('No run yet on this machine: start by checking it.');
		expect(frame).toContain('[s] check this machine first (kdoctor setup)   ← enter');
		expect(chosen?.argv).toEqual(['setup', '--profile', 'demo']);
	});

	it('a failed last run offers its diagnosis and its report', async () => {
		const last = {
			runId: 'r1',
			runDir: '/tmp/nowhere/r1',
			profile: 'kubernaut-gateway',
			ok: false,
			cancelled: false,
			failedStep: 'deploy:datastorage',
			finding: {id: 'db-auth-failed', title: 'PostgreSQL refused the password', confidence: 0.92},
			startedAt: '2026-11-23T10:00:00Z',
			durationMs: 95_000,
		};
		const {frame, chosen} = await show({...base, last}, ['r']);
		expect(frame).toContain('Last run: failed at deploy:datastorage — profile kubernaut-gateway, 10 min ago, took 95s');
		expect(frame).toContain('cause: PostgreSQL refused the password (db-auth-failed, 92%)');
		expect(frame).toMatch(/\[d\] diagnose the failed run \(deploy:datastorage: db-auth-failed\)\s+← enter/);
		expect(chosen?.argv).toEqual(['report', '/tmp/nowhere/r1']);
		expect(homeActions({...base, last}, 'demo')[0]!.argv).toEqual(['diagnose', '/tmp/nowhere/r1/run.log']);
	});

	it('a healthy cluster offers triage; the profile list chooses what up brings up', async () => {
		const last = {
			runId: 'r2',
			runDir: '/tmp/nowhere/r2',
			profile: 'demo',
			ok: true,
			cancelled: false,
			namespace: 'kdoctor-demo',
			kubeconfig: '/tmp/kc',
		};
		const {frame, chosen} = await show({...base, last, cluster: {healthy: true, detail: 'the API server answers'}}, [KEYS.ENTER]);
		expect(frame).toContain('cluster: answering');
		expect(chosen?.argv).toEqual(['triage', '-n', 'kdoctor-demo', '--kubeconfig', '/tmp/kc']);
		// up changes the machine: u asks first, and only y starts it.
		const asked = await show({...base, last}, [KEYS.DOWN, 'u']);
		expect(asked.chosen).toBeUndefined();
		expect(asked.after).toContain('kdoctor up --profile kubernaut-gateway builds its images');
		expect(asked.after).toContain('Start it? y yes');
		const declined = await show({...base, last}, [KEYS.DOWN, 'u', 'n']);
		expect(declined.chosen).toBeUndefined();
		const up = await show({...base, last}, [KEYS.DOWN, 'u', 'y']);
		expect(up.chosen?.argv).toEqual(['up', '--profile', 'kubernaut-gateway']);
	});
});
