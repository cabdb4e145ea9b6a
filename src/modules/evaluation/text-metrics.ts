/**
 * Text metrics for the outputs of generative models. Pure functions: no database, no GraphQL.
 *
 * Tokenization, shared by every metric (`tokenize`):
 *  1. the text is NFKC-normalized (full-width forms, ligatures and composed/decomposed accents
 *     compare equal) and lowercased with `String.prototype.toLowerCase` (locale-independent);
 *  2. a token is a run of letters, combining marks and digits that starts with a letter or a
 *     digit, with inner apostrophes kept ("don't", "rock'n'roll"; ’ counts as ') — everything
 *     else (spaces, punctuation, symbols, emoji) separates tokens;
 *  3. Han, Hiragana and Katakana characters, written without spaces between words, are one
 *     token each, so that Chinese and Japanese text has comparable n-grams. Other scripts
 *     without spaces (Thai, Lao, Khmer) are not segmented: a run is one token.
 * N-grams are consecutive tokens of one text; they never span two texts.
 */

export enum TextMetric {
  DISTINCT_1 = 'DISTINCT_1',
  DISTINCT_2 = 'DISTINCT_2',
  SELF_SIMILARITY = 'SELF_SIMILARITY',
  NOVELTY = 'NOVELTY',
  REFERENCE_OVERLAP = 'REFERENCE_OVERLAP',
  OUTPUT_LENGTH = 'OUTPUT_LENGTH',
}

/** Scripts written without spaces between words, tokenized one character at a time. */
const UNSPACED = '\\p{Script=Han}\\p{Script=Hiragana}\\p{Script=Katakana}';
const WORD_START = `(?:(?![${UNSPACED}])[\\p{L}\\p{N}])`;
const WORD_REST = `(?:(?![${UNSPACED}])[\\p{L}\\p{M}\\p{N}])`;
const TOKEN = new RegExp(`[${UNSPACED}]\\p{M}*|${WORD_START}${WORD_REST}*(?:'${WORD_REST}+)*`, 'gu');

/** Lowercase word tokens of a text, as described at the top of this file. */
export function tokenize(text: string): string[] {
  return text.normalize('NFKC').toLowerCase().replace(/\u2019/g, "'").match(TOKEN) ?? [];
}

/** The n-grams of one token list, each as its tokens joined by a space (tokens hold no spaces). */
export function ngrams(tokens: readonly string[], n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i + n <= tokens.length; i++) out.push(n === 1 ? tokens[i] : tokens.slice(i, i + n).join(' '));
  return out;
}

/**
 * Distinct-n (Li et al. 2016): distinct n-grams over all outputs divided by the n-gram
 * occurrences over all outputs; 0 when the outputs have no n-gram at all.
 */
export function distinctN(outputs: readonly (readonly string[])[], n: number): number {
  const seen = new Set<string>();
  let total = 0;
  for (const tokens of outputs) {
    for (const g of ngrams(tokens, n)) {
      seen.add(g);
      total++;
    }
  }
  return total === 0 ? 0 : seen.size / total;
}

/** Outputs up to this many are compared pair by pair; more get SELF_SIMILARITY_SAMPLED_PAIRS random pairs. */
export const SELF_SIMILARITY_MAX_EXHAUSTIVE = 1000;
export const SELF_SIMILARITY_SAMPLED_PAIRS = 100_000;
/** Fixed, so that the same outputs always get the same value. */
export const SELF_SIMILARITY_SEED = 0x5eed;

/** mulberry32: a small seeded PRNG, uniform in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A term-frequency vector: term ids ascending, their counts, and its Euclidean norm. */
interface TfVector {
  ids: Int32Array;
  counts: Float64Array;
  norm: number;
}

function tfVectors(outputs: readonly (readonly string[])[]): TfVector[] {
  const termIds = new Map<string, number>();
  return outputs.map((tokens) => {
    const tf = new Map<number, number>();
    for (const t of tokens) {
      let id = termIds.get(t);
      if (id === undefined) termIds.set(t, (id = termIds.size));
      tf.set(id, (tf.get(id) ?? 0) + 1);
    }
    const ids = Int32Array.from(tf.keys()).sort();
    const counts = Float64Array.from(ids, (id) => tf.get(id)!);
    return { ids, counts, norm: Math.sqrt(counts.reduce((s, c) => s + c * c, 0)) };
  });
}

/** Cosine of two term-frequency vectors; two empty texts are alike (1), an empty and a non-empty one are not (0). */
function cosine(a: TfVector, b: TfVector): number {
  if (a.norm === 0 || b.norm === 0) return a.norm === b.norm ? 1 : 0;
  let dot = 0;
  for (let i = 0, j = 0; i < a.ids.length && j < b.ids.length;) {
    if (a.ids[i] === b.ids[j]) dot += a.counts[i++] * b.counts[j++];
    else if (a.ids[i] < b.ids[j]) i++;
    else j++;
  }
  return Math.min(1, dot / (a.norm * b.norm));
}

export interface SelfSimilarityOptions {
  maxExhaustive?: number;
  sampledPairs?: number;
  seed?: number;
}

/**
 * Self-similarity: the mean cosine similarity of the term-frequency (unigram count) vectors of
 * every pair of distinct outputs; 1 when all outputs use the same words in the same
 * proportions, 0 when no two share a word. Like Self-BLEU, higher means less diverse. Up to
 * 1000 outputs every pair counts; beyond, 100,000 pairs drawn uniformly (with replacement) by a
 * PRNG with a fixed seed, so the value is an estimate that is the same on every run.
 * Needs at least two outputs.
 */
export function selfSimilarity(outputs: readonly (readonly string[])[], opts: SelfSimilarityOptions = {}): number {
  const n = outputs.length;
  if (n < 2) throw new RangeError('self-similarity needs at least two outputs');
  const vectors = tfVectors(outputs);
  const maxExhaustive = opts.maxExhaustive ?? SELF_SIMILARITY_MAX_EXHAUSTIVE;
  let sum = 0;
  let pairs = 0;
  if (n <= maxExhaustive) {
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) sum += cosine(vectors[i], vectors[j]);
    pairs = (n * (n - 1)) / 2;
  } else {
    const random = seededRandom(opts.seed ?? SELF_SIMILARITY_SEED);
    pairs = opts.sampledPairs ?? SELF_SIMILARITY_SAMPLED_PAIRS;
    for (let k = 0; k < pairs; k++) {
      const i = Math.floor(random() * n);
      let j = Math.floor(random() * (n - 1));
      if (j >= i) j++;
      sum += cosine(vectors[i], vectors[j]);
    }
  }
  return sum / pairs;
}

function counts(tokens: readonly string[]): Map<string, number> {
  const c = new Map<string, number>();
  for (const t of tokens) c.set(t, (c.get(t) ?? 0) + 1);
  return c;
}

/**
 * SQuAD-style unigram F1 of an output against its reference: the harmonic mean of precision
 * and recall of the multiset of shared tokens. When either has no token: 1 if both have none,
 * else 0. (Unlike the SQuAD script, articles are not dropped: the tokenizer is language-neutral.)
 */
export function tokenF1(output: readonly string[], reference: readonly string[]): number {
  if (output.length === 0 || reference.length === 0) return output.length === reference.length ? 1 : 0;
  const ref = counts(reference);
  let same = 0;
  for (const [t, c] of counts(output)) same += Math.min(c, ref.get(t) ?? 0);
  if (same === 0) return 0;
  const precision = same / output.length;
  const recall = same / reference.length;
  return (2 * precision * recall) / (precision + recall);
}

/** Continuous percentile (linear interpolation between closest ranks, as PostgreSQL's percentile_cont). */
export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) throw new RangeError('percentile of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export interface NoveltyResult {
  /** Share of all output bigram occurrences absent from the corpus; 0 when the outputs have no bigram. */
  overall: number;
  /** Per output, the share of its bigrams absent from the corpus; null for an output without bigrams. */
  perOutput: (number | null)[];
}

/**
 * Novelty of outputs against a reference corpus, fed one text at a time so that the corpus can
 * be streamed: memory holds the outputs' bigrams, never the corpus.
 */
export class NoveltyCorpus {
  private readonly outputBigrams: string[][];
  /** Each output bigram, and whether the corpus has it. */
  private readonly found = new Map<string, boolean>();
  private corpusBigrams = 0;

  constructor(outputs: readonly (readonly string[])[]) {
    this.outputBigrams = outputs.map((tokens) => ngrams(tokens, 2));
    for (const grams of this.outputBigrams) for (const g of grams) this.found.set(g, false);
  }

  /** Adds one corpus text; a text with fewer than two tokens adds nothing. */
  add(text: string): void {
    const tokens = tokenize(text);
    for (let i = 0; i + 1 < tokens.length; i++) {
      this.corpusBigrams++;
      const g = `${tokens[i]} ${tokens[i + 1]}`;
      if (this.found.get(g) === false) this.found.set(g, true);
    }
  }

  /** True while no text of the corpus has had a bigram: novelty against it means nothing. */
  get isEmpty(): boolean {
    return this.corpusBigrams === 0;
  }

  result(): NoveltyResult {
    let novel = 0;
    let total = 0;
    const perOutput = this.outputBigrams.map((grams) => {
      if (grams.length === 0) return null;
      const own = grams.filter((g) => !this.found.get(g)).length;
      novel += own;
      total += grams.length;
      return own / grams.length;
    });
    return { overall: total === 0 ? 0 : novel / total, perOutput };
  }
}

export interface TokenizedGeneration {
  output: string[];
  /** Null when the generation has no reference; an empty reference is [] and counts. */
  reference: string[] | null;
}

export function tokenizeGeneration(g: { output: string; reference?: string | null }): TokenizedGeneration {
  return { output: tokenize(g.output), reference: g.reference === null || g.reference === undefined ? null : tokenize(g.reference) };
}

/** The metric name logged for a TextMetric, also the key of its per-sample score: "distinct_1". */
export const metricName = (metric: TextMetric): string => metric.toLowerCase();

/** Whether larger is better, as logged with the metric; null when neither is. */
export const HIGHER_IS_BETTER: Record<TextMetric, boolean | null> = {
  [TextMetric.DISTINCT_1]: true,
  [TextMetric.DISTINCT_2]: true,
  [TextMetric.SELF_SIMILARITY]: false,
  [TextMetric.NOVELTY]: true,
  [TextMetric.REFERENCE_OVERLAP]: true,
  [TextMetric.OUTPUT_LENGTH]: null,
};

/** The requested metrics without repeats, in the enum's order. */
export function uniqueMetrics(metrics: readonly TextMetric[]): TextMetric[] {
  const wanted = new Set(metrics);
  return Object.values(TextMetric).filter((m) => wanted.has(m));
}

/**
 * Why the requested metrics cannot be computed on these generations, or null when they can.
 * NOVELTY's corpus is checked separately: it may come from the database.
 */
export function textMetricsProblem(generations: readonly TokenizedGeneration[], metrics: readonly TextMetric[]): string | null {
  if (generations.length === 0) return 'there must be at least one generation';
  if (metrics.length === 0) return 'there must be at least one metric';
  if (metrics.includes(TextMetric.SELF_SIMILARITY) && generations.length < 2) {
    return 'SELF_SIMILARITY needs at least two generations';
  }
  if (metrics.includes(TextMetric.REFERENCE_OVERLAP) && !generations.some((g) => g.reference !== null)) {
    return 'REFERENCE_OVERLAP needs at least one generation with a reference';
  }
  return null;
}

export interface TextMetricValue {
  name: string;
  slice: string | null;
  value: number;
  higherIsBetter: boolean | null;
}

export interface ScoredGenerations {
  metrics: TextMetricValue[];
  /** Per generation, in order: its own values of the requested per-generation metrics. */
  scores: Record<string, number>[];
}

/**
 * Computes the requested metrics (repeats collapse) and the per-generation scores:
 * output_length, reference_overlap (when the generation has a reference) and novelty (when the
 * output has a bigram). OUTPUT_LENGTH is logged as the mean, plus slices "p50" and "p95".
 * The caller has checked textMetricsProblem and, for NOVELTY, passes the corpus's result.
 */
export function scoreGenerations(
  generations: readonly TokenizedGeneration[], requested: readonly TextMetric[], novelty: NoveltyResult | null,
): ScoredGenerations {
  const problem = textMetricsProblem(generations, requested);
  if (problem) throw new RangeError(problem);
  const outputs = generations.map((g) => g.output);
  const scores: Record<string, number>[] = generations.map(() => ({}));
  const metrics: TextMetricValue[] = [];
  const log = (metric: TextMetric, value: number, slice: string | null = null) =>
    metrics.push({ name: metricName(metric), slice, value, higherIsBetter: HIGHER_IS_BETTER[metric] });

  for (const metric of uniqueMetrics(requested)) {
    const name = metricName(metric);
    switch (metric) {
      case TextMetric.DISTINCT_1:
        log(metric, distinctN(outputs, 1));
        break;
      case TextMetric.DISTINCT_2:
        log(metric, distinctN(outputs, 2));
        break;
      case TextMetric.SELF_SIMILARITY:
        log(metric, selfSimilarity(outputs));
        break;
      case TextMetric.NOVELTY: {
        if (!novelty || novelty.perOutput.length !== generations.length) throw new RangeError('NOVELTY needs the corpus result of these outputs');
        novelty.perOutput.forEach((v, i) => { if (v !== null) scores[i][name] = v; });
        log(metric, novelty.overall);
        break;
      }
      case TextMetric.REFERENCE_OVERLAP: {
        let sum = 0;
        let n = 0;
        generations.forEach((g, i) => {
          if (g.reference === null) return;
          const f1 = tokenF1(g.output, g.reference);
          scores[i][name] = f1;
          sum += f1;
          n++;
        });
        log(metric, sum / n);
        break;
      }
      case TextMetric.OUTPUT_LENGTH: {
        const lengths = outputs.map((o) => o.length);
        lengths.forEach((len, i) => { scores[i][name] = len; });
        log(metric, lengths.reduce((s, x) => s + x, 0) / lengths.length);
        log(metric, percentile(lengths, 0.5), 'p50');
        log(metric, percentile(lengths, 0.95), 'p95');
        break;
      }
    }
  }
  return { metrics, scores };
}
