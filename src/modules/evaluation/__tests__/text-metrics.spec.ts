import 'reflect-metadata';
import { validate } from 'class-validator';
import { GenerationInput, MAX_GENERATIONS_PER_CALL, ScoreGenerationsInput } from '../dto/score-generations.input';
import {
  NoveltyCorpus, TextMetric, distinctN, ngrams, percentile, scoreGenerations, selfSimilarity, textMetricsProblem,
  tokenF1, tokenize, tokenizeGeneration, uniqueMetrics,
} from '../text-metrics';

const toks = (...texts: string[]) => texts.map(tokenize);

describe('tokenize', () => {
  test.each([
    ['Hello, World!', ['hello', 'world']],
    ["Don't stop—rock'n'roll.", ["don't", 'stop', "rock'n'roll"]],
    ['don’t', ["don't"]],
    ["'quoted' students'", ['quoted', 'students']],
    ['4th 3.14 gpt4', ['4th', '3', '14', 'gpt4']],
    ['Ｆｕｌｌ ﬁne', ['full', 'fine']],
    ['CAFÉ café Cafe\u0301', ['café', 'café', 'café']],
    ['İSTANBUL ΣΟΦΙΑ Straße', ['i̇stanbul', 'σοφια', 'straße']],
    ['नमस्ते दुनिया', ['नमस्ते', 'दुनिया']],
    ['我爱北京', ['我', '爱', '北', '京']],
    ['これはペン', ['こ', 'れ', 'は', 'ペ', 'ン']],
    ['GPT说hello', ['gpt', '说', 'hello']],
    ['😀 -- ... ', []],
    ['', []],
  ])('%j', (text, expected) => {
    expect(tokenize(text)).toEqual(expected);
  });

  test('n-grams stay inside one text', () => {
    expect(ngrams(['a', 'b', 'c'], 2)).toEqual(['a b', 'b c']);
    expect(ngrams(['a'], 2)).toEqual([]);
    expect(ngrams(['a', 'b'], 1)).toEqual(['a', 'b']);
  });
});

describe('distinct-n', () => {
  test('distinct over total, across all outputs', () => {
    const outputs = toks('the cat sat', 'the cat ran');
    expect(distinctN(outputs, 1)).toBeCloseTo(4 / 6, 12);
    expect(distinctN(outputs, 2)).toBeCloseTo(3 / 4, 12);
  });

  test('bigrams do not span outputs', () => {
    // "a b" + "b a": a joined stream would add "b b"; 2 distinct of 2.
    expect(distinctN(toks('a b', 'b a'), 2)).toBe(1);
  });

  test('Unicode text', () => {
    expect(distinctN(toks('Café café CAFE\u0301'), 1)).toBeCloseTo(1 / 3, 12);
    expect(distinctN(toks('我爱我'), 1)).toBeCloseTo(2 / 3, 12);
    expect(distinctN(toks('我爱我'), 2)).toBe(1);
  });

  test('0 when there are no n-grams', () => {
    expect(distinctN(toks('', '  '), 1)).toBe(0);
    expect(distinctN(toks('one', 'two'), 2)).toBe(0);
    expect(distinctN([], 1)).toBe(0);
  });
});

describe('self-similarity (mean pairwise cosine of term frequencies)', () => {
  test('hand-computed pairs', () => {
    expect(selfSimilarity(toks('a b', 'A, B!'))).toBeCloseTo(1, 12);
    expect(selfSimilarity(toks('a b', 'c d'))).toBe(0);
    // (2,1)·(1,2) = 4, norms √5 · √5
    expect(selfSimilarity(toks('a a b', 'a b b'))).toBeCloseTo(0.8, 12);
    // pairs: 1, 0, 0
    expect(selfSimilarity(toks('a b', 'b a', 'c'))).toBeCloseTo(1 / 3, 12);
    expect(selfSimilarity(toks('日本', '本日'))).toBeCloseTo(1, 12);
  });

  test('empty outputs: two empty are alike, empty and non-empty are not', () => {
    expect(selfSimilarity(toks('', '...'))).toBe(1);
    expect(selfSimilarity(toks('', 'a'))).toBe(0);
    expect(selfSimilarity(toks('', '', 'a'))).toBeCloseTo(1 / 3, 12);
  });

  test('needs two outputs', () => {
    expect(() => selfSimilarity(toks('a'))).toThrow(RangeError);
  });

  test('exact for many outputs: the mean of every pairwise cosine', () => {
    const outputs = [...Array(20).fill('a b'), ...Array(20).fill('c d')].map(tokenize);
    expect(selfSimilarity(outputs)).toBeCloseTo((2 * 190) / 780, 12); // same-group pairs / all pairs
    const halves = Array.from({ length: 1001 }, (_, i) => tokenize(i % 2 ? 'x y' : 'p q'));
    expect(selfSimilarity(halves)).toBeCloseTo((2 * (501 * 500) / 2 - 500) / ((1001 * 1000) / 2), 12); // C(501,2) + C(500,2) over C(1001,2)

    // Against the definition, pair by pair, on varied texts with repeats and empty ones.
    const words = ['the', 'cat', 'sat', 'on', 'a', 'mat', 'dog', 'ran', 'far', 'away'];
    let seed = 7;
    const next = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    const texts = Array.from({ length: 300 }, (_, i) => (i % 37 === 0 ? [] : Array.from({ length: 1 + Math.floor(next() * 12) }, () => words[Math.floor(next() * words.length)])));
    const tf = (tokens: string[]) => { const m = new Map<string, number>(); for (const w of tokens) m.set(w, (m.get(w) ?? 0) + 1); return m; };
    const cosine = (a: string[], b: string[]) => {
      if (!a.length || !b.length) return a.length === b.length ? 1 : 0;
      const [x, y] = [tf(a), tf(b)];
      let dot = 0;
      for (const [w, c] of x) dot += c * (y.get(w) ?? 0);
      const norm = (m: Map<string, number>) => Math.sqrt([...m.values()].reduce((s, c) => s + c * c, 0));
      return dot / (norm(x) * norm(y));
    };
    let sum = 0;
    for (let i = 0; i < texts.length; i++) for (let j = i + 1; j < texts.length; j++) sum += cosine(texts[i], texts[j]);
    expect(selfSimilarity(texts)).toBeCloseTo(sum / ((300 * 299) / 2), 12);
  });
});

describe('reference overlap (SQuAD token F1)', () => {
  const f1 = (output: string, reference: string) => tokenF1(tokenize(output), tokenize(reference));

  test('hand-computed values', () => {
    expect(f1('The cat sat.', 'the cat sat')).toBe(1);
    expect(f1('the cat sat', 'the cat ran')).toBeCloseTo(2 / 3, 12);
    // multiset: min(2,1) + min(1,2) = 2 shared of 3 and 3
    expect(f1('a a b', 'a b b')).toBeCloseTo(2 / 3, 12);
    // p = 1, r = 1/4
    expect(f1('a', 'a b c d')).toBeCloseTo(0.4, 12);
    expect(f1('x y', 'a b')).toBe(0);
  });

  test('Unicode text', () => {
    expect(f1('Ünïcödé ＴＥＸＴ', 'ünïcödé text')).toBe(1);
    // 4 characters vs 5: 3 shared; p = 3/4, r = 3/5
    expect(f1('我爱北京', '我在北京')).toBeCloseTo(0.75, 12);
    expect(f1('我爱北京', '我在北京住')).toBeCloseTo((2 * 0.75 * 0.6) / 1.35, 12);
  });

  test('empty texts', () => {
    expect(f1('', '')).toBe(1);
    expect(f1('!!', '')).toBe(1);
    expect(f1('', 'a')).toBe(0);
    expect(f1('a', '')).toBe(0);
  });
});

test('percentile is continuous (percentile_cont)', () => {
  expect(percentile([4, 1, 3, 2], 0.5)).toBe(2.5);
  expect(percentile([4, 1, 3, 2], 0.95)).toBeCloseTo(3.85, 12);
  expect(percentile([7], 0.95)).toBe(7);
  expect(percentile([0, 10], 0)).toBe(0);
  expect(percentile([0, 10], 1)).toBe(10);
  expect(() => percentile([], 0.5)).toThrow(RangeError);
});

describe('novelty', () => {
  test('share of output bigram occurrences absent from the corpus, per output and overall', () => {
    const corpus = new NoveltyCorpus(toks('a b c', 'x y', 'z', 'a b a b'));
    expect(corpus.isEmpty).toBe(true);
    corpus.add('single');
    expect(corpus.isEmpty).toBe(true);
    corpus.add('A b. D');
    expect(corpus.isEmpty).toBe(false);
    const { overall, perOutput } = corpus.result();
    // "a b" known; "b c", "x y", "b a" not. Occurrences: 1/2, 1/1, none, 1/3.
    expect(perOutput).toEqual([0.5, 1, null, 1 / 3]);
    expect(overall).toBeCloseTo(3 / 6, 12);
  });

  test('Unicode: NFKC and case do not make a bigram novel', () => {
    const corpus = new NoveltyCorpus(toks('ＣＡＦÉ crème', '北京欢迎你'));
    corpus.add('café CRÈME');
    corpus.add('北京欢迎');
    const { perOutput, overall } = corpus.result();
    expect(perOutput[0]).toBe(0);
    // 北京 京欢 欢迎 known, 迎你 novel
    expect(perOutput[1]).toBeCloseTo(1 / 4, 12);
    expect(overall).toBeCloseTo(1 / 5, 12);
  });

  test('0 when the outputs have no bigram', () => {
    const corpus = new NoveltyCorpus(toks('', 'one'));
    corpus.add('some text');
    expect(corpus.result()).toEqual({ overall: 0, perOutput: [null, null] });
  });

  test('outputs added one at a time, before the corpus', () => {
    const corpus = new NoveltyCorpus();
    for (const tokens of toks('a b c', 'c a b')) corpus.addOutput(tokens);
    corpus.add('x a b y');
    // "a b" twice known; "b c", "c a" novel
    expect(corpus.result()).toEqual({ overall: 0.5, perOutput: [0.5, 0.5] });
    expect(() => corpus.addOutput(['late', 'output'])).toThrow();
  });
});

describe('scoreGenerations', () => {
  const generations = [
    { output: 'The cat sat.', reference: 'the cat sat' },
    { output: 'the cat ran', reference: null },
    { output: '', reference: 'something' },
  ].map(tokenizeGeneration);

  test('every metric, hand-computed, with per-generation scores', () => {
    const corpus = new NoveltyCorpus(generations.map((g) => g.output));
    corpus.add('the cat sat');
    corpus.add('something');
    const all = Object.values(TextMetric);
    const { metrics, scores } = scoreGenerations(generations, all, corpus.result());
    const byKey = Object.fromEntries(metrics.map((m) => [`${m.name}${m.slice ? `/${m.slice}` : ''}`, [m.value, m.higherIsBetter]]));
    expect(Object.keys(byKey)).toEqual([
      'distinct_1', 'distinct_2', 'self_similarity', 'novelty', 'reference_overlap', 'output_length', 'output_length/p50', 'output_length/p95',
    ]);
    expect(byKey.distinct_1[0]).toBeCloseTo(4 / 6, 12);
    expect(byKey.distinct_2[0]).toBeCloseTo(3 / 4, 12);
    expect(byKey.self_similarity[0]).toBeCloseTo(2 / 9, 12); // cosines 2/3, 0, 0
    expect(byKey.novelty[0]).toBeCloseTo(1 / 4, 12); // "cat ran" of 4 bigrams
    expect(byKey.reference_overlap[0]).toBe(0.5); // 1 and 0; the second has no reference
    expect(byKey.output_length[0]).toBe(2);
    expect(byKey['output_length/p50'][0]).toBe(3);
    expect(byKey['output_length/p95'][0]).toBe(3);
    expect(metrics.map((m) => m.higherIsBetter)).toEqual([true, true, false, true, true, null, null, null]);
    expect(scores).toEqual([
      { novelty: 0, reference_overlap: 1, output_length: 3 },
      { novelty: 0.5, output_length: 3 },
      { reference_overlap: 0, output_length: 0 },
    ]);
  });

  test('repeats collapse; only the requested per-generation scores are kept', () => {
    const { metrics, scores } = scoreGenerations(generations, [TextMetric.OUTPUT_LENGTH, TextMetric.DISTINCT_1, TextMetric.OUTPUT_LENGTH], null);
    expect(metrics.map((m) => [m.name, m.slice])).toEqual([
      ['distinct_1', null], ['output_length', null], ['output_length', 'p50'], ['output_length', 'p95'],
    ]);
    expect(scores).toEqual([{ output_length: 3 }, { output_length: 3 }, { output_length: 0 }]);
    expect(uniqueMetrics([TextMetric.NOVELTY, TextMetric.DISTINCT_2, TextMetric.NOVELTY])).toEqual([TextMetric.DISTINCT_2, TextMetric.NOVELTY]);
  });

  test('metrics that cannot be computed are refused', () => {
    const one = [tokenizeGeneration({ output: 'a b' })];
    expect(textMetricsProblem(one, [TextMetric.SELF_SIMILARITY])).toMatch(/two generations/);
    expect(textMetricsProblem(one, [TextMetric.REFERENCE_OVERLAP])).toMatch(/reference/);
    expect(textMetricsProblem([tokenizeGeneration({ output: 'a', reference: '' })], [TextMetric.REFERENCE_OVERLAP])).toBeNull();
    expect(textMetricsProblem([], [TextMetric.DISTINCT_1])).not.toBeNull();
    expect(textMetricsProblem(one, [])).not.toBeNull();
    expect(() => scoreGenerations(one, [TextMetric.SELF_SIMILARITY], null)).toThrow(RangeError);
    expect(() => scoreGenerations(one, [TextMetric.NOVELTY], null)).toThrow(RangeError);
  });
});

describe('ScoreGenerationsInput validation', () => {
  const gen = (v: Partial<GenerationInput> = {}) => Object.assign(new GenerationInput(), { output: 'hi', ...v });
  const input = (v: Partial<ScoreGenerationsInput> = {}) =>
    Object.assign(new ScoreGenerationsInput(), { evaluationId: 'x', generations: [gen()], metrics: [TextMetric.DISTINCT_1], ...v });
  const failed = async (o: object) => (await validate(o)).map((e) => e.property);

  test('limits', async () => {
    expect(await failed(input())).toEqual([]);
    expect(await failed(input({ generations: [] }))).toEqual(['generations']);
    expect(await failed(input({ generations: Array.from({ length: MAX_GENERATIONS_PER_CALL }, () => gen()) }))).toEqual([]);
    expect(await failed(input({ generations: Array.from({ length: MAX_GENERATIONS_PER_CALL + 1 }, () => gen()) }))).toEqual(['generations']);
    expect(await failed(input({ generations: [gen({ output: 'x'.repeat(100_000) })] }))).toEqual([]);
    expect(await failed(input({ generations: [gen({ output: 'x'.repeat(100_001) })] }))).toEqual(['generations']);
    expect(await failed(input({ generations: [gen({ reference: 'x'.repeat(100_001) })] }))).toEqual(['generations']);
    expect(await failed(input({ metrics: [] }))).toEqual(['metrics']);
    expect(await failed(input({ metrics: ['BLEU' as TextMetric] }))).toEqual(['metrics']);
  });
});
