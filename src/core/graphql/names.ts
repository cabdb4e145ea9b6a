/** Project slugs, model names and alias names: lowercase, URL- and path-safe. */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,127}$/;
export const NAME_RULE = 'must match [a-z0-9][a-z0-9._-]{0,127}';
