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
	// A narrow terminal keeps the title and drops the id column (the details below name it).
	const fileWidth = showFile ? Math.min(24, Math.max(...rows.map((r) => r.file.length), 4)) + 2 : 0;
	const showId = width - idWidth - 14 - fileWidth >= 40;
	const titleWidth = Math.max(10, width - (showId ? idWidth + 14 : 12) - fileWidth);
	return (
		<Box flexDirection="column">
			{rows.map((row, i) => {
				const f = row.finding;
				const confident = f.confidence >= REPORT_CONFIDENCE;
				const isSel = i === selected;
				const title = clip(f.title, titleWidth).padEnd(titleWidth);
				return (
					<Text key={`${row.file}:${f.id}`} wrap="truncate-end">
						<Text color={isSel ? 'cyan' : undefined}>{isSel ? '› ' : '  '}</Text>
						<Text color={confident ? 'red' : 'yellow'}>{confident ? '✗' : '?'}</Text>
						<Text>{` ${String(Math.round(f.confidence * 100)).padStart(3)}%  `}</Text>
						<Text bold={isSel} inverse={isSel}>
							{title}
						</Text>
						{showId || showFile ? (
							<Text dimColor>{`${showId ? `  ${f.id}` : ''}${showFile ? `  ${clip(row.file, fileWidth - 2)}` : ''}`}</Text>
						) : null}
					</Text>
				);
			})}
		</Box>
	);
}

export function clip(s: string, width: number): string {
	return s.length <= width ? s : s.slice(0, Math.max(0, width - 1)) + '…';
}
