import {describe, expect, it} from 'vitest';
import {diagnoseText} from '../../src/core/diagnose/diagnose.js';
import {diagnosisText, makePaint} from '../../src/plain/format.js';
import {realKb} from '../helpers/kb.js';

const kb = realKb();

describe('diagnosisText', () => {
	it('counts lines in the singular for one line and the plural otherwise', () => {
		const paint = makePaint(false);
		expect(diagnosisText('one.log', diagnoseText(kb, 'all good\n'), paint)).toMatch(/^one\.log — 1 line\b(?!s)/);
		expect(diagnosisText('two.log', diagnoseText(kb, 'all good\nstill good\n'), paint)).toMatch(/^two\.log — 2 lines\b/);
	});
});
