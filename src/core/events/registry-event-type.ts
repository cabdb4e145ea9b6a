import { registerEnumType } from 'type-graphql';

export enum RegistryEventType {
  MODEL_CREATED = 'MODEL_CREATED',
  MODEL_VERSION_CREATED = 'MODEL_VERSION_CREATED',
  MODEL_VERSION_STATUS_CHANGED = 'MODEL_VERSION_STATUS_CHANGED',
  ALIAS_SET = 'ALIAS_SET',
  ALIAS_REMOVED = 'ALIAS_REMOVED',
  PROMOTION_REQUESTED = 'PROMOTION_REQUESTED',
  PROMOTION_DECIDED = 'PROMOTION_DECIDED',
  EVALUATION_COMPLETED = 'EVALUATION_COMPLETED',
  DATASET_VERSION_CREATED = 'DATASET_VERSION_CREATED',
  ALERT_OPENED = 'ALERT_OPENED',
  ALERT_RESOLVED = 'ALERT_RESOLVED',
}
registerEnumType(RegistryEventType, {
  name: 'RegistryEventType',
  description: 'What happened in the registry; the event\'s subject is the object it happened to.',
  valuesConfig: {
    MODEL_CREATED: { description: 'A model was created; subject: the Model.' },
    MODEL_VERSION_CREATED: { description: 'A version was registered; subject: the ModelVersion.' },
    MODEL_VERSION_STATUS_CHANGED: { description: 'A version changed status; subject: the ModelVersion (its status is the new one).' },
    ALIAS_SET: { description: 'An alias was pointed at a version; subject: the AliasEvent recording the move.' },
    ALIAS_REMOVED: { description: 'An alias was removed; subject: the AliasEvent recording the removal.' },
    PROMOTION_REQUESTED: { description: 'A promotion was requested; subject: the PromotionRequest.' },
    PROMOTION_DECIDED: { description: 'A promotion request was applied, rejected or cancelled; subject: the PromotionRequest.' },
    EVALUATION_COMPLETED: { description: 'An evaluation finished (COMPLETED or FAILED, see its status); subject: the Evaluation.' },
    DATASET_VERSION_CREATED: { description: 'A dataset version was registered; subject: the DatasetVersion.' },
    ALERT_OPENED: { description: 'A monitor opened an alert; subject: the Alert.' },
    ALERT_RESOLVED: { description: 'An alert was resolved; subject: the Alert.' },
  },
});
