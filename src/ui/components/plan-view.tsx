import {Box} from 'ink';
import {Text} from './text.js';
import type {RemediationPlan} from '../../core/remediate/plan.js';
import {quoteArg} from '../../plain/quote.js';

type PlanViewProps = {plan: RemediationPlan; width: number; busy: boolean};

/**
 * The preview before anything changes:
 *   [e] Add the localhost/ prefix to gateway:1a2b in the manifests   edit-file
 *   --- a/manifests/gateway.yaml
 *   -        image: gateway:1a2b
 *   +        image: localhost/gateway:1a2b
 *   y apply · n cancel
 * Diff lines wrap rather than clip: the change itself must never be cut off.
 */
export function PlanView({plan, busy}: PlanViewProps) {
	return (
		<Box flexDirection="column">
			<Text>
				<Text color="green">{`[${plan.key}] `}</Text>
				<Text bold>{plan.title}</Text>
				<Text dimColor>{`  ${plan.kind}${plan.destructive ? ' · destructive' : ''}`}</Text>
			</Text>
			<Text>{plan.change}</Text>
			{plan.argv ? (
				<Box marginTop={1} flexDirection="column">
					<Text bold>Command</Text>
					<Text color="cyan">{`  ${plan.argv.map(quoteArg).join(' ')}`}</Text>
				</Box>
			) : null}
			{plan.edits?.map((e) => (
				<Box key={e.path} marginTop={1} flexDirection="column">
					<Text bold>{`${e.path}  (${e.count} change${e.count === 1 ? '' : 's'})`}</Text>
					{e.diff
						.split('\n')
						.filter((l) => l !== '')
						.slice(0, 40)
						.map((l, i) => (
							<Text
								key={i}
								color={
									l.startsWith('+') && !l.startsWith('+++')
										? 'green'
										: l.startsWith('-') && !l.startsWith('---')
											? 'red'
											: l.startsWith('@@')
												? 'cyan'
												: undefined
								}
								dimColor={l.startsWith(' ')}
							>
								{`  ${l}`}
							</Text>
						))}
				</Box>
			))}
			<Box marginTop={1} flexDirection="column">
				<Text>
					<Text dimColor>verify: </Text>
					{plan.verify}
				</Text>
				<Text>
					<Text dimColor>undo: </Text>
					{plan.undo}
				</Text>
			</Box>
			<Box marginTop={1}>
				{plan.status === 'ready' ? (
					<Text color={busy ? 'yellow' : 'green'}>{busy ? 'applying…' : 'y apply · n / esc cancel'}</Text>
				) : (
					<Text color="yellow">{`${statusLine(plan)} · esc back`}</Text>
				)}
			</Box>
		</Box>
	);
}

function statusLine(plan: RemediationPlan): string {
	switch (plan.status) {
		case 'advice':
			return 'advice: nothing to apply';
		default:
			return plan.reason ?? plan.status;
	}
}
