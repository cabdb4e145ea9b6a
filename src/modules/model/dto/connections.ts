import { ConnectionType } from '../../../core/graphql/pagination';
import { AliasEvent } from '../model-alias.entity';
import { ModelVersion } from '../model-version.entity';
import { Model } from '../model.entity';

export const ModelConnection = ConnectionType(Model, 'Model', 'model');
export const ModelVersionConnection = ConnectionType(ModelVersion, 'ModelVersion', 'model version');
export const AliasEventConnection = ConnectionType(AliasEvent, 'AliasEvent', 'alias move');
