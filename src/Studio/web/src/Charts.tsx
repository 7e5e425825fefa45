// The run monitor's metrics, grouped by meaning (metrics.ts): one chart per family with a line per metric, one
// "by kind" chart per family with a line per kind (a choice of which metric's kinds), counts per round in a table,
// and what was measured outside the rounds in another. Inline SVG; x is the round.
import { useMemo, useState, type ReactNode } from 'react';
import type { MetricPoint } from './api';
import { groupMetrics, type FamilyChart, type KindChart, type Line } from './metrics';

const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#be185d', '#4d7c0f', '#a16207', '#475569'];

export function MetricCharts({ points }: { points: MetricPoint[] }) {
  const grouped = useMemo(() => groupMetrics(points), [points]);
  if (!points.length) return <div className="muted" data-testid="no-metrics">No metrics recorded yet.</div>;
  const { charts, counts, once } = grouped;
  return (
    <>
      <div className="charts" data-testid="charts">
        {charts.map((c) => (c.kind === 'family' ? <FamilyView key={c.id} chart={c} /> : <KindsView key={c.id} chart={c} />))}
      </div>
      {counts.rows.length > 0 && (
        <details className="once" data-testid="run-counts">
          <summary>{counts.rows.length} count(s) per round</summary>
          <table>
            <thead><tr><th>metric</th>{counts.rounds.map((r) => <th key={r}>round {r + 1}</th>)}</tr></thead>
            <tbody>{counts.rows.map((row) => (
              <tr key={row.key}><td>{row.key}</td>{counts.rounds.map((r) => <td key={r}>{row.byRound.has(r) ? fmtValue(row.byRound.get(r)!) : ''}</td>)}</tr>
            ))}</tbody>
          </table>
        </details>
      )}
      {once.length > 0 && (
        <details className="once" data-testid="run-metrics">
          <summary>{once.length} metric(s) outside the rounds</summary>
          <table>
            <thead><tr><th>family</th><th>metric</th><th>value</th><th>by kind</th></tr></thead>
            <tbody>{once.map((o) => (
              <tr key={o.key}><td>{o.family}</td><td>{o.key}</td><td>{Number.isNaN(o.value) ? '' : fmtValue(o.value)}</td>
                <td>{o.kinds.map((k) => `${k.kind} ${fmtValue(k.value)}`).join(', ')}</td></tr>
            ))}</tbody>
          </table>
        </details>
      )}
    </>
  );
}

function FamilyView({ chart }: { chart: FamilyChart }) {
  return <Plot id={`chart-${chart.id}`} title={chart.title} lines={chart.lines} x={chart.x} />;
}

function KindsView({ chart }: { chart: KindChart }) {
  const [choice, setChoice] = useState(chart.parents[0]?.key ?? '');
  const parent = chart.parents.find((p) => p.key === choice) ?? chart.parents[0];
  if (!parent) return null;
  const picker = chart.parents.length > 1 && (
    <select value={parent.key} onChange={(e) => setChoice(e.target.value)} data-testid={`kinds-of-${chart.id}`}>
      {chart.parents.map((p) => <option key={p.key} value={p.key}>{p.key}</option>)}
    </select>
  );
  return <Plot id={`chart-${chart.id}`} title={chart.title} lines={parent.lines} x={chart.x} extra={picker || <span className="muted"> {parent.key}</span>} />;
}

function Plot({ id, title, lines, x, extra }: { id: string; title: string; lines: Line[]; x: 'round' | 'step'; extra?: ReactNode }) {
  const all = lines.flatMap((l) => [...l.values.entries()]);
  if (!all.length) return null;
  const xs = all.map(([v]) => v);
  const ys = all.map(([, v]) => v);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (y0 === y1) { y0 -= 0.5; y1 += 0.5; }
  const W = 360, H = 170, L = 46, R = 8, T = 10, B = 24;
  const sx = (v: number) => L + (x1 === x0 ? (W - L - R) / 2 : ((v - x0) / (x1 - x0)) * (W - L - R));
  const sy = (v: number) => T + (1 - (v - y0) / (y1 - y0)) * (H - T - B);
  const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toFixed(3));
  // Rounds are counted from 1 on screen, as the CLI and the report count them.
  const xLabel = (v: number) => String(x === 'round' ? v + 1 : v);
  return (
    <figure className="chart" data-testid={id} data-lines={lines.length}>
      <figcaption>{title} <span className="muted">by {x}</span>{extra}</figcaption>
      <svg width={W} height={H} viewBox={`0 0 ${W} ${H}`} role="img" aria-label={title}>
        <line x1={L} y1={H - B} x2={W - R} y2={H - B} stroke="#999" />
        <line x1={L} y1={T} x2={L} y2={H - B} stroke="#999" />
        <text x={L - 4} y={T + 8} textAnchor="end" fontSize="10">{fmt(y1)}</text>
        <text x={L - 4} y={H - B} textAnchor="end" fontSize="10">{fmt(y0)}</text>
        <text x={L} y={H - 8} fontSize="10">{xLabel(x0)}</text>
        <text x={W - R} y={H - 8} fontSize="10" textAnchor="end">{xLabel(x1)}</text>
        {lines.map((line, i) => {
          const pts = [...line.values.entries()].sort(([a], [b]) => a - b);
          const color = PALETTE[i % PALETTE.length];
          const dash = i >= PALETTE.length ? '5 3' : undefined;
          return (
            <g key={line.label} data-testid="line" data-label={line.label}>
              <polyline fill="none" stroke={color} strokeWidth={2} strokeDasharray={dash} points={pts.map(([a, b]) => `${sx(a)},${sy(b)}`).join(' ')} />
              {pts.map(([a, b]) => <circle key={a} cx={sx(a)} cy={sy(b)} r={2.5} fill={color}><title>{`${line.label} @${xLabel(a)}: ${fmtValue(b)}`}</title></circle>)}
            </g>
          );
        })}
      </svg>
      <div className="legend">{lines.map((l, i) => <span key={l.label} style={{ color: PALETTE[i % PALETTE.length] }} data-testid="legend">■ {l.label} </span>)}</div>
    </figure>
  );
}

function fmtValue(v: number) {
  return Number.isInteger(v) ? String(v) : Math.abs(v) >= 100 ? v.toFixed(1) : v.toPrecision(4);
}
