import { registerEnumType } from 'type-graphql';

/** What a dataset version was used for by a model version. */
export enum DatasetRole {
  TRAINING = 'TRAINING',
  VALIDATION = 'VALIDATION',
  TEST = 'TEST',
  EVALUATION = 'EVALUATION',
  FINE_TUNING = 'FINE_TUNING',
  RETRIEVAL_CORPUS = 'RETRIEVAL_CORPUS',
  REFERENCE = 'REFERENCE',
}
registerEnumType(DatasetRole, {
  name: 'DatasetRole',
  description: 'What a dataset version was used for by a model version.',
  valuesConfig: {
    TRAINING: { description: 'Trained on.' },
    VALIDATION: { description: 'Used for model selection during training.' },
    TEST: { description: 'Held out for the final test.' },
    EVALUATION: { description: 'Evaluated on after training.' },
    FINE_TUNING: { description: 'Fine-tuned on.' },
    RETRIEVAL_CORPUS: { description: 'Retrieved from at inference (RAG).' },
    REFERENCE: { description: 'The reference distribution for drift.' },
  },
});
