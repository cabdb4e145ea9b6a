import { registerEnumType } from 'type-graphql';

/** The type of a dataset column or a feature. */
export enum DataType {
  INT = 'INT',
  FLOAT = 'FLOAT',
  BOOL = 'BOOL',
  STRING = 'STRING',
  CATEGORY = 'CATEGORY',
  TIMESTAMP = 'TIMESTAMP',
  TEXT = 'TEXT',
  EMBEDDING = 'EMBEDDING',
  JSON = 'JSON',
}
registerEnumType(DataType, {
  name: 'DataType',
  description: 'The type of a dataset column or a feature.',
  valuesConfig: {
    INT: { description: 'Whole number.' },
    FLOAT: { description: 'Real number.' },
    BOOL: { description: 'true or false.' },
    STRING: { description: 'Short string, e.g. an id.' },
    CATEGORY: { description: 'One of a finite set of labels.' },
    TIMESTAMP: { description: 'Point in time (ISO-8601).' },
    TEXT: { description: 'Free text, e.g. a prompt or a document.' },
    EMBEDDING: { description: 'Vector of numbers.' },
    JSON: { description: 'Any JSON value.' },
  },
});
