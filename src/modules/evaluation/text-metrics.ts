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

import { Steps, runNow } from '../../core/util/slices';

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
 * Numbers for tokens, so that a bigram is one number (`bigramKey`) rather than a new string.
 * Bigram keys are kept in arrays and sorted typed arrays, not in sets or maps, whose keys
 * above the small-integer range would each be a heap object for the garbage collector.
 */
class Vocabulary {
  private readonly ids = new Map<string, number>();

  /** The token's id, given a new one when it is new. */
  id(token: string): number {
    let id = this.ids.get(token);
    if (id === undefined) {
      id = this.ids.size;
      // bigramKey packs two ids into one safe integer; a call's input has far fewer tokens.
      if (id >= BIGRAM_BASE) throw new RangeError('too many distinct tokens');
      this.ids.set(token, id);
    }
    return id;
  }

  /** The token's id, or -1 when it has none. */
  find(token: string): number {
    return this.ids.get(token) ?? -1;
  }
}

const BIGRAM_BASE = 2 ** 26;
const bigramKey = (a: number, b: number) => a * BIGRAM_BASE + b;

/** The distinct values of `keys`, ascending. */
function sortedUnique(keys: Float64Array): Float64Array {
  const sorted = keys.sort();
  let n = 0;
  for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) sorted[n++] = sorted[i];
  return sorted.subarray(0, n);
}

/** Where `key` is in the ascending `keys`, or -1. */
function indexIn(keys: Float64Array, key: number): number {
  let lo = 0;
  let hi = keys.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid] < key) lo = mid + 1;
    else if (keys[mid] > key) hi = mid - 1;
    else return mid;
  }
  return -1;
}

/**
 * Distinct-n (Li et al. 2016): distinct n-grams over all outputs divided by the n-gram
 * occurrences over all outputs; 0 when the outputs have no n-gram at all.
 */
export function distinctN(outputs: readonly (readonly string[])[], n: number): number {
  return runNow(distinctNSteps(outputs, n));
}

/** distinctN as steps, one per output. */
export function* distinctNSteps(outputs: readonly (readonly string[])[], n: number): Steps<number> {
  if (n === 2) {
    const vocabulary = new Vocabulary();
    const keys = new Float64Array(outputs.reduce((sum, tokens) => sum + Math.max(0, tokens.length - 1), 0));
    let total = 0;
    for (const tokens of outputs) {
      for (let i = 0; i + 1 < tokens.length; i++) keys[total++] = bigramKey(vocabulary.id(tokens[i]), vocabulary.id(tokens[i + 1]));
      yield;
    }
    return total === 0 ? 0 : sortedUnique(keys).length / total;
  }
  const seen = new Set<string>();
  let total = 0;
  for (const tokens of outputs) {
    for (const g of ngrams(tokens, n)) {
      seen.add(g);
      total++;
    }
    yield;
  }
  return total === 0 ? 0 : seen.size / total;
}

/**
 * Self-similarity: the mean cosine similarity of the term-frequency (unigram count) vectors of
 * every pair of distinct outputs; 1 when all outputs use the same words in the same
 * proportions, 0 when no two share a word. Like Self-BLEU, higher means less diverse. Two empty
 * outputs are alike (1), an empty and a non-empty one are not (0). Needs at least two outputs.
 *
 * Exact for any number of outputs in time linear in their tokens: with u_i the unit vector of
 * output i, the sum over pairs of u_i·u_j is, term by term, ((Σ_i u_it)² − Σ_i u_it²) / 2. A
 * term used by one output adds exactly 0 that way, so outputs sharing no word give exactly 0.
 */
export function selfSimilarity(outputs: readonly (readonly string[])[]): number {
  return runNow(selfSimilaritySteps(outputs));
}

/** selfSimilarity as steps, one per output. */
export function* selfSimilaritySteps(outputs: readonly (readonly string[])[]): Steps<number> {
  const n = outputs.length;
  if (n < 2) throw new RangeError('self-similarity needs at least two outputs');
  const termIds = new Map<string, number>();
  // Per term: the sum of the outputs' unit-vector components, and of their squares.
  const sums: number[] = [];
  const squares: number[] = [];
  let empty = 0;
  for (const tokens of outputs) {
    yield;
    if (tokens.length === 0) {
      empty++;
      continue;
    }
    const tf = new Map<number, number>();
    for (const t of tokens) {
      let id = termIds.get(t);
      if (id === undefined) {
        termIds.set(t, (id = termIds.size));
        sums.push(0);
        squares.push(0);
      }
      tf.set(id, (tf.get(id) ?? 0) + 1);
    }
    let norm = 0;
    for (const c of tf.values()) norm += c * c;
    norm = Math.sqrt(norm);
    for (const [id, c] of tf) {
      const u = c / norm;
      sums[id] += u;
      squares[id] += u * u;
    }
  }
  let sum = (empty * (empty - 1)) / 2;
  for (let id = 0; id < sums.length; id++) sum += (sums[id] * sums[id] - squares[id]) / 2;
  return Math.min(1, Math.max(0, sum / ((n * (n - 1)) / 2)));
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
  /** The outputs' tokens: a corpus token that is not one of them can be in no output bigram. */
  private readonly vocabulary = new Vocabulary();
  private readonly outputBigrams: number[][] = [];
  /** Once the corpus is being read: every output bigram, ascending, and whether the corpus has it. */
  private index: { keys: Float64Array; found: Uint8Array } | null = null;
  private corpusBigrams = 0;

  constructor(outputs: readonly (readonly string[])[] = []) {
    for (const tokens of outputs) this.addOutput(tokens);
  }

  /** Adds the next output whose novelty is measured; outputs come before any corpus text. */
  addOutput(tokens: readonly string[]): void {
    if (this.index) throw new Error('outputs come before the corpus');
    const grams: number[] = [];
    let prev = tokens.length ? this.vocabulary.id(tokens[0]) : -1;
    for (let i = 1; i < tokens.length; i++) {
      const id = this.vocabulary.id(tokens[i]);
      grams.push(bigramKey(prev, id));
      prev = id;
    }
    this.outputBigrams.push(grams);
  }

  private indexed(): { keys: Float64Array; found: Uint8Array } {
    if (!this.index) {
      const all = new Float64Array(this.outputBigrams.reduce((sum, grams) => sum + grams.length, 0));
      let n = 0;
      for (const grams of this.outputBigrams) for (const g of grams) all[n++] = g;
      const keys = sortedUnique(all);
      this.index = { keys, found: new Uint8Array(keys.length) };
    }
    return this.index;
  }

  /** Adds one corpus text; a text with fewer than two tokens adds nothing. */
  add(text: string): void {
    const tokens = tokenize(text);
    if (tokens.length < 2) return;
    const { keys, found } = this.indexed();
    this.corpusBigrams += tokens.length - 1;
    let prev = this.vocabulary.find(tokens[0]);
    for (let i = 1; i < tokens.length; i++) {
      const id = this.vocabulary.find(tokens[i]);
      if (prev >= 0 && id >= 0) {
        const at = indexIn(keys, bigramKey(prev, id));
        if (at >= 0) found[at] = 1;
      }
      prev = id;
    }
  }

  /** True while no text of the corpus has had a bigram: novelty against it means nothing. */
  get isEmpty(): boolean {
    return this.corpusBigrams === 0;
  }

  result(): NoveltyResult {
    return runNow(this.resultSteps());
  }

  /** result() as steps, one per output. */
  *resultSteps(): Steps<NoveltyResult> {
    const { keys, found } = this.indexed();
    let novel = 0;
    let total = 0;
    const perOutput: (number | null)[] = [];
    for (const grams of this.outputBigrams) {
      if (grams.length === 0) {
        perOutput.push(null);
        continue;
      }
      let own = 0;
      for (const g of grams) if (!found[indexIn(keys, g)]) own++;
      novel += own;
      total += grams.length;
      perOutput.push(own / grams.length);
      yield;
    }
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
  return runNow(scoreGenerationSteps(generations, requested, novelty));
}

/** scoreGenerations as steps, about one per generation and metric, for a caller that runs it in slices. */
export function* scoreGenerationSteps(
  generations: readonly TokenizedGeneration[], requested: readonly TextMetric[], novelty: NoveltyResult | null,
): Steps<ScoredGenerations> {
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
        log(metric, yield* distinctNSteps(outputs, 1));
        break;
      case TextMetric.DISTINCT_2:
        log(metric, yield* distinctNSteps(outputs, 2));
        break;
      case TextMetric.SELF_SIMILARITY:
        log(metric, yield* selfSimilaritySteps(outputs));
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
        for (let i = 0; i < generations.length; i++) {
          const g = generations[i];
          if (g.reference === null) continue;
          const f1 = tokenF1(g.output, g.reference);
          scores[i][name] = f1;
          sum += f1;
          n++;
          yield;
        }
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
