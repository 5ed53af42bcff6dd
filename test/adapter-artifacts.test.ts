import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ADAPTER_HEADER_BYTES,
  AdapterFormatError,
  adapterFileBytes,
  encodeAdapter,
  makeAdapter,
  parseAdapter,
  regressionKind,
  type Adapter,
} from '../apps/adapter-register/adapter-file.js';
import { baseModel, MODEL_INPUT_DIM, MODEL_OUTPUT_DIM, referenceData, TASK_RANK } from '../apps/adapter-register/model.js';
import { EVIDENCE_CHARS_MAX } from '../apps/adapter-register/register.js';
import { MSE_RATIO_MAX, QA_ACCURACY_MIN, validateAdapter } from '../apps/adapter-register/validation.js';

const GOOD_SEEDS = Array.from({ length: 40 }, (_, i) => i);
const BAD_SEEDS = Array.from({ length: 30 }, (_, i) => i);

function failedChecks(evidence: string): string[] {
  const match = /^fail \[([^\]]*)\]/.exec(evidence);
  return match === null ? [] : match[1]!.split(', ');
}

function reason(bytes: Uint8Array): string {
  try {
    parseAdapter(bytes);
  } catch (error) {
    expect(error).toBeInstanceOf(AdapterFormatError);
    return (error as AdapterFormatError).reason;
  }
  throw new Error('parseAdapter accepted a malformed file');
}

function withView(bytes: Uint8Array, edit: (view: DataView, copy: Uint8Array) => void): Uint8Array {
  const copy = bytes.slice();
  edit(new DataView(copy.buffer), copy);
  return copy;
}

describe('adapter artifacts: the reference suite', () => {
  it('passes every good adapter, with the metrics beyond their thresholds', () => {
    for (const seed of GOOD_SEEDS) {
      const report = validateAdapter(makeAdapter('good', seed));
      expect(report.pass, `good seed ${seed}: ${report.evidence}`).toBe(true);
      expect(report.metrics['mseRatio']).toBeLessThanOrEqual(MSE_RATIO_MAX);
      expect(report.metrics['qaAccuracy']).toBeGreaterThanOrEqual(QA_ACCURACY_MIN);
      expect(report.metrics['probeOutputNorm']).toBeLessThanOrEqual(report.metrics['probeOutputNormMax']!);
      expect(report.evidence.startsWith('pass: ')).toBe(true);
    }
  });

  it('fails every regressed adapter, each kind on the check it breaks', () => {
    const expected = { 'sign-flipped': ['regression', 'qa'], noise: ['regression'], 'over-scaled': ['regression', 'safety'] } as const;
    for (const seed of BAD_SEEDS) {
      const report = validateAdapter(makeAdapter('regressed', seed));
      expect(report.pass, `regressed seed ${seed}: ${report.evidence}`).toBe(false);
      const failed = failedChecks(report.evidence);
      for (const check of expected[regressionKind(seed)]) expect(failed, `seed ${seed} (${regressionKind(seed)})`).toContain(check);
    }
  });

  it('the base model alone (A = 0) is no improvement and fails the regression check', () => {
    const adapter = parseAdapter(makeAdapter('good', 3));
    const report = validateAdapter(encodeAdapter({ ...adapter, a: new Float64Array(adapter.a.length) }));
    expect(report.pass).toBe(false);
    expect(report.metrics['mseRatio']).toBe(1);
    expect(failedChecks(report.evidence)).toContain('regression');
  });

  it('fails an adapter for another base model or other dimensions, with the reason', () => {
    const adapter = parseAdapter(makeAdapter('good', 1));
    const otherBase = validateAdapter(encodeAdapter({ ...adapter, baseTag: '0123456789abcdef' }));
    expect(otherBase.pass).toBe(false);
    expect(otherBase.evidence).toContain(`trained for base model 0123456789abcdef, this one is ${baseModel().tag}`);
    const narrow = encodeAdapter({ ...adapter, inputDim: 16, a: adapter.a.slice(0, 16 * TASK_RANK) });
    const otherDims = validateAdapter(narrow);
    expect(otherDims.pass).toBe(false);
    expect(otherDims.evidence).toContain(`adapter is 16×${MODEL_OUTPUT_DIM}, the base model is ${MODEL_INPUT_DIM}×${MODEL_OUTPUT_DIM}`);
  });

  it('keeps evidence within the vote limit and never throws on mutated bytes', () => {
    const good = makeAdapter('good', 2);
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(good.length - 1), fc.nat(255)), { minLength: 1, maxLength: 8 }), fc.nat(good.length), (edits, cut) => {
        const bytes = good.slice(0, Math.max(cut, ADAPTER_HEADER_BYTES));
        for (const [at, value] of edits) if (at < bytes.length) bytes[at] = value;
        const report = validateAdapter(bytes);
        expect(report.evidence.length).toBeLessThanOrEqual(EVIDENCE_CHARS_MAX);
        expect(typeof report.pass).toBe('boolean');
      }),
      { seed: 5, numRuns: 400 },
    );
  });
});

describe('adapter artifacts: the file format', () => {
  const good = makeAdapter('good', 4);

  it('has the documented size and round-trips through parse and encode', () => {
    expect(good.length).toBe(adapterFileBytes(MODEL_INPUT_DIM, MODEL_OUTPUT_DIM, TASK_RANK));
    expect(good.length).toBe(40 + 4 * TASK_RANK * (MODEL_INPUT_DIM + MODEL_OUTPUT_DIM));
    const adapter: Adapter = parseAdapter(good);
    expect(adapter).toMatchObject({ formatVersion: 1, inputDim: MODEL_INPUT_DIM, outputDim: MODEL_OUTPUT_DIM, rank: TASK_RANK, scale: 1, baseTag: baseModel().tag });
    expect(Array.from(encodeAdapter(adapter))).toEqual(Array.from(good));
  });

  it('refuses each malformation with a reason naming it', () => {
    const cases: Array<[string, Uint8Array, RegExp]> = [
      ['empty', new Uint8Array(0), /^truncated header: 0 bytes, the header alone is 40$/],
      ['short header', good.slice(0, 39), /^truncated header: 39 bytes/],
      ['bad magic', withView(good, (_, c) => c.set([0x50, 0x4b, 0x03, 0x04], 0)), /^bad magic: expected "ORAD" \(4f 52 41 44\), got 50 4b 03 04$/],
      ['future version', withView(good, (v) => v.setUint16(4, 2, true)), /^unsupported format version 2, this reader accepts 1$/],
      ['header length', withView(good, (v) => v.setUint16(6, 48, true)), /^header length 48, format version 1 has 40$/],
      ['zero input dim', withView(good, (v) => v.setUint32(8, 0, true)), /^input dimension 0 outside 1\.\.4096$/],
      ['huge output dim', withView(good, (v) => v.setUint32(12, 5000, true)), /^output dimension 5000 outside 1\.\.4096$/],
      ['rank above k', withView(good, (v) => v.setUint32(16, 9, true)), /^rank 9 outside 1\.\.8 /],
      ['zero rank', withView(good, (v) => v.setUint32(16, 0, true)), /^rank 0 outside/],
      ['NaN scale', withView(good, (v) => v.setFloat32(20, Number.NaN, true)), /^scale NaN is not a finite positive number$/],
      ['negative scale', withView(good, (v) => v.setFloat32(20, -1, true)), /^scale -1 is not/],
      ['tag not hex', withView(good, (_, c) => (c[30] = 0x47)), /^base model tag byte 6 is 0x47, expected a lowercase hex digit$/],
      ['truncated body', good.slice(0, good.length - 4), /^truncated: 676 bytes, d=32 k=8 r=4 needs exactly 680$/],
      ['trailing bytes', Uint8Array.from([...good, 0]), /^trailing bytes: 681 bytes, d=32 k=8 r=4 needs exactly 680$/],
      ['NaN in A', withView(good, (v) => v.setFloat32(40 + 4 * 7, Number.NaN, true)), /^A\[7\] is NaN; every weight must be finite$/],
      ['infinity in B', withView(good, (v) => v.setFloat32(40 + 4 * (32 * 4 + 3), Number.POSITIVE_INFINITY, true)), /^B\[3\] is Infinity/],
    ];
    for (const [name, bytes, expected] of cases) {
      expect(reason(bytes), name).toMatch(expected);
      const report = validateAdapter(bytes);
      expect(report.pass, name).toBe(false);
      expect(report.evidence, name).toBe(`fail: malformed adapter file: ${reason(bytes)}`);
    }
  });

  it('parses a view into a larger buffer (byteOffset honoured)', () => {
    const padded = new Uint8Array(good.length + 3);
    padded.set(good, 3);
    expect(parseAdapter(padded.subarray(3))).toEqual(parseAdapter(good));
  });
});

describe('adapter artifacts: determinism', () => {
  it('makes the same bytes for the same kind and seed, different bytes otherwise', () => {
    const digests = new Set<string>();
    for (const kind of ['good', 'regressed'] as const) {
      for (let seed = 0; seed < 6; seed++) {
        const bytes = makeAdapter(kind, seed);
        expect(Array.from(makeAdapter(kind, seed))).toEqual(Array.from(bytes));
        digests.add(createHash('sha256').update(bytes).digest('hex'));
      }
    }
    expect(digests.size).toBe(12);
  });

  it('pins the base model, the reference data and one adapter of each kind (any drift changes these digests)', () => {
    const sha = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex').slice(0, 16);
    const reference = referenceData();
    const referenceBytes = new Uint8Array(new Float64Array([...reference.regressionInputs, ...reference.regressionTargets, ...reference.qaInputs]).buffer);
    expect({
      base: baseModel().tag,
      reference: sha(referenceBytes),
      good: sha(makeAdapter('good', 1)),
      regressed: sha(makeAdapter('regressed', 1)),
    }).toMatchInlineSnapshot(`
      {
        "base": "64935fbfa785c305",
        "good": "9b588669fd145d54",
        "reference": "1fdfe9e7e237eda9",
        "regressed": "5c7cf4cd1a40088d",
      }
    `);
  });

  it('gives the same report for the same bytes', () => {
    const bytes = makeAdapter('regressed', 7);
    expect(validateAdapter(bytes)).toEqual(validateAdapter(bytes.slice()));
  });
});
