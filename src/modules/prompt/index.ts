import type { ModuleDescriptor } from '../../core/module';
import { defineNodeType } from '../../core/graphql/ids';
import { ProjectPromptsResolver } from './project.fields';
import { PromptAlias, PromptAliasEvent } from './prompt-alias.entity';
import { PromptAliasEventResolver, PromptAliasResolver } from './prompt-alias.resolver';
import { PromptVersion } from './prompt-version.entity';
import { PromptVersionResolver } from './prompt-version.resolver';
import { Prompt } from './prompt.entity';
import { promptLoaders } from './prompt.loaders';
import { PromptResolver } from './prompt.resolver';

/** The prompt registry: prompts, immutable template versions numbered without gaps, aliases with history, rendering. */
export const promptModule: ModuleDescriptor = {
  name: 'prompt',
  entities: [Prompt, PromptVersion, PromptAlias, PromptAliasEvent],
  resolvers: [ProjectPromptsResolver, PromptResolver, PromptVersionResolver, PromptAliasResolver, PromptAliasEventResolver],
  loaders: promptLoaders,
  nodeTypes: [
    defineNodeType({ name: 'Prompt', cls: Prompt, key: 'uuid', load: (l, k) => l.promptById.load(k), projectOf: (r) => r.projectId }),
    defineNodeType({ name: 'PromptVersion', cls: PromptVersion, key: 'uuid', load: (l, k) => l.promptVersionById.load(k), projectOf: (r) => r.projectId }),
    defineNodeType({
      name: 'PromptAliasEvent', cls: PromptAliasEvent, key: 'bigint', load: (l, k) => l.promptAliasEventById.load(k), projectOf: (r) => r.projectId,
    }),
  ],
};
