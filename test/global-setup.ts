import {spawnSync} from 'node:child_process';
import {accessSync, constants, existsSync} from 'node:fs';
import {homedir} from 'node:os';
import {delimiter, join} from 'node:path';

/** Says once, at the start of `npm test`, which real parts of the world this machine lacks and what skips for it. */
export default function setup(): void {
	const on = (tool: string) =>
		(process.env.PATH ?? '')
			.split(delimiter)
			.filter(Boolean)
			.some((d) => {
				try {
					accessSync(join(d, tool), constants.X_OK);
					return true;
				} catch {
					return false;
				}
			});
	const cache =
		process.env.KDOCTOR_WORLD_CACHE ?? (process.getuid?.() === 0 ? '/var/cache/kdoctor-world' : join(homedir(), '.cache', 'kdoctor-world'));
	const missing: string[] = [];
	if (process.getuid?.() !== 0) missing.push('root (the cgroup memory-limit and real OOM-kill tests)');
	if (!(on('podman') && spawnSync('podman', ['info', '--format', '{{.Host.Arch}}'], {timeout: 20_000}).status === 0))
		missing.push('a working podman (builds, kind load, the provisioning flow)');
	if (!on('tmux')) missing.push('tmux (the real-terminal UI tests)');
	if (!existsSync(join(cache, 'bin', 'kind')) && !on('kind') && !on('go')) missing.push('kind or Go to build it (the Kind CLI tests)');
	if (!on('groff')) missing.push('groff (the man page check)');
	const strict = Boolean(process.env.CI || process.env.KDOCTOR_REQUIRE_WORLD);
	console.log(
		missing.length === 0
			? '[world] everything the suite runs for real is here (podman, tmux, kind, root; the local cluster is started where missing)'
			: `[world] this machine lacks ${missing.join('; ')}: ${strict ? 'in CI these FAIL' : 'those tests are skipped'} (.ci/run installs them as root)`,
	);
}
