// What the dashboard shows for one project, model and alias, kept current by three
// subscriptions: the alias's metric points, the project's alerts, and the registry changes
// that move the alias or add versions and evaluations.
import { Api, ApiError, Subscription } from './api';
import { Charts } from './charts';
import { renderAlerts, renderAliasHistory, renderComparison } from './panels';
import {
  ALERTS_LIVE, ALIAS_HISTORY, ALIAS_VIEW, AliasHistoryData, AliasViewData, Alert, AlertsLiveData, COMPARE, CompareData,
  HISTORY_POINTS, OPEN_ALERTS, OpenAlertsData, POINTS_LIVE, PointsLiveData, REGISTRY_LIVE, RegistryLiveData, VERSIONS, VersionsData,
} from './queries';

export interface Selection { project: string; model: string; alias: string }

export interface ViewElements {
  root: HTMLElement;
  title: HTMLElement;
  charts: HTMLElement;
  chartsNote: HTMLElement;
  alerts: HTMLTableElement;
  aliasHistory: HTMLTableElement;
  comparison: HTMLTableElement;
  report: (message: string, isError?: boolean) => void;
  /** Shows whether the live connection is up. */
  live: (state: 'connected' | 'closed') => void;
}

type PointsEvent = PointsLiveData['metricPoints'];

export class AliasView {
  private readonly charts: Charts;
  private readonly subscriptions: Subscription[] = [];
  /** The version the alias points to, as last read; null while none (or not read yet). */
  private versionId: string | null = null;
  /** Live events that came while the version's history was being read; applied once it is. */
  private pending: PointsEvent[] | null = [];
  /** Each read of the version's history gets a number; only the newest one is drawn. */
  private generation = 0;
  private readonly openAlerts = new Map<string, Alert>();
  /** Alerts the live stream saw resolved: a query answer that predates it must not reopen them. */
  private readonly resolved = new Set<string>();
  private stopped = false;
  private unlisten: () => void = () => undefined;

  constructor(private readonly api: Api, private readonly sel: Selection, private readonly els: ViewElements) {
    this.charts = new Charts(els.charts);
  }

  /**
   * Subscribes first and reads after, so nothing committed in between is missed: what a read
   * already holds and the stream also brings is dropped when the read is applied (loadVersion),
   * judged by timestamp: a streamed point no newer than its series' newest at the read is taken
   * as one the read holds (a late point backfilled in that moment shows on the next read).
   */
  async start(): Promise<void> {
    const { project, model, alias } = this.sel;
    this.els.root.dataset.state = 'loading';
    this.unlisten = this.api.onLive(this.liveChanged());
    const failed = (what: string) => (e: ApiError) => this.els.report(`${what}: ${e.message}`, true);
    this.subscriptions.push(
      this.api.subscribe<PointsLiveData>(POINTS_LIVE, { project, model, alias }, (d) => this.onPoints(d.metricPoints), failed('Live metric points')),
      this.api.subscribe<AlertsLiveData>(ALERTS_LIVE, { project }, (d) => this.onAlert(d.alerts), failed('Live alerts')),
      this.api.subscribe<RegistryLiveData>(REGISTRY_LIVE, { project }, (d) => this.onRegistry(d.registryEvents), failed('Live registry changes')),
    );
    await Promise.all([this.loadVersion(), this.loadAliasHistory(), this.loadAlerts()]);
    await this.loadComparison();
    if (!this.stopped) this.els.root.dataset.state = 'ready';
  }

  stop(): void {
    this.stopped = true;
    this.unlisten();
    for (const s of this.subscriptions) s.stop();
    this.charts.clear();
  }

  /**
   * After a drop of the WebSocket, graphql-ws subscribes again, live from then on: what was
   * recorded or changed meanwhile is read again, so the view has no gap.
   */
  private liveChanged(): (state: 'connected' | 'closed') => void {
    let dropped = false;
    return (state) => {
      this.els.live(state);
      if (state === 'closed') { dropped = true; return; }
      if (!dropped) return;
      dropped = false;
      this.pending ??= [];
      this.openAlerts.clear();
      this.resolved.clear();
      void Promise.all([this.loadVersion(), this.loadAliasHistory(), this.loadAlerts(), this.loadComparison()])
        .then(() => this.els.report(''), (e: Error) => this.els.report(`Reading again after reconnecting: ${e.message}`, true));
    };
  }

  /** Reads the version the alias points to and the recent history of each of its series. */
  private async loadVersion(): Promise<void> {
    const generation = ++this.generation;
    this.pending ??= [];
    let data: AliasViewData;
    try {
      data = await this.api.query<AliasViewData>(ALIAS_VIEW, { ...this.sel, maxPoints: HISTORY_POINTS });
    } catch (e) {
      // Live points flow again (the next one of another version reads the alias again).
      if (generation === this.generation) this.pending = null;
      throw e;
    }
    if (this.stopped || generation !== this.generation) return;
    const version = data.project?.model?.alias ?? null;
    this.charts.clear();
    this.versionId = version?.id ?? null;
    this.els.root.dataset.version = version ? String(version.number) : '';
    this.els.title.textContent = version
      ? `${this.sel.model} @ ${this.sel.alias} → v${version.number} (${version.status})`
      : `${this.sel.model} @ ${this.sel.alias} points to no version`;
    const newest = new Map<string, number>();
    for (const s of version?.metricSeries ?? []) {
      this.charts.add(s, s.points);
      newest.set(s.id, s.lastTimestamp ? Date.parse(s.lastTimestamp) : -Infinity);
    }
    const held = this.pending ?? [];
    this.pending = null;
    // The stream follows the alias, so it may bring points of the version before the move.
    for (const ev of held) {
      if (ev.series.modelVersion?.id !== this.versionId) continue;
      const after = newest.get(ev.series.id) ?? -Infinity;
      this.charts.add(ev.series, ev.points.filter((p) => Date.parse(p.timestamp) > after));
    }
    this.updateNote();
  }

  private onPoints(ev: PointsEvent): void {
    if (this.pending) {
      this.pending.push(ev);
      return;
    }
    if (ev.series.modelVersion?.id !== this.versionId) {
      // The alias moved and this is the first point of the version it points to now: draw that
      // version, from its history (which the read will include this event in, or hold after).
      this.pending = [ev];
      void this.loadVersion().catch((e: Error) => this.els.report(`Reading the alias: ${e.message}`, true));
      return;
    }
    this.charts.add(ev.series, ev.points);
    this.updateNote();
  }

  private updateNote(): void {
    this.els.chartsNote.textContent = this.charts.size
      ? ''
      : 'No metric series for this version yet: points recorded for it (recordMetrics) appear here as they arrive.';
  }

  private async loadAliasHistory(): Promise<void> {
    const data = await this.api.query<AliasHistoryData>(ALIAS_HISTORY, { ...this.sel });
    if (!this.stopped) renderAliasHistory(this.els.aliasHistory, data.project?.model?.aliasHistory.nodes ?? []);
  }

  private async loadAlerts(): Promise<void> {
    const data = await this.api.query<OpenAlertsData>(OPEN_ALERTS, { project: this.sel.project });
    for (const monitor of data.project?.monitors.nodes ?? []) {
      for (const a of monitor.alerts.nodes) {
        if (a.resolvedAt === null && !this.resolved.has(a.id) && !this.openAlerts.has(a.id)) this.openAlerts.set(a.id, a);
      }
    }
    if (!this.stopped) renderAlerts(this.els.alerts, [...this.openAlerts.values()]);
  }

  private onAlert(a: Alert): void {
    if (a.resolvedAt === null) {
      this.openAlerts.set(a.id, a);
    } else {
      this.openAlerts.delete(a.id);
      this.resolved.add(a.id);
    }
    renderAlerts(this.els.alerts, [...this.openAlerts.values()]);
  }

  private async loadComparison(): Promise<void> {
    const versions = (await this.api.query<VersionsData>(VERSIONS, { project: this.sel.project, model: this.sel.model })).project?.model?.versions.nodes ?? [];
    const compared = versions.length
      ? (await this.api.query<CompareData>(COMPARE, { ids: versions.map((v) => v.id) })).compareModelVersions
      : { metrics: [], rows: [] };
    if (!this.stopped) renderComparison(this.els.comparison, versions, compared, this.versionId);
  }

  private onRegistry(ev: RegistryLiveData['registryEvents']): void {
    const s = ev.subject;
    const model = s.model?.name ?? s.modelVersion?.model.name;
    if (model !== this.sel.model) return;
    const warn = (what: string) => (e: Error) => this.els.report(`${what}: ${e.message}`, true);
    if (ev.type === 'ALIAS_SET' || ev.type === 'ALIAS_REMOVED') {
      if (s.alias !== this.sel.alias) {
        void this.loadComparison().catch(warn('Reading the versions'));
        return;
      }
      // Read the version now: the alias may have moved to a version that has no new point yet.
      this.pending ??= [];
      void this.loadVersion()
        .then(() => Promise.all([this.loadAliasHistory(), this.loadComparison()]))
        .catch(warn('Reading the alias'));
      return;
    }
    void this.loadComparison().catch(warn('Reading the versions'));
  }
}
