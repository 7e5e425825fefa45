// Per-round metric charts as inline SVG: one chart per metric, one line per step that reported it
// (e.g. one per DPO variant), the last value each step reported in each round.
import type { MetricPoint } from './api';

const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#be185d', '#4d7c0f'];

// What a Llama 3 style round is judged by comes first, in this order (metric names start with their stage);
// anything else follows by name.
const PREFERRED = ['rm', 'reject', 'sft', 'dpo', 'select/dpo', 'select/win_rate', 'eval', 'select', 'win_rate', 'heldout'];

export function MetricCharts({ points }: { points: MetricPoint[] }) {
  const perRound = points.filter((p) => p.round !== null);
  const once = points.filter((p) => p.round === null);
  const names = [...new Set(perRound.map((p) => p.name))].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  if (!points.length) return <div className="muted" data-testid="no-metrics">No metrics recorded yet.</div>;
  return (
    <>
      <div className="charts" data-testid="charts">
        {names.map((n) => <Chart key={n} name={n} points={perRound.filter((p) => p.name === n)} />)}
      </div>
      {once.length > 0 && (
        <details className="once" data-testid="run-metrics">
          <summary>{once.length} metric(s) outside the rounds</summary>
          <table>
            <thead><tr><th>step</th><th>metric</th><th>value</th></tr></thead>
            <tbody>{once.map((p, i) => <tr key={i}><td><code>{p.stepPath}</code></td><td>{p.name}</td><td>{fmtValue(p.value)}</td></tr>)}</tbody>
          </table>
        </details>
      )}
    </>
  );
}

function fmtValue(v: number) {
  return Number.isInteger(v) ? String(v) : Math.abs(v) >= 100 ? v.toFixed(1) : v.toPrecision(4);
}

function rank(name: string) {
  let best = PREFERRED.length;
  PREFERRED.forEach((p, i) => { if ((name === p || name.startsWith(`${p}/`) || name.startsWith(`${p}_`)) && i < best) best = i; });
  // "select/dpo/..." must rank with its own entry, which is more specific than "select".
  const specific = PREFERRED.findIndex((p) => name.startsWith(`${p}/`) && p.includes('/'));
  return specific >= 0 ? specific : best;
}

function Chart({ name, points }: { name: string; points: MetricPoint[] }) {
  const perRound = points.some((p) => p.round !== null);
  // x = round when the metric is per round, else the training step.
  // One line per step across rounds: drop the round's index from the step path ("rounds[2]/dpo[1]/train" → "rounds/dpo[1]/train").
  const seriesKey = (p: MetricPoint) => (perRound ? p.stepPath.replace(/\[\d+\]/, '') : p.stepPath);
  const series = new Map<string, Map<number, number>>();
  for (const p of points) {
    const x = perRound ? p.round ?? 0 : p.step ?? 0;
    const key = seriesKey(p) || p.nodeId;
    const m = series.get(key) ?? new Map<number, number>();
    m.set(x, p.value); // the last value reported for that x wins
    series.set(key, m);
  }
  const all = [...series.values()].flatMap((m) => [...m.entries()]);
  const xs = all.map(([x]) => x);
  const ys = all.map(([, y]) => y);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (y0 === y1) { y0 -= 0.5; y1 += 0.5; }
  const W = 300, H = 150, L = 42, R = 8, T = 10, B = 24;
  const sx = (x: number) => L + (x1 === x0 ? (W - L - R) / 2 : ((x - x0) / (x1 - x0)) * (W - L - R));
  const sy = (y: number) => T + (1 - (y - y0) / (y1 - y0)) * (H - T - B);
  const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toFixed(3));
  return (
    <figure className="chart" data-testid={`chart-${name}`}>
      <figcaption>{name} <span className="muted">by {perRound ? 'round' : 'step'}</span></figcaption>
      <svg width={W} height={H} viewBox={`0 0 ${W} ${H}`} role="img" aria-label={name}>
        <line x1={L} y1={H - B} x2={W - R} y2={H - B} stroke="#999" />
        <line x1={L} y1={T} x2={L} y2={H - B} stroke="#999" />
        <text x={L - 4} y={T + 8} textAnchor="end" fontSize="10">{fmt(y1)}</text>
        <text x={L - 4} y={H - B} textAnchor="end" fontSize="10">{fmt(y0)}</text>
        <text x={L} y={H - 8} fontSize="10">{x0}</text>
        <text x={W - R} y={H - 8} fontSize="10" textAnchor="end">{x1}</text>
        {[...series.entries()].map(([key, m], i) => {
          const pts = [...m.entries()].sort(([a], [b]) => a - b);
          const color = PALETTE[i % PALETTE.length];
          return (
            <g key={key}>
              <polyline fill="none" stroke={color} strokeWidth={2} points={pts.map(([x, y]) => `${sx(x)},${sy(y)}`).join(' ')} />
              {pts.map(([x, y]) => <circle key={x} cx={sx(x)} cy={sy(y)} r={3} fill={color}><title>{`${key} @${x}: ${y}`}</title></circle>)}
            </g>
          );
        })}
      </svg>
      {series.size > 1 && (
        <div className="legend">{[...series.keys()].map((k, i) => <span key={k} style={{ color: PALETTE[i % PALETTE.length] }}>■ {k} </span>)}</div>
      )}
    </figure>
  );
}
