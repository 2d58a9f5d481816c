/**
 * A case-insensitive Aho–Corasick automaton compiled to a flat DFA table indexed by raw byte: one table
 * lookup per byte, whatever the number of literals. Non-ASCII bytes share one class; literals are kept to
 * printable ASCII, so the same table serves UTF-8 bytes and decoded lines.
 */
export class LiteralAutomaton {
	/** accept[s] = 1 when some literal ends in state s (directly or through its suffix links). */
	readonly accept: Uint8Array;
	/** Literal ids that end in each state, following suffix links. */
	private readonly outputs: number[][];
	readonly literals: string[];

	/** Everything needed to rebuild the automaton without recomputing it (kept in the KB cache). */
	parts(): AutomatonParts {
		return {literals: this.literals, outputs: this.outputs, bytes: this.bytes};
	}

	static fromParts(p: AutomatonParts): LiteralAutomaton {
		return new LiteralAutomaton(p.literals, p);
	}

	constructor(literals: string[], prebuilt?: AutomatonParts) {
		this.literals = literals;
		if (prebuilt) {
			this.outputs = prebuilt.outputs;
			this.bytes = prebuilt.bytes;
			this.accept = Uint8Array.from(prebuilt.outputs, (o) => (o.length > 0 ? 1 : 0));
			return;
		}
		// Build the trie straight into the transition table (-1 = no edge yet); children get higher ids.
		let capacity = 1;
		for (const l of literals) capacity += l.length;
		let table = new Int32Array(capacity * 128).fill(-1);
		const own: number[][] = [[]];
		let n = 1;
		literals.forEach((raw, id) => {
			// Backslashes are not part of a literal: the text's are skipped, so an escaped quote (\") still matches '"'.
			const lit = raw.replaceAll('\\', '');
			let s = 0;
			for (let i = 0; i < lit.length; i++) {
				const at = s * 128 + cls(lit.charCodeAt(i));
				let next = table[at]!;
				if (next < 0) {
					next = n++;
					table[at] = next;
					own.push([]);
				}
				s = next;
			}
			own[s]!.push(id);
		});
		table = table.slice(0, n * 128);
		const fail = new Int32Array(n);
		this.outputs = own;
		const queue: number[] = [];
		for (let c = 0; c < 128; c++) {
			const t = table[c]!;
			if (t < 0) table[c] = 0;
			else queue.push(t);
		}
		for (let head = 0; head < queue.length; head++) {
			const s = queue[head]!;
			const f = fail[s]!;
			for (const x of own[f]!) own[s]!.push(x);
			for (let c = 0; c < 128; c++) {
				const at = s * 128 + c;
				const t = table[at]!;
				if (t >= 0) {
					fail[t] = table[f * 128 + c]!;
					queue.push(t);
				} else table[at] = table[f * 128 + c]!;
			}
		}
		this.accept = new Uint8Array(n);
		for (let s = 0; s < n; s++) this.accept[s] = this.outputs[s]!.length > 0 ? 1 : 0;
		// Two extra rows: a newline and an escape byte lead there from any state, so the byte scanner's hot
		// loop needs a single test per byte. Both rows continue like the root.
		const rows = n + 2;
		const full = new Int32Array(rows * 128);
		full.set(table);
		full.copyWithin(n * 128, 0, 128);
		full.copyWithin((n + 1) * 128, 0, 128);
		for (let r = 0; r < rows; r++) {
			full[r * 128 + 10] = n;
			full[r * 128 + 27] = n + 1;
		}
		// The byte table: 256 columns indexed by the raw byte (case folding baked in), targets pre-multiplied
		// by 256 with the row's accept kind in the low two bits, so the hot loop is one load and one test per byte.
		const kind = new Uint8Array(rows);
		for (let s = 0; s < n; s++) kind[s] = this.accept[s]!;
		kind[n] = ROW_NEWLINE;
		kind[n + 1] = ROW_ESCAPE;
		this.bytes = new Int32Array(rows * 256);
		for (let r = 0; r < rows; r++) {
			const base = r * 256;
			for (let c = 0; c < 128; c++) {
				const t = full[r * 128 + FOLD[c]!]!;
				this.bytes[base + c] = t * 256 + kind[t]!;
			}
			// Every non-ASCII byte is class 0.
			const t0 = full[r * 128]!;
			this.bytes.fill(t0 * 256 + kind[t0]!, base + 128, base + 256);
			// A backslash leaves a trie state as it was (output escaped inside a JSON or a language's string).
			if (r < n) this.bytes[base + BACKSLASH] = r * 256;
		}
	}

	/** rows × 256 transitions by raw byte: value = target row × 256 + its kind (0, 1 literal, 2 newline, 3 escape). */
	readonly bytes: Int32Array;

	/** Every literal id occurring in a decoded line (non-ASCII characters share one class, as bytes do). */
	collect(text: string, from: number, to: number, onLiteral: (id: number) => void): void {
		const table = this.bytes;
		let s = 0;
		for (let i = from; i < to; i++) {
			const code = text.charCodeAt(i);
			const v = table[s + (code < 128 ? code : 128)]!;
			s = v & ~3;
			if ((v & 3) === 1) for (const id of this.outputs[s >> 8]!) onLiteral(id);
		}
	}
}

export type AutomatonParts = {literals: string[]; outputs: number[][]; bytes: Int32Array};

/** Row kinds in the byte table's low bits: 1 a literal ends here; these two mark the newline and escape rows. */
export const ROW_NEWLINE = 2;
export const ROW_ESCAPE = 3;

const BACKSLASH = 0x5c;
const FOLD = new Uint8Array(128);
for (let c = 0; c < 128; c++) FOLD[c] = c >= 65 && c <= 90 ? c + 32 : c;

function cls(code: number): number {
	return code < 128 ? FOLD[code]! : 0;
}
