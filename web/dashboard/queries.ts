// The operations the dashboard sends, and the shapes of their answers (the fields asked for,
// read from schema/schema.graphql; DateTime is an ISO string).

export const PROJECTS = `query DashboardProjects { viewer { name role projects(first: 100) { nodes { slug name } } } }`;
export interface ProjectsData { viewer: { name: string; role: string; projects: { nodes: { slug: string; name: string }[] } } }

export const MODELS = `query DashboardModels($project: String!) {
  project(slug: $project) { models(first: 100, orderBy: NAME_ASC) { nodes { name } } } }`;
export interface ModelsData { project: { models: { nodes: { name: string }[] } } | null }

export const ALIASES = `query DashboardAliases($project: String!, $model: String!) {
  project(slug: $project) { model(name: $model) { aliases { name version { number } } } } }`;
export interface AliasesData { project: { model: { aliases: { name: string; version: { number: number } }[] } | null } | null }

export interface SeriesInfo { id: string; name: string; labels: Record<string, string> }
export interface Point { timestamp: string; value: number }
export interface SeriesHistory extends SeriesInfo { lastTimestamp: string | null; points: Point[] }

/** Buckets of history per series: enough for a chart a screen wide, within the query cost limit. */
export const HISTORY_POINTS = 300;

/** What the alias points to now, with the recent points of each of that version's series. */
export const ALIAS_VIEW = `query DashboardAlias($project: String!, $model: String!, $alias: String!, $maxPoints: Int!) {
  project(slug: $project) { model(name: $model) {
    alias(name: $alias) { id number status
      metricSeries { id name labels lastTimestamp points(maxPoints: $maxPoints, aggregation: AVG) { timestamp value } } }
  } } }`;
export interface AliasViewData {
  project: { model: { alias: { id: string; number: number; status: string; metricSeries: SeriesHistory[] } | null } | null } | null;
}

export interface AliasMove {
  at: string; actor: string; reason: string | null;
  fromVersion: { number: number } | null; toVersion: { number: number } | null;
}
export const ALIAS_HISTORY = `query DashboardAliasHistory($project: String!, $model: String!, $alias: String!) {
  project(slug: $project) { model(name: $model) {
    aliasHistory(name: $alias, first: 20) { nodes { at actor reason fromVersion { number } toVersion { number } } } } } }`;
export interface AliasHistoryData { project: { model: { aliasHistory: { nodes: AliasMove[] } } | null } | null }

export interface VersionRow { id: string; number: number; status: string; aliases: string[] }
export const VERSIONS = `query DashboardVersions($project: String!, $model: String!) {
  project(slug: $project) { model(name: $model) { versions(first: 20) { nodes { id number status aliases } } } } }`;
export interface VersionsData { project: { model: { versions: { nodes: VersionRow[] } } | null } | null }

export const COMPARE = `query DashboardCompare($ids: [ID!]!) {
  compareModelVersions(ids: $ids) { metrics rows { modelVersion { id } values } } }`;
export interface CompareData { compareModelVersions: { metrics: string[]; rows: { modelVersion: { id: string }; values: (number | null)[] }[] } }

export interface Alert {
  id: string; status: string; value: number | null; message: string; openedAt: string; resolvedAt: string | null;
  monitor: { id: string; name: string; metric: string };
}
const ALERT_FIELDS = 'id status value message openedAt resolvedAt monitor { id name metric }';
/** The project's monitors with their newest alerts: the open ones among them are shown. */
export const OPEN_ALERTS = `query DashboardAlerts($project: String!) {
  project(slug: $project) { monitors(first: 100) { nodes { alerts(first: 5) { nodes { ${ALERT_FIELDS} } } } } } }`;
export interface OpenAlertsData { project: { monitors: { nodes: { alerts: { nodes: Alert[] } }[] } } | null }

export const ALERTS_LIVE = `subscription DashboardAlertsLive($project: String!) { alerts(projectSlug: $project) { ${ALERT_FIELDS} } }`;
export interface AlertsLiveData { alerts: Alert }

export const POINTS_LIVE = `subscription DashboardPoints($project: String!, $model: String!, $alias: String!) {
  metricPoints(projectSlug: $project, filter: { modelName: $model, alias: $alias }) {
    series { id name labels modelVersion { id number } } points { timestamp value } } }`;
export interface PointsLiveData {
  metricPoints: { series: SeriesInfo & { modelVersion: { id: string; number: number } | null }; points: Point[] };
}

/** Registry changes after which the alias history, the version table or the chart's version are read again. */
export const REGISTRY_LIVE = `subscription DashboardRegistry($project: String!) {
  registryEvents(projectSlug: $project, types: [ALIAS_SET, ALIAS_REMOVED, MODEL_VERSION_CREATED, MODEL_VERSION_STATUS_CHANGED, EVALUATION_COMPLETED]) {
    type subject { __typename ... on AliasEvent { alias model { name } } ... on ModelVersion { model { name } } ... on Evaluation { modelVersion { model { name } } } } } }`;
export interface RegistryLiveData {
  registryEvents: {
    type: string;
    subject: { __typename: string; alias?: string; model?: { name: string }; modelVersion?: { model: { name: string } } };
  };
}
