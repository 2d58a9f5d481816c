export type Hue = 'green' | 'red' | 'yellow' | 'cyan' | 'gray';

/** NO_COLOR (https://no-color.org) or FORCE_COLOR=0 turn colour off; Ink's chalk only honours the second. */
export function colorWanted(env: NodeJS.ProcessEnv = process.env): boolean {
	if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
	return env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false';
}

/** A colour prop for <Text>, or none when colour is off; glyphs and fills carry the meaning either way. */
export function hue(on: boolean, c: Hue | undefined): Hue | undefined {
	return on ? c : undefined;
}
