// The tables of the dashboard, drawn from answers of the API. Text goes in as text nodes only:
// names, messages and reasons come from users of the API and must never become markup.
import type { Alert, AliasMove, CompareData, VersionRow } from './queries';

type Child = Node | string | number | null | undefined;

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K, attrs: Record<string, string> = {}, ...children: Child[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const c of children) if (c !== null && c !== undefined) node.append(c instanceof Node ? c : String(c));
  return node;
}

const time = (iso: string) => new Date(iso).toLocaleString();
/** At most 4 significant digits, without trailing zeros (0.935, 0.91, 1234). */
export const formatValue = (v: number) => (Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(4))));
const num = (v: number | null | undefined) => (v === null || v === undefined ? '–' : formatValue(v));

/** Replaces a table's head and body; `empty` is shown as one row when there are no rows. */
function fill(table: HTMLTableElement, head: string[], rows: HTMLTableRowElement[], empty: string): void {
  table.replaceChildren(
    el('thead', {}, el('tr', {}, ...head.map((h) => el('th', {}, h)))),
    el('tbody', {}, ...(rows.length ? rows : [el('tr', { class: 'empty' }, el('td', { colspan: String(head.length) }, empty))])),
  );
}

export function renderAliasHistory(table: HTMLTableElement, moves: AliasMove[]): void {
  const v = (x: { number: number } | null) => (x ? `v${x.number}` : '∅');
  fill(table, ['When', 'Move', 'By', 'Reason'], moves.map((m) => el('tr', {},
    el('td', {}, time(m.at)),
    el('td', { class: 'move' }, `${v(m.fromVersion)} → ${v(m.toVersion)}`),
    el('td', {}, m.actor),
    el('td', {}, m.reason ?? ''),
  )), 'No moves of this alias yet.');
}

export function renderAlerts(table: HTMLTableElement, alerts: Alert[]): void {
  const sorted = [...alerts].sort((a, b) => b.openedAt.localeCompare(a.openedAt));
  fill(table, ['Status', 'Monitor', 'Metric', 'Value', 'Message', 'Opened'], sorted.map((a) => el('tr', { 'data-alert-id': a.id, 'data-status': a.status },
    el('td', {}, el('span', { class: `badge ${a.status.toLowerCase()}` }, a.status)),
    el('td', {}, a.monitor.name),
    el('td', {}, a.monitor.metric),
    el('td', { class: 'num' }, num(a.value)),
    el('td', {}, a.message),
    el('td', {}, time(a.openedAt)),
  )), 'No open alerts in this project.');
}

/** One row per version, one column per evaluation metric; the version the alias points to is marked. */
export function renderComparison(table: HTMLTableElement, versions: VersionRow[], compared: CompareData['compareModelVersions'], current: string | null): void {
  const values = new Map(compared.rows.map((r) => [r.modelVersion.id, r.values]));
  fill(table, ['Version', 'Status', 'Aliases', ...compared.metrics], versions.map((v) => el('tr', { 'data-version': String(v.number), ...(v.id === current ? { class: 'current' } : {}) },
    el('td', {}, `v${v.number}`),
    el('td', {}, v.status),
    el('td', {}, v.aliases.join(', ')),
    ...compared.metrics.map((m, i) => el('td', { class: 'num', 'data-metric': m }, num(values.get(v.id)?.[i]))),
  )), 'This model has no versions.');
}
