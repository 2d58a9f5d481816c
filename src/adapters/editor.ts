/**
 * Opens a file in the person's $VISUAL or $EDITOR and waits for it to close. The variable is split on blanks into an
 * argv (`code -w`, `vim`), never run through a shell; the file is the last argument.
 */
export async function openInEditor(file: string, env: NodeJS.ProcessEnv = process.env): Promise<'edited' | 'no editor' | {failed: string}> {
	const spec = (env.VISUAL || env.EDITOR || '').trim();
	if (!spec) return 'no editor';
	const [cmd, ...args] = spec.split(/\s+/);
	const {execa} = await import('execa');
	try {
		await execa(cmd!, [...args, file], {stdio: 'inherit', reject: true});
		return 'edited';
	} catch (error) {
		return {failed: (error as {shortMessage?: string}).shortMessage ?? (error as Error).message};
	}
}
