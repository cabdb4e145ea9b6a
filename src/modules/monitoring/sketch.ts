/**
 * DDSketch (Masson, Rim, Lee: "DDSketch: A Fast and Fully-Mergeable Quantile Sketch with
 * Relative-Error Guarantees", VLDB 2019) with the logarithmic mapping and unbounded sparse stores.
 *
 * A value x > 0 is counted in bin i = ceil(log_gamma(x)), gamma = (1 + a) / (1 - a); the bin
 * covers (gamma^(i-1), gamma^i] and is represented by 2 gamma^i / (gamma + 1), which is within a
 * relative error `a` of every value of the bin. Negative values are counted by their magnitude
 * in a second store, zero (and magnitudes below the smallest normal double) in a zero count.
 * Two sketches of the same accuracy merge by adding bin counts, exactly: merging the sketches of
 * two sets gives the sketch of their union, so rollups of minutes merge into hours and a read
 * merges any buckets it needs.
 *
 * quantile(q) follows percentile_cont: with the values sorted, it interpolates between the
 * values of rank floor(q (n - 1)) and ceil(q (n - 1)), each estimated by its bin. When those two
 * values have the same sign (or one is zero), the answer is within a relative error `a` of the
 * exact percentile_cont; it is also clamped to [min, max], which are exact.
 */
export const SKETCH_RELATIVE_ACCURACY = 0.01;

const FORMAT = 1;
const MIN_INDEXABLE = 2.2250738585072014e-308;

export class DDSketch {
  readonly gamma: number;
  private readonly lnGamma: number;
  private readonly pos = new Map<number, number>();
  private readonly neg = new Map<number, number>();
  zero = 0;
  count = 0;
  min = Infinity;
  max = -Infinity;

  constructor(readonly relativeAccuracy: number = SKETCH_RELATIVE_ACCURACY) {
    if (!(relativeAccuracy > 0 && relativeAccuracy < 1)) throw new RangeError('relative accuracy must be in (0, 1)');
    this.gamma = (1 + relativeAccuracy) / (1 - relativeAccuracy);
    this.lnGamma = Math.log(this.gamma);
  }

  private index(magnitude: number): number {
    return Math.ceil(Math.log(magnitude) / this.lnGamma);
  }

  private value(index: number): number {
    return (2 * Math.exp(index * this.lnGamma)) / (this.gamma + 1);
  }

  add(x: number, n = 1): this {
    if (!Number.isFinite(x)) throw new RangeError('a sketch counts finite values only');
    if (Math.abs(x) < MIN_INDEXABLE) this.zero += n;
    else {
      const store = x > 0 ? this.pos : this.neg;
      const i = this.index(Math.abs(x));
      store.set(i, (store.get(i) ?? 0) + n);
    }
    this.count += n;
    if (x < this.min) this.min = x;
    if (x > this.max) this.max = x;
    return this;
  }

  merge(other: DDSketch): this {
    if (other.relativeAccuracy !== this.relativeAccuracy) throw new RangeError('sketches of different accuracies do not merge');
    for (const [i, c] of other.pos) this.pos.set(i, (this.pos.get(i) ?? 0) + c);
    for (const [i, c] of other.neg) this.neg.set(i, (this.neg.get(i) ?? 0) + c);
    this.zero += other.zero;
    this.count += other.count;
    if (other.min < this.min) this.min = other.min;
    if (other.max > this.max) this.max = other.max;
    return this;
  }

  /** The estimate of the value of rank r (0-based, in sorted order). */
  private atRank(r: number): number {
    let seen = 0;
    // Ascending values: negatives by decreasing magnitude, then zero, then positives.
    const negIdx = [...this.neg.keys()].sort((a, b) => b - a);
    for (const i of negIdx) {
      seen += this.neg.get(i)!;
      if (seen > r) return -this.value(i);
    }
    seen += this.zero;
    if (seen > r) return 0;
    const posIdx = [...this.pos.keys()].sort((a, b) => a - b);
    for (const i of posIdx) {
      seen += this.pos.get(i)!;
      if (seen > r) return this.value(i);
    }
    return this.max;
  }

  /** percentile_cont(q) within the relative accuracy (see the file comment); null when empty. */
  quantile(q: number): number | null {
    if (this.count === 0) return null;
    if (!(q >= 0 && q <= 1)) throw new RangeError('q must be in [0, 1]');
    const rank = q * (this.count - 1);
    const lo = Math.floor(rank);
    const hi = Math.ceil(rank);
    const clamp = (v: number) => Math.min(this.max, Math.max(this.min, v));
    const a = clamp(this.atRank(lo));
    if (hi === lo) return a;
    const b = clamp(this.atRank(hi));
    return a + (rank - lo) * (b - a);
  }

  /**
   * Bytes: format, accuracy (f64), count, zero, min, max (f64), then per store the number of
   * bins and each bin as a zigzag varint delta of its index and a varint count.
   */
  encode(): Buffer {
    const out: number[] = [];
    const head = Buffer.alloc(1 + 8 * 6);
    head.writeUInt8(FORMAT, 0);
    [this.relativeAccuracy, this.count, this.zero, this.min, this.max].forEach((v, k) => head.writeDoubleLE(v, 1 + 8 * k));
    for (const store of [this.pos, this.neg]) {
      const keys = [...store.keys()].sort((a, b) => a - b);
      varint(out, keys.length);
      let prev = 0;
      for (const i of keys) {
        const d = i - prev;
        varint(out, d >= 0 ? d * 2 : -d * 2 - 1);
        varint(out, store.get(i)!);
        prev = i;
      }
    }
    return Buffer.concat([head.subarray(0, 41), Buffer.from(out)]);
  }

  static decode(buf: Buffer): DDSketch {
    if (buf.length < 41 || buf.readUInt8(0) !== FORMAT) throw new RangeError('not a DDSketch of this format');
    const [acc, count, zero, min, max] = [0, 1, 2, 3, 4].map((k) => buf.readDoubleLE(1 + 8 * k));
    const s = new DDSketch(acc);
    s.count = count;
    s.zero = zero;
    s.min = min;
    s.max = max;
    const at = { i: 41 };
    for (const store of [s.pos, s.neg]) {
      const n = readVarint(buf, at);
      let prev = 0;
      for (let k = 0; k < n; k++) {
        const z = readVarint(buf, at);
        prev += z % 2 === 0 ? z / 2 : -(z + 1) / 2;
        store.set(prev, readVarint(buf, at));
      }
    }
    return s;
  }
}

/** Unsigned LEB128 of a non-negative integer up to 2^53. */
function varint(out: number[], v: number): void {
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
}

function readVarint(buf: Buffer, at: { i: number }): number {
  let v = 0;
  let mul = 1;
  for (;;) {
    if (at.i >= buf.length) throw new RangeError('truncated DDSketch');
    const b = buf[at.i++];
    v += (b & 0x7f) * mul;
    if (b < 0x80) return v;
    mul *= 0x80;
  }
}
