import { ConnectionType } from '../../../core/graphql/pagination';
import { PromptAliasEvent } from '../prompt-alias.entity';
import { PromptVersion } from '../prompt-version.entity';
import { Prompt } from '../prompt.entity';

export const PromptConnection = ConnectionType(Prompt, 'Prompt', 'prompt');
export const PromptVersionConnection = ConnectionType(PromptVersion, 'PromptVersion', 'prompt version');
export const PromptAliasEventConnection = ConnectionType(PromptAliasEvent, 'PromptAliasEvent', 'prompt alias move');
