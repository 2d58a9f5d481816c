import type {DiagnosedInput} from '../commands/diagnose.js';
import type {CompiledKb} from '../core/kb/compile.js';
import {renderPlain} from '../commands/diagnose.js';

export async function runDiagnoseTui(_c: CompiledKb, results: DiagnosedInput[]): Promise<void> {
	process.stdout.write(renderPlain(results, true, false).out);
}
