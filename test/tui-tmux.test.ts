import {spawnSync} from 'node:child_process';
import {mkdtempSync, readFileSync, writeFileSync, mkdirSync, copyFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, describe, expect, it} from 'vitest';
import {createServer} from 'node:net';
import {CLI} from './helpers/cli.js';
import {hasTmux, tmuxDriver} from './helpers/tmux.js';
import {kindBinary} from './helpers/world.js';

const tmuxInstalled = hasTmux();
if (!tmuxInstalled) console.log('tui-tmux: skipped: tmux is not installed (.ci/run installs it; apt-get install tmux)');

const SOCKET = `kdoctor-test-${process.pid}`;
const {tmux, waitFor, kill} = tmuxDriver(SOCKET, 'k', 15_000);

afterAll(() => {
	if (tmuxInstalled) kill();
});

describe.skipIf(!tmuxInstalled)('the real terminal UI, driven through tmux', () => {
	it('diagnoses a failed run, previews and applies a fix, undoes it, quits with exit 1', async () => {
		const dir = mkdtempSync(join(tmpdir(), 'kdoctor-tmux-'));
		mkdirSync(join(dir, 'manifests'));
		const manifest = join(dir, 'manifests', 'gateway.yaml');
		writeFileSync(manifest, 'containers:\n  - name: gateway\n    image: gateway:gateway-1a2b3c4d\n');
		copyFileSync(new URL('../examples/gateway-e2e-failed-run.log', import.meta.url), join(dir, 'run.log'));
		// CI=true (set by CI runners) turns the screen off; a person at a terminal does not have it.
		const cmd = `cd ${dir} && env -u CI KDOCTOR_STATE_DIR=${dir}/state TERM=xterm-256color node ${CLI} diagnose run.log; echo "EXIT=$?"; sleep 60`;
		tmux('new-session', '-d', '-s', 'k', '-x', '120', '-y', '45', cmd);
		const first = await waitFor(/likely cause/);
		expect(first).toMatch(/› .*image-name-mismatch/);
		tmux('send-keys', '-t', 'k', 'Enter');
		await waitFor(/Why \d+%/);
		tmux('send-keys', '-t', 'k', 'Escape');
		tmux('send-keys', '-t', 'k', 'm');
		await waitFor(/\+\s+image: localhost\/gateway:gateway-1a2b3c4d/);
		tmux('send-keys', '-t', 'k', 'y');
		await waitFor(/Applied: 1 file changed/);
		expect(readFileSync(manifest, 'utf8')).toContain('image: localhost/gateway:gateway-1a2b3c4d');
		tmux('send-keys', '-t', 'k', 'u');
		// u previews the undo first; y takes it back.
		await waitFor(/Undo: /);
		expect(readFileSync(manifest, 'utf8')).toContain('image: localhost/gateway:gateway-1a2b3c4d');
		tmux('send-keys', '-t', 'k', 'y');
		await waitFor(/Undone:/);
		expect(readFileSync(manifest, 'utf8')).toContain('image: gateway:gateway-1a2b3c4d');
		tmux('send-keys', '-t', 'k', 'q');
		const end = await waitFor(/EXIT=\d/);
		expect(end).toMatch(/EXIT=1/);
		expect(end).not.toMatch(/\bERROR\b/);
	});

	it('a failure nothing explains: + then y leaves the screen for kdoctor kb new, which drafts, opens $EDITOR and tests the entry', async () => {
		const dir = mkdtempSync(join(tmpdir(), 'kdoctor-tmux-new-'));
		writeFileSync(join(dir, 'fail.log'), 'ERROR frobnicator handshake rejected by upstream broker "alpha-7" (code 4411)\n');
		// The editor is a real program that records the file it was given and exits.
		const cmd = `cd ${dir} && env -u CI EDITOR="touch ${dir}/edited-by-editor" KDOCTOR_STATE_DIR=${dir}/state TERM=xterm-256color node ${CLI} diagnose fail.log; echo "EXIT=$?"; sleep 60`;
		tmux('new-session', '-d', '-s', 'n', '-x', '120', '-y', '40', cmd);
		const shot = () => tmux('capture-pane', '-p', '-t', 'n');
		const until = async (re: RegExp) => {
			const end = Date.now() + 15_000;
			let last = '';
			while (Date.now() < end && !re.test(last)) {
				last = shot();
				await new Promise((r) => setTimeout(r, 100));
			}
			expect(last).toMatch(re);
			return last;
		};
		await until(/draft your own/);
		tmux('send-keys', '-t', 'n', '+');
		await until(/Draft a team entry from fail\.log/);
		tmux('send-keys', '-t', 'n', 'y');
		const end = await until(/EXIT=\d/);
		expect(end).toMatch(/kb test: 3 passed, 0 failed/);
		expect(end).toMatch(/EXIT=0/);
		expect(readFileSync(join(dir, '.kdoctor', 'knowledge', 'team-frobnicator-handshake-rejected-upstream.yaml'), 'utf8')).toContain(
			'frobnicator handshake rejected by upstream broker',
		);
		// The editor was really run (touch made its marker file).
		expect(spawnSync('test', ['-e', join(dir, 'edited-by-editor')]).status).toBe(0);
		tmux('kill-session', '-t', 'n');
	});
});

const hasPodman = spawnSync('podman', ['--version']).status === 0;
describe.skipIf(!hasTmux || !hasPodman || !kindBinary())('kdoctor up on a real terminal', () => {
	it('shows the timeline, stops at pre-flight on a held host port with the diagnosis panel, quits with exit 1', async () => {
		const dir = mkdtempSync(join(tmpdir(), 'kdoctor-tmux-up-'));
		const server = createServer();
		await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
		const port = (server.address() as {port: number}).port;
		const root = new URL('..', import.meta.url).pathname;
		writeFileSync(
			join(dir, 'kdoctor.yaml'),
			`profiles:\n  ports:\n    source: ${root}\n    namespace: p\n    images:\n      - {name: gateway, repository: kdoctor-demo/gateway, dockerfile: dockerfiles/gateway.Dockerfile, context: demo}\n    cluster:\n      name: kdoctor-tmux\n      ports: [{containerPort: 30080, hostPort: ${port}}]\n    deploy:\n      - {id: gw, files: [manifests/demo/gateway.yaml]}\n`,
		);
		try {
			const cmd = `cd ${dir} && env -u CI PATH=${join(kindBinary()!, '..')}:$PATH KDOCTOR_STATE_DIR=${dir}/state TERM=xterm-256color node ${CLI} --config kdoctor.yaml up --profile ports; echo "EXIT=$?"; sleep 60`;
			tmux('new-session', '-d', '-s', 'u', '-x', '140', '-y', '40', cmd);
			const shot = () => tmux('capture-pane', '-p', '-t', 'u');
			const end = Date.now() + 60_000;
			let last = '';
			while (Date.now() < end && !/host-port-conflict/.test(last)) {
				last = shot();
				await new Promise((r) => setTimeout(r, 200));
			}
			expect(last).toMatch(/host-port-conflict/);
			expect(last).toMatch(/Pre-flight checks/);
			expect(last).toContain(`${port}`);
			expect(last).not.toMatch(/\bERROR\b/);
			tmux('send-keys', '-t', 'u', 'q');
			while (Date.now() < end && !/EXIT=\d/.test(last)) {
				last = shot();
				await new Promise((r) => setTimeout(r, 200));
			}
			expect(last).toMatch(/EXIT=1/);
		} finally {
			server.close();
			spawnSync('tmux', ['-L', SOCKET, 'kill-session', '-t', 'u']);
		}
	}, 90_000);
});
