import {Box} from 'ink';
import {Text} from './text.js';
import {REPORT_CONFIDENCE, type Finding} from '../../core/diagnose/score.js';
import {hue} from '../color.js';
import {clip} from './finding-list.js';

type DiagnosisPanelProps = {
	findings: Finding[];
	/** Title of the step whose output was diagnosed, if one was. */
	stepTitle?: string;
	width: number;
	/** The key to show for a remediation: the screen may move one that collides with its own keys. */
	keyLabel(key: string): string;
	color: boolean;
};

/**
 * What kdoctor made of a failure, during the run:
 *   Diagnosis of Build gateway image
 *   ✗ The manifest asks for an image name the node does not hold   image-name-mismatch · image · 85%
 *        41│ Container image "gateway:1a2b" is not present …
 *   Fixes  [p] Patch the deployment …
 *          [e] Add the localhost/ prefix …
 * Not FindingDetail/FindingList: the first needs the KB entry, which the run's events do not carry, and both
 * colour unconditionally, which NO_COLOR forbids here.
 */
export function DiagnosisPanel({findings, stepTitle, width, keyLabel, color}: DiagnosisPanelProps) {
	const [top, ...rest] = findings;
	const textWidth = Math.max(30, width - 12);
	return (
		<Box flexDirection="column">
			<Text bold>{`Diagnosis${stepTitle ? ` of ${stepTitle}` : ''}`}</Text>
			{!top ? (
				<Text dimColor>No known cause in this output; t shows its last lines.</Text>
			) : (
				<Box flexDirection="column">
					<Text>
						<Text color={hue(color, top.confidence >= REPORT_CONFIDENCE ? 'red' : 'yellow')}>
							{top.confidence >= REPORT_CONFIDENCE ? '✗ ' : '? '}
						</Text>
						<Text bold>{clip(top.title, Math.max(20, width - top.id.length - 22))}</Text>
						<Text dimColor>{`  ${top.id} · ${top.layer} · ${Math.round(top.confidence * 100)}%`}</Text>
					</Text>
					{top.evidence.slice(0, 3).map((e, i) => (
						<Text key={`${e.signal}-${e.line}-${i}`} wrap="truncate-end">
							<Text color={hue(color, 'cyan')}>{`  ${e.line === null ? e.source.padStart(6) : String(e.line).padStart(6)}`}</Text>
							<Text>{'│ '}</Text>
							<Text inverse>{clip(e.text.trim(), textWidth)}</Text>
						</Text>
					))}
					{top.remediations.length > 0 ? (
						<Box flexDirection="column">
							{top.remediations.map((r, i) => (
								<Text key={r.key}>
									<Text bold>{i === 0 ? 'Fixes ' : '      '}</Text>
									<Text color={hue(color, 'green')}>{`[${keyLabel(r.key)}] `}</Text>
									<Text>{clip(r.title, Math.max(20, width - 30))}</Text>
									<Text dimColor>{`  ${r.kind}`}</Text>
								</Text>
							))}
						</Box>
					) : null}
					{rest.length > 0 ? (
						<Box flexDirection="column">
							<Text dimColor>Also possible</Text>
							{rest.slice(0, 3).map((f) => (
								<Text key={f.id}>
									<Text
										color={hue(color, f.confidence >= REPORT_CONFIDENCE ? 'red' : 'yellow')}
									>{`  ${f.confidence >= REPORT_CONFIDENCE ? '✗' : '?'}`}</Text>
									<Text>{` ${String(Math.round(f.confidence * 100)).padStart(3)}%  ${clip(f.title, Math.max(20, width - f.id.length - 14))}`}</Text>
									<Text dimColor>{`  ${f.id}`}</Text>
								</Text>
							))}
						</Box>
					) : null}
				</Box>
			)}
		</Box>
	);
}
