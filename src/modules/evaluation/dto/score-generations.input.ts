import { ArrayMaxSize, ArrayMinSize, IsEnum, IsOptional, IsString, MaxLength, ValidateNested } from 'class-validator';
import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { GraphQLJSON } from 'graphql-scalars';
import { TextMetric } from '../text-metrics';

export const MAX_GENERATIONS_PER_CALL = 5000;
export const MAX_GENERATION_CHARS = 100_000;
/** Outputs and references together: what one call may make the server tokenize and score. */
export const MAX_GENERATION_CHARS_PER_CALL = 1_000_000;
/** The dataset part of the NOVELTY corpus: at most this many samples, the most recent first ... */
export const NOVELTY_CORPUS_MAX_SAMPLES = 2000;
/** ... and at most this many characters of their texts. */
export const NOVELTY_CORPUS_MAX_CHARS = 1_000_000;

const n = (x: number) => x.toLocaleString('en-US');
/** Metrics one call may list; there are few, so more only repeats them. */
export const MAX_TEXT_METRICS_LISTED = 100;

const TOKENS = 'Texts are split into lowercase word tokens: NFKC-normalized, a token is a run of letters, marks and digits '
  + "(inner apostrophes kept), each Han/Hiragana/Katakana character is one token; n-grams never span two texts.";

registerEnumType(TextMetric, {
  name: 'TextMetric',
  description: `A text metric the server computes over generations. ${TOKENS} Each is logged under its lowercase name (e.g. "distinct_1").`,
  valuesConfig: {
    DISTINCT_1: {
      description: 'Distinct unigrams over all outputs divided by all unigram occurrences over all outputs (Li et al. 2016); 0 when the outputs have no token. Higher is better.',
    },
    DISTINCT_2: {
      description: 'Distinct bigrams over all outputs divided by all bigram occurrences over all outputs (Li et al. 2016); 0 when the outputs have no bigram. Higher is better.',
    },
    SELF_SIMILARITY: {
      description: 'Mean cosine similarity between the unigram term-frequency vectors of every pair of outputs (two empty outputs: 1, one empty: 0), '
        + 'exact for any number of generations (computed in time linear in their tokens, not pair by pair). '
        + 'Self-BLEU-like: higher means less diverse, so higherIsBetter is false. Needs at least two generations.',
    },
    NOVELTY: {
      description: 'Share of output bigram occurrences (all outputs together) absent from the reference corpus; per generation, the share of its own '
        + "bigrams (omitted when it has none); 0 when the outputs have no bigram. The corpus: every generation's reference, plus, with "
        + 'noveltyReferenceDatasetVersionId, the input, output and reference of samples of the other evaluations on that dataset version, '
        + 'each when it is a JSON string (strings nested in objects are not read): a sample of them, the most recently logged first, at most '
        + `${n(NOVELTY_CORPUS_MAX_SAMPLES)} samples and ${n(NOVELTY_CORPUS_MAX_CHARS)} characters (the text that crosses that is cut there); `
        + 'the payload\'s noveltyCorpus says how many were taken and whether that was all. BAD_USER_INPUT when the corpus has no bigram. '
        + 'Higher is better.',
    },
    REFERENCE_OVERLAP: {
      description: 'Mean over the generations with a reference of the SQuAD-style unigram F1 between output and reference (shared tokens counted '
        + 'as a multiset; when either has no token: 1 if both have none, else 0). Generations without a reference are skipped; '
        + 'BAD_USER_INPUT when none has one. Higher is better.',
    },
    OUTPUT_LENGTH: {
      description: 'Mean output length in tokens, logged with slices "p50" and "p95" (continuous percentiles, as percentile_cont). '
        + 'higherIsBetter is null.',
    },
  },
});

@InputType({ description: 'One output of a generative model, to be scored and stored as an evaluation sample.' })
export class GenerationInput {
  @Field(() => GraphQLJSON, { nullable: true, description: 'What the model was given, e.g. a prompt; stored with the sample, not scored.' })
  @IsOptional()
  input?: unknown;

  @Field({ description: `What the model produced; at most ${MAX_GENERATION_CHARS.toLocaleString('en-US')} characters.` })
  @IsString() @MaxLength(MAX_GENERATION_CHARS)
  output: string;

  @Field(() => String, {
    nullable: true,
    description: `The expected output, for REFERENCE_OVERLAP and as NOVELTY corpus; at most ${MAX_GENERATION_CHARS.toLocaleString('en-US')} characters.`,
  })
  @IsOptional() @IsString() @MaxLength(MAX_GENERATION_CHARS)
  reference?: string | null;
}

@InputType({ description: 'Generations of a model to score with text metrics, logged to a RUNNING evaluation.' })
export class ScoreGenerationsInput {
  @Field(() => ID, { description: 'The RUNNING evaluation the metrics and samples go to.' })
  @IsString()
  evaluationId: string;

  @Field(() => [GenerationInput], {
    description: `1 to ${n(MAX_GENERATIONS_PER_CALL)} generations, of at most ${n(MAX_GENERATION_CHARS_PER_CALL)} characters of outputs and `
      + 'references together (above: BAD_USER_INPUT, field "generations"); each is stored as a sample, in the order given, with its per-generation scores.',
  })
  @ArrayMinSize(1) @ArrayMaxSize(MAX_GENERATIONS_PER_CALL) @ValidateNested({ each: true })
  generations: GenerationInput[];

  @Field(() => [TextMetric], { description: `The metrics to compute, 1 to ${MAX_TEXT_METRICS_LISTED} listed; repeats count once.` })
  @ArrayMinSize(1) @ArrayMaxSize(MAX_TEXT_METRICS_LISTED) @IsEnum(TextMetric, { each: true })
  metrics: TextMetric[];

  @Field(() => ID, {
    nullable: true,
    description: 'A dataset version of the same project whose evaluation samples join the NOVELTY corpus; only read when NOVELTY is requested.',
  })
  @IsOptional() @IsString()
  noveltyReferenceDatasetVersionId?: string | null;
}

@ObjectType({ description: 'The reference corpus scoreGenerations measured NOVELTY against.' })
export class NoveltyCorpusUsage {
  @Field(() => Int, { description: 'Generations of the call whose reference joined the corpus.' })
  references: number;

  @Field(() => Int, {
    description: 'Evaluation samples of noveltyReferenceDatasetVersionId that joined the corpus (0 without it): the most recently logged, '
      + `at most ${n(NOVELTY_CORPUS_MAX_SAMPLES)}, with at most ${n(NOVELTY_CORPUS_MAX_CHARS)} characters of text in all.`,
  })
  datasetSamples: number;

  @Field({ description: 'True when the dataset version had more samples or text than those limits let in: its part of the corpus is a sample.' })
  datasetSampled: boolean;
}
