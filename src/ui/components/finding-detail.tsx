import {Box} from 'ink';
import {Text} from './text.js';
import {resemblance} from '../../core/diagnose/resemble.js';
import type {Finding} from '../../core/diagnose/score.js';
import type {Entry} from '../../core/kb/schema.js';
import {clip} from './finding-list.js';

type FindingDetailProps = {finding: Finding; entry: Entry; file: string; width: number; full: boolean};

/**
 * The cause, the evidence in context (matched line highlighted), why the confidence is what it is,
 * and the fixes on one key each:
 *   image-name-mismatch · image · 85%
 *   The pod waits in ErrImageNeverPull: …
 *   Evidence
 *     41 │ Warning  ErrImageNeverPull  kubelet  Container image "gateway:1a2b" is not present …
 *   Fixes   [p] Patch the deployment …   [e] Add the localhost/ prefix …
 */
export function FindingDetail({finding, entry, file, width, full}: FindingDetailProps) {
	const textWidth = Math.max(30, width - 12);
	const evidence = full ? finding.evidence.slice(0, 5) : finding.evidence.slice(0, 3);
	return (
		<Box flexDirection="column">
			<Text>
				<Text bold>{finding.title}</Text>
				<Text dimColor>{`  ${finding.id} · ${finding.layer} · ${Math.round(finding.confidence * 100)}% · ${file}`}</Text>
			</Text>
			{finding.explainedBy ? <Text color="yellow">{`Probably a symptom of ${finding.explainedBy} (ranked above it).`}</Text> : null}
			<Text>{finding.summary}</Text>
			{finding.resembles ? <Text color="yellow">{`Looks like ${resemblance(finding.resembles)}.`}</Text> : null}
			{finding.tellApart?.map((t) => (
				<Text key={t.id} color="yellow">{`Possible, as ${t.id} is: to tell them apart, ${t.check}`}</Text>
			))}
			<Box marginTop={1} flexDirection="column">
				<Text bold>Evidence</Text>
				{evidence.map((e, i) => (
					<Box key={`${e.signal}-${e.line}-${i}`} flexDirection="column">
						{full &&
							e.before?.map((b, j) => <Text key={`b${j}`} dimColor>{`  ${' '.repeat(6)}│ ${clip(dedent(b, e.text), textWidth)}`}</Text>)}
						<Text>
							<Text color="cyan">{`  ${e.line === null ? e.source.padStart(6) : String(e.line).padStart(6)}`}</Text>
							<Text>{'│ '}</Text>
							<Text inverse>{clip(e.text.trim(), textWidth)}</Text>
						</Text>
						{e.related ? (
							<Text>
								<Text color="cyan">{`  ${String(e.related.line).padStart(6)}`}</Text>
								<Text>{'│ '}</Text>
								<Text inverse>{clip(e.related.text.trim(), textWidth)}</Text>
							</Text>
						) : null}
						{full &&
							e.after?.map((a, j) => <Text key={`a${j}`} dimColor>{`  ${' '.repeat(6)}│ ${clip(dedent(a, e.text), textWidth)}`}</Text>)}
						<Text dimColor>{`  ${' '.repeat(6)}  ↳ ${e.means}`}</Text>
					</Box>
				))}
			</Box>
			{full ? (
				<Box marginTop={1} flexDirection="column">
					<Text bold>Why {Math.round(finding.confidence * 100)}%</Text>
					{finding.why.map((w) => (
						<Text key={w.signal}>
							<Text
								color={w.role === 'against' ? 'yellow' : w.role === 'signature' ? 'red' : undefined}
							>{`  ${w.role === 'against' ? '−' : '+'}${w.weight.toFixed(2)} `}</Text>
							<Text>{`${w.means}${w.count > 1 ? ` (×${w.count})` : ''}`}</Text>
						</Text>
					))}
					{entry.confusedWith.map((c) => (
						<Text key={c.id} dimColor>{`  not ${c.id}? ${c.tellApart}`}</Text>
					))}
				</Box>
			) : null}
			<Fixes fixes={finding.remediations} />
		</Box>
	);
}

/** A finding's or an entry's fixes: its key, what it does, its kind; nothing when it has none. */
export function Fixes({fixes}: {fixes: {key: string; title: string; kind: string}[]}) {
	if (fixes.length === 0) return null;
	return (
		<Box marginTop={1} flexDirection="column">
			<Text bold>Fixes</Text>
			{fixes.map((r) => (
				<Text key={r.key}>
					<Text color="green">{`  [${r.key}] `}</Text>
					<Text>{r.title}</Text>
					<Text dimColor>{`  ${r.kind}`}</Text>
				</Text>
			))}
		</Box>
	);
}

/** Context lines lose the indentation the evidence line lost, so columns still line up. */
function dedent(line: string, evidence: string): string {
	const indent = evidence.length - evidence.trimStart().length;
	const own = line.length - line.trimStart().length;
	return line.slice(Math.min(indent, own));
}
