import {useStdout} from 'ink';
import {useEffect, useState} from 'react';

export type TerminalSize = {columns: number; rows?: number};

const sizeOf = (s: NodeJS.WriteStream | undefined): TerminalSize => ({
	columns: s?.columns && s.columns > 0 ? s.columns : 100,
	...(s?.rows && s.rows > 0 ? {rows: s.rows} : {}),
});

/** The terminal's size, redrawn on resize; no rows (a pipe, a test's stand-in stdout) means no height to fit. */
export function useTerminalSize(): TerminalSize {
	const {stdout} = useStdout();
	const [size, setSize] = useState(() => sizeOf(stdout));
	useEffect(() => {
		if (!stdout) return;
		const onResize = () => setSize(sizeOf(stdout));
		onResize();
		stdout.on('resize', onResize);
		return () => void stdout.off('resize', onResize);
	}, [stdout]);
	return size;
}
