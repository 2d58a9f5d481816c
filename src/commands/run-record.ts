import {existsSync} from 'node:fs';
import {join} from 'node:path';
import {confinedReader, type ConfinedReader} from '../adapters/confined.js';
import {writeFileAtomic} from '../adapters/fs-port.js';
import {InputError} from '../adapters/input.js';
import {stateDir} from '../adapters/journal.js';
import {runRecordProblem, type RunRecord} from '../core/report/model.js';
import {RUN_FILE} from '../core/run-folder.js';

/**
 * run.json, the one record of a `kdoctor up` run: written here, read here (by the report, the home screen and a fix
 * that re-runs a step), with one type. It may be a copy from another machine: it is read as hostile text.
 */
export function writeRunRecord(runDir: string, record: RunRecord): void {
	writeFileAtomic(join(runDir, RUN_FILE), `${JSON.stringify(record, null, 2)}\n`);
}

/** The record when the folder holds one kdoctor up wrote; undefined for any other folder or a damaged record. */
export function tryRunRecord(runDir: string): RunRecord | undefined {
	try {
		return readRunRecord(runDir);
	} catch (error) {
		if (error instanceof InputError) return undefined;
		throw error;
	}
}

export function textOf(bytes: Buffer): string | undefined {
	if (bytes.includes(0)) return undefined;
	try {
		return new TextDecoder('utf-8', {fatal: true}).decode(bytes);
	} catch {
		return undefined;
	}
}

/** run.json, checked: every way it can be wrong is one line that says so. */
export function readRunRecord(runDir: string, reader: ConfinedReader = confinedReader(runDir)): RunRecord {
	const path = join(runDir, RUN_FILE);
	if (!existsSync(path))
		throw new InputError(`${runDir}: no run.json here: not a run folder kdoctor up wrote (its runs are in ${join(stateDir(), 'runs')})`);
	const bytes = reader.read(RUN_FILE);
	if (!bytes) throw new InputError(`${path}: ${reader.refused[0]?.replace(/^run\.json: /, '') ?? 'cannot be read'}`);
	const text = textOf(bytes);
	if (text === undefined) throw new InputError(`${path}: binary data, not a run.json kdoctor up wrote`);
	let value: unknown;
	try {
		value = JSON.parse(text);
	} catch (error) {
		throw new InputError(`${path}: damaged JSON (${(error as Error).message.split('\n')[0]}): the run was cut off or the file was changed`);
	}
	const problem = runRecordProblem(value);
	if (problem) throw new InputError(`${path}: not a run.json kdoctor up wrote (${problem})`);
	return value as RunRecord;
}
