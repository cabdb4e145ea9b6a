// The live dashboard served at /dashboard: paste a key, pick a project, a model and an alias,
// and watch the metric series of the version the alias points to, its alias history, the
// project's open alerts and the model's versions side by side.
//
// Plain DOM, no framework: the page is a handful of selects and tables redrawn whole when an
// answer or event arrives, and the charts are uPlot's own canvas. A framework would add a
// dependency and a build step (JSX) for no part of the page that needs one.
//
// The key lives in sessionStorage (gone with the tab, never sent anywhere but the
// Authorization header of this server). The URL holds only what is safe to share: the project,
// model and alias chosen, so a link opens the same view for anyone with their own key.
import './dashboard.css';
import { Api, ApiError } from './api';
import { ALIASES, AliasesData, MODELS, ModelsData, PROJECTS, ProjectsData } from './queries';
import { AliasView, Selection } from './view';

const KEY_STORAGE = 'modelgraph.apiKey';

const $ = <T extends HTMLElement>(id: string) => {
  const node = document.getElementById(id);
  if (!node) throw new Error(`the page has no #${id}`);
  return node as T;
};

const keyInput = $<HTMLInputElement>('key');
const useKey = $<HTMLButtonElement>('use-key');
const forget = $<HTMLButtonElement>('forget-key');
const who = $('who');
const status = $('status');
const pickers = $('pickers');
const projectSelect = $<HTMLSelectElement>('project');
const modelSelect = $<HTMLSelectElement>('model');
const aliasSelect = $<HTMLSelectElement>('alias');
const viewRoot = $('view');
const liveBadge = $('live');

function report(message: string, isError = false): void {
  status.textContent = message;
  status.className = isError ? 'error' : '';
}

let api: Api | null = null;
let view: AliasView | null = null;
/** Counts choices, so an answer to a choice the user has already changed is not drawn. */
let choice = 0;

/** The choice in the URL (?project=…&model=…&alias=…), for links that open the same view. */
function urlChoice(): Partial<Selection> {
  const q = new URLSearchParams(location.search);
  return { project: q.get('project') ?? undefined, model: q.get('model') ?? undefined, alias: q.get('alias') ?? undefined };
}

function writeUrl(): void {
  const q = new URLSearchParams();
  if (projectSelect.value) q.set('project', projectSelect.value);
  if (modelSelect.value) q.set('model', modelSelect.value);
  if (aliasSelect.value) q.set('alias', aliasSelect.value);
  const search = q.toString();
  history.replaceState(null, '', `${location.pathname}${search ? `?${search}` : ''}`);
}

/** Fills a select with a placeholder and the options; keeps `wanted` selected when it is one of them. */
function options(select: HTMLSelectElement, placeholder: string, items: { value: string; label: string }[], wanted?: string): void {
  const none = new Option(placeholder, '');
  select.replaceChildren(none, ...items.map((i) => new Option(i.label, i.value)));
  select.value = items.some((i) => i.value === wanted) ? (wanted as string) : '';
  select.disabled = items.length === 0;
}

function closeView(): void {
  view?.stop();
  view = null;
  viewRoot.hidden = true;
  viewRoot.dataset.state = 'empty';
}

async function pickProject(wanted: Partial<Selection>): Promise<void> {
  closeView();
  options(modelSelect, 'Model…', []);
  options(aliasSelect, 'Alias…', []);
  writeUrl();
  if (!api || !projectSelect.value) return;
  const n = ++choice;
  const data = await api.query<ModelsData>(MODELS, { project: projectSelect.value });
  if (n !== choice) return;
  const models = data.project?.models.nodes ?? [];
  options(modelSelect, models.length ? 'Model…' : 'No models', models.map((m) => ({ value: m.name, label: m.name })), wanted.model);
  if (modelSelect.value) await pickModel(wanted);
}

async function pickModel(wanted: Partial<Selection>): Promise<void> {
  closeView();
  options(aliasSelect, 'Alias…', []);
  writeUrl();
  if (!api || !modelSelect.value) return;
  const n = ++choice;
  const data = await api.query<AliasesData>(ALIASES, { project: projectSelect.value, model: modelSelect.value });
  if (n !== choice) return;
  const aliases = data.project?.model?.aliases ?? [];
  options(aliasSelect, aliases.length ? 'Alias…' : 'No aliases', aliases.map((a) => ({ value: a.name, label: `${a.name} (v${a.version.number})` })), wanted.alias);
  if (aliasSelect.value) await pickAlias();
}

async function pickAlias(): Promise<void> {
  closeView();
  writeUrl();
  ++choice;
  if (!api || !aliasSelect.value) return;
  viewRoot.hidden = false;
  view = new AliasView(api, { project: projectSelect.value, model: modelSelect.value, alias: aliasSelect.value }, {
    root: viewRoot,
    title: $('title'),
    charts: $('charts'),
    chartsNote: $('charts-note'),
    alerts: $<HTMLTableElement>('alerts'),
    aliasHistory: $<HTMLTableElement>('alias-history'),
    comparison: $<HTMLTableElement>('comparison'),
    report,
    live: (state) => {
      liveBadge.textContent = state === 'connected' ? 'live' : 'reconnecting…';
      liveBadge.className = state;
    },
  });
  await view.start();
}

/** Checks the key by reading the projects it can see; keeps it only when the server accepts it. */
async function connect(key: string): Promise<void> {
  closeView();
  api?.close();
  const mine = new Api(key);
  api = mine;
  let data: ProjectsData;
  try {
    data = await mine.query<ProjectsData>(PROJECTS);
  } catch (e) {
    mine.close();
    // Another key was pasted meanwhile: its answer decides.
    if (api !== mine) return;
    api = null;
    sessionStorage.removeItem(KEY_STORAGE);
    pickers.hidden = true;
    const unauthenticated = e instanceof ApiError && e.code === 'UNAUTHENTICATED';
    report(unauthenticated ? 'The server does not accept this key.' : `Could not reach the API: ${(e as Error).message}`, true);
    return;
  }
  if (api !== mine) return;
  sessionStorage.setItem(KEY_STORAGE, key);
  // The secret leaves the field once it is in use; but a key typed while a saved one was being
  // checked is the user's next move, not this key, and stays.
  if (keyInput.value.trim() === key) keyInput.value = '';
  forget.hidden = false;
  who.textContent = `${data.viewer.name} (${data.viewer.role})`;
  pickers.hidden = false;
  report('');
  const projects = data.viewer.projects.nodes;
  const wanted = urlChoice();
  options(projectSelect, projects.length ? 'Project…' : 'No projects', projects.map((p) => ({ value: p.slug, label: p.name === p.slug ? p.slug : `${p.name} (${p.slug})` })), wanted.project);
  if (projectSelect.value) await pickProject(wanted);
}

const failed = (e: Error) => report(e.message, true);

useKey.addEventListener('click', () => {
  const key = keyInput.value.trim();
  if (key) void connect(key).catch(failed);
});
keyInput.addEventListener('keydown', (e) => {
  if (e.key === 'Enter') useKey.click();
});
forget.addEventListener('click', () => {
  closeView();
  api?.close();
  api = null;
  sessionStorage.removeItem(KEY_STORAGE);
  forget.hidden = true;
  pickers.hidden = true;
  who.textContent = '';
  report('The key is forgotten.');
});
projectSelect.addEventListener('change', () => void pickProject({}).catch(failed));
modelSelect.addEventListener('change', () => void pickModel({}).catch(failed));
aliasSelect.addEventListener('change', () => void pickAlias().catch(failed));

const saved = sessionStorage.getItem(KEY_STORAGE);
if (saved) void connect(saved).catch(failed);
else report('Paste an API key to start.');
