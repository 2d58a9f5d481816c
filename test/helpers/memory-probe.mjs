// Runs the built engine (dist/) under plain node, as the CLI would.
import {readKbSources} from '../../dist/adapters/kb-files.js';
import {diagnoseStream} from '../../dist/core/diagnose/diagnose.js';
import {compileKb} from '../../dist/core/kb/compile.js';
import {loadKb} from '../../dist/core/kb/load.js';

/** Streams N MiB of generated log (incl. 10 MB lines) through the KB and reports peak RSS; run with a heap cap. */
const mib = Number(process.argv[2] ?? '64');
const kb = compileKb(loadKb(readKbSources()));
const line = Buffer.from(
	'2025-12-23T14:02:11.384Z INFO controller reconciled object {"kind":"RemediationRequest","name":"rr-1","ms":12}\n',
);
const longLine = Buffer.concat([Buffer.alloc(10 * 1024 * 1024, 'x'), Buffer.from('\n')]);
const symptom = Buffer.from('#12 41.2 github.com/jackc/pgx/v5/pgtype: /usr/lib/golang/pkg/tool/linux_arm64/compile: signal: killed\n');
let peak = 0;
async function* source() {
	const target = mib * 1024 * 1024;
	let sent = 0;
	let n = 0;
	const block = Buffer.concat(Array.from({length: 8000}, () => line));
	while (sent < target) {
		n++;
		let chunk = n % 37 === 0 ? longLine : n % 11 === 0 ? symptom : block;
		if (sent + chunk.length > target) chunk = chunk.subarray(0, target - sent);
		sent += chunk.length;
		peak = Math.max(peak, process.memoryUsage().rss);
		yield chunk;
	}
}
const d = await diagnoseStream(kb, source());
peak = Math.max(peak, process.memoryUsage().rss);
process.stdout.write(
	JSON.stringify({bytes: d.stats.bytes, rssMiB: Math.round(peak / 1024 / 1024), findings: d.findings.map((f) => f.id)}) + '\n',
);
