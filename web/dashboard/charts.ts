// One uPlot chart per metric series of the version shown. Each chart's figure carries the
// number of points it draws and its newest value as data attributes (data-points,
// data-last-value), which the end-to-end test and anyone inspecting the page can read.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { formatValue } from './panels';
import type { Point, SeriesInfo } from './queries';

/** Points kept per chart; the oldest go first. A day of history plus a long live session fits. */
const MAX_POINTS = 5000;
const HEIGHT = 180;

const labelText = (labels: Record<string, string>) =>
  Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(', ');

class SeriesChart {
  readonly figure: HTMLElement;
  private readonly xs: number[] = [];
  private readonly ys: number[] = [];
  private readonly plot: uPlot;
  private readonly last: HTMLElement;

  constructor(readonly info: SeriesInfo, parent: HTMLElement) {
    this.figure = document.createElement('figure');
    this.figure.className = 'chart';
    this.figure.dataset.seriesId = info.id;
    this.figure.dataset.metric = info.name;
    const caption = document.createElement('figcaption');
    const title = document.createElement('strong');
    title.textContent = info.name;
    const labels = document.createElement('span');
    labels.className = 'labels';
    labels.textContent = labelText(info.labels);
    this.last = document.createElement('span');
    this.last.className = 'last-value';
    caption.append(title, labels, this.last);
    this.figure.append(caption);
    parent.append(this.figure);
    this.plot = new uPlot({
      width: this.plotWidth(),
      height: HEIGHT,
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      // A lone point gets a minute each side (uPlot's own pad for one timestamp spans years).
      scales: { x: { time: true, range: (u, min, max) => (u.data[0].length === 1 ? [min - 60, min + 60] : [min, max]) } },
      axes: [{ stroke: '#9aa4b2', grid: { stroke: '#2a3140' } }, { stroke: '#9aa4b2', grid: { stroke: '#2a3140' }, size: 60 }],
      series: [{}, { label: info.name, stroke: '#4fa3ff', width: 2, fill: 'rgba(79,163,255,0.12)', points: { show: (_u, _s, i0, i1) => i1 - i0 < 60 } }],
    }, [[], []], this.figure);
    this.render();
  }

  /** Adds points in timestamp order; a point older than the newest is inserted where it belongs. */
  add(points: readonly Point[]): void {
    for (const p of points) {
      const x = Date.parse(p.timestamp) / 1000;
      let i = this.xs.length;
      while (i > 0 && this.xs[i - 1] > x) i--;
      this.xs.splice(i, 0, x);
      this.ys.splice(i, 0, p.value);
    }
    const extra = this.xs.length - MAX_POINTS;
    if (extra > 0) {
      this.xs.splice(0, extra);
      this.ys.splice(0, extra);
    }
    this.render();
  }

  /** Fits the plot to its figure (a cell of the grid), whose width the page's width decides. */
  resize(): void {
    this.plot.setSize({ width: this.plotWidth(), height: HEIGHT });
  }

  private plotWidth(): number {
    const style = getComputedStyle(this.figure);
    return Math.max(200, this.figure.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight));
  }

  destroy(): void {
    this.plot.destroy();
    this.figure.remove();
  }

  private render(): void {
    this.plot.setData([this.xs, this.ys]);
    const n = this.ys.length;
    this.figure.dataset.points = String(n);
    if (n) {
      const value = this.ys[n - 1];
      this.figure.dataset.lastValue = String(value);
      this.last.textContent = `last ${formatValue(value)}`;
    } else {
      delete this.figure.dataset.lastValue;
      this.last.textContent = 'no points yet';
    }
  }
}

/** The charts of one version's series, by series id. */
export class Charts {
  private readonly bySeries = new Map<string, SeriesChart>();
  private readonly byFigure = new Map<Element, SeriesChart>();
  private readonly observer: ResizeObserver;

  constructor(private readonly parent: HTMLElement) {
    this.observer = new ResizeObserver((entries) => {
      for (const e of entries) this.byFigure.get(e.target)?.resize();
    });
  }

  /** Adds points to a series' chart, making the chart when the series is new. */
  add(series: SeriesInfo, points: readonly Point[]): void {
    let chart = this.bySeries.get(series.id);
    if (!chart) {
      chart = new SeriesChart(series, this.parent);
      this.bySeries.set(series.id, chart);
      this.byFigure.set(chart.figure, chart);
      this.observer.observe(chart.figure);
    }
    chart.add(points);
  }

  clear(): void {
    for (const chart of this.bySeries.values()) chart.destroy();
    this.bySeries.clear();
    this.byFigure.clear();
    this.observer.disconnect();
  }

  get size(): number {
    return this.bySeries.size;
  }
}
