import {Box} from 'ink';
import {Text} from './text.js';
import {REPORT_CONFIDENCE} from '../../core/diagnose/score.js';
import type {Row} from '../../state/store.js';

type FindingListProps = {rows: Row[]; selected: number; width: number; showFile: boolean};

/**
 * Ranked findings, one per line:
 *   › ✗  85%  The manifest asks for an image name the node does not hold   image-name-mismatch
 *     ?  31%  The image was never loaded into the cluster's node           image-not-loaded
 */
export function FindingList({rows, selected, width, showFile}: FindingListProps) {
	const idWidth = Math.min(30, Math.max(...rows.map((r) => r.finding.id.length), 10));
	const titleWidth = Math.max(20, width - idWidth - 14);
	return (
		<Box flexDirection="column">
			{rows.map((row, i) => {
				const f = row.finding;
				const confident = f.confidence >= REPORT_CONFIDENCE;
				const isSel = i === selected;
				const title = clip(f.title, titleWidth).padEnd(titleWidth);
				return (
					<Box key={`${row.file}:${f.id}`}>
						<Text color={isSel ? 'cyan' : undefined}>{isSel ? '› ' : '  '}</Text>
						<Text color={confident ? 'red' : 'yellow'}>{confident ? '✗' : '?'}</Text>
						<Text>{` ${String(Math.round(f.confidence * 100)).padStart(3)}%  `}</Text>
						<Text bold={isSel} inverse={isSel}>
							{title}
						</Text>
						<Text dimColor>{`  ${f.id}${showFile ? `  ${row.file}` : ''}`}</Text>
					</Box>
				);
			})}
		</Box>
	);
}

export function clip(s: string, width: number): string {
	return s.length <= width ? s : s.slice(0, Math.max(0, width - 1)) + '…';
}
