import { ApiKey } from '../modules/auth/api-key.entity';
import { AuditEvent } from '../modules/audit/audit-event.entity';
import { AliasEvent, ModelAlias } from '../modules/model/model-alias.entity';
import { ModelVersion } from '../modules/model/model-version.entity';
import { Model } from '../modules/model/model.entity';
import { Project } from '../modules/project/project.entity';
import { Feedback } from '../modules/feedback/feedback.entity';
import { RegistryCore1764100000000 } from '../../migrations/1764100000000-RegistryCore';
import { Feedback1764500000000 } from '../../migrations/1764500000000-Feedback';

/** Listed, not globbed, so the same list works from TypeScript (tests) and compiled JavaScript. */
export const ENTITIES = [Project, ApiKey, AuditEvent, Model, ModelVersion, ModelAlias, AliasEvent, Feedback];
export const MIGRATIONS = [RegistryCore1764100000000, Feedback1764500000000];
