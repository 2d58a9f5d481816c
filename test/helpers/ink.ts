import {expect} from 'vitest';

export const KEYS = {ENTER: '\r', ESC: '\u001B', UP: '\u001B[A', DOWN: '\u001B[B', BACKSPACE: '\u007F'};

/** Lets React and Ink flush after input. */
export const tick = () => new Promise((r) => setTimeout(r, 20));

/** Ink renders render-errors INTO the frame; a test must fail on them. */
export function expectNoErrorFrames(frames: string[]): void {
	for (const f of frames) expect(f).not.toMatch(/\bERROR\b/);
}

export async function press(stdin: {write(s: string): void}, ...keys: string[]): Promise<void> {
	for (const k of keys) {
		stdin.write(k);
		await tick();
	}
}
