// Runs list and the live view of one run: node states on the workflow's canvas, steps with workers and logs,
// metric charts by family, checkpoint lineage, and links to the run's report and its checkpoints.
// Updates arrive by server-sent events; nothing here polls.
import { useEffect, useMemo, useState } from 'react';
import { Background, Controls, ReactFlow, ReactFlowProvider, type Edge, type Node } from '@xyflow/react';
import { api, type CheckpointView, type MetricPoint, type RunView, type StepView } from './api';
import { MetricCharts } from './Charts';
import { FitOnChange } from './FitOnChange';
import { layout, type Laid, type NodeData } from './layout';
import { Lineage } from './Lineage';
import { walk, type WorkflowDoc } from './model';
import { nodeTypes } from './nodes';
import { useFlowNodes } from './flow';

const FINISHED = new Set(['succeeded', 'failed', 'cancelled']);

export function RunsList({ onOpen }: { onOpen: (id: string) => void }) {
  const [runs, setRuns] = useState<RunView[]>([]);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api.runs().then(setRuns).catch((e: Error) => setError(e.message));
    // The list follows every run's changes through the server's run-list stream.
    const es = new EventSource('api/runs/events');
    es.addEventListener('runs', (e) => setRuns(JSON.parse((e as MessageEvent).data) as RunView[]));
    return () => es.close();
  }, []);
  const act = async (f: () => Promise<RunView>) => {
    try { const r = await f(); setRuns((rs) => rs.map((x) => (x.id === r.id ? r : x))); } catch (e) { setError((e as Error).message); }
  };
  return (
    <div className="runs" data-testid="runs-list">
      {error && <div className="banner error">{error}</div>}
      <table>
        <thead><tr><th>run</th><th>workflow</th><th>status</th><th>started</th><th>duration</th><th>steps</th><th /></tr></thead>
        <tbody>
          {runs.map((r) => (
            <tr key={r.id} data-testid={`run-row-${r.id}`}>
              <td><a href={`#/runs/${r.id}`} onClick={(e) => { e.preventDefault(); onOpen(r.id); }}>{r.id.slice(0, 8)}</a></td>
              <td>{r.workflow}</td>
              <td><span className={`state state-${r.state}`} data-testid="run-state">{r.state}</span></td>
              <td>{r.startedAt ? new Date(r.startedAt).toLocaleString() : '—'}</td>
              <td>{duration(r.startedAt, r.finishedAt)}</td>
              <td>{r.steps.filter((s) => s.state === 'done').length}/{r.steps.length}</td>
              <td>
                <button disabled={!['failed', 'cancelled', 'interrupted'].includes(r.state)} onClick={() => void act(() => api.resume(r.id))}>Resume</button>
                <button disabled={FINISHED.has(r.state)} onClick={() => void act(() => api.cancel(r.id))}>Cancel</button>
              </td>
            </tr>
          ))}
          {!runs.length && <tr><td colSpan={7} className="muted">No runs yet. Start one from the designer.</td></tr>}
        </tbody>
      </table>
    </div>
  );
}

export function RunMonitor({ id, onBack }: { id: string; onBack: () => void }) {
  const [run, setRun] = useState<RunView | null>(null);
  const [metrics, setMetrics] = useState<MetricPoint[]>([]);
  const [checkpoints, setCheckpoints] = useState<CheckpointView[]>([]);
  const [step, setStep] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [connected, setConnected] = useState(false);

  useEffect(() => {
    setRun(null);
    const es = new EventSource(`api/runs/${id}/events`);
    es.onopen = () => setConnected(true);
    es.addEventListener('run', (e) => setRun(JSON.parse((e as MessageEvent).data) as RunView));
    es.addEventListener('metrics', (e) => setMetrics(JSON.parse((e as MessageEvent).data) as MetricPoint[]));
    es.addEventListener('checkpoints', (e) => setCheckpoints(JSON.parse((e as MessageEvent).data) as CheckpointView[]));
    es.addEventListener('end', () => { es.close(); setConnected(false); });
    es.onerror = () => setConnected(false);
    return () => es.close();
  }, [id]);

  const doc = useMemo<WorkflowDoc | null>(() => {
    try { return run?.definitionJson ? (JSON.parse(run.definitionJson) as WorkflowDoc) : null; } catch { return null; }
  }, [run?.definitionJson]);

  const [laid, setLaid] = useState<Laid | null>(null);
  useEffect(() => {
    if (!doc) { setLaid(null); return; }
    let live = true;
    layout(doc).then((l) => { if (live) setLaid(l); }).catch((e: Error) => setError(`layout failed: ${e.message}`));
    return () => { live = false; };
  }, [doc]);
  const [report, setReport] = useState(false);
  useEffect(() => {
    let live = true;
    if (run?.state && ['succeeded', 'failed', 'cancelled', 'interrupted'].includes(run.state))
      api.report(id).then(() => { if (live) setReport(true); }).catch(() => { if (live) setReport(false); });
    return () => { live = false; };
  }, [id, run?.state]);

  const graph = useMemo(() => {
    if (!doc || !run || !laid) return null;
    const byNode = new Map<string, StepView[]>();
    for (const s of run.steps) byNode.set(s.nodeId, [...(byNode.get(s.nodeId) ?? []), s]);
    const nodes: Node<NodeData>[] = laid.nodes.map((n) => {
      const steps = byNode.get(n.id) ?? [];
      const { state, detail, progress } = summarize(steps, n.type === 'container', run.steps, n.id, doc);
      return { ...n, data: { ...n.data, state, detail, progress }, draggable: false };
    });
    return { nodes, edges: laid.edges };
  }, [doc, run, laid]);

  if (!run) return <div className="muted">loading run {id}…</div>;
  const selectedStep = run.steps.find((s) => s.path === step);
  return (
    <div className="monitor" data-testid="run-monitor" data-run-state={run.state}>
      <div className="toolbar">
        <button onClick={onBack}>← Runs</button>
        <span className="title">{run.workflow} · run {run.id.slice(0, 8)}</span>
        <span className={`state state-${run.state}`} data-testid="run-state">{run.state}</span>
        <span className="muted">{duration(run.startedAt, run.finishedAt)}</span>
        <span className={`live ${connected ? 'on' : ''}`}>{connected ? '● live' : '○'}</span>
        <span className="sep" />
        {report ? <a href={`#/runs/${run.id}/report`} data-testid="report-link">Report</a> : <span className="muted" data-testid="no-report">no report yet</span>}
        {outputCheckpoints(run).map(([name, ref]) => (
          <a key={name} href={`#/checkpoints/${ref}`} data-testid={`output-${name}`} title={ref}>{name}</a>
        ))}
        <span className="sep" />
        <button disabled={!['failed', 'cancelled', 'interrupted'].includes(run.state)} onClick={() => api.resume(run.id).then(setRun).catch((e: Error) => setError(e.message))}>Resume</button>
        <button disabled={FINISHED.has(run.state)} data-testid="cancel-run" onClick={() => api.cancel(run.id).then(setRun).catch((e: Error) => setError(e.message))}>Cancel</button>
      </div>
      {run.error && <div className="banner error">{run.error}</div>}
      {error && <div className="banner error">{error}</div>}
      <div className="monitor-grid">
        <div className="canvas small" data-testid="run-canvas">
          {graph && (
            <ReactFlowProvider>
              <RunGraph nodes={graph.nodes} edges={graph.edges} onPick={(id) => { const s = [...run.steps].reverse().find((x) => x.nodeId === id); if (s) setStep(s.path); }} />
            </ReactFlowProvider>
          )}
        </div>
        <div className="steps">
          <table data-testid="steps">
            <thead><tr><th>step</th><th>activity</th><th>state</th><th>attempt</th><th>worker</th><th>progress</th><th>time</th></tr></thead>
            <tbody>
              {run.steps.map((s) => (
                <tr key={s.path} className={s.path === step ? 'active' : ''} onClick={() => setStep(s.path)} data-testid={`step-${s.path}`}>
                  <td><code>{s.path}</code></td>
                  <td>{s.activityType}</td>
                  <td><span className={`state state-${s.state}`} data-testid="step-state">{s.state}{s.fromCache ? ' (cached)' : ''}</span></td>
                  <td>{s.attempt}</td>
                  <td data-testid="step-worker">{s.worker ?? '—'}</td>
                  <td>{s.progress != null ? `${Math.round(s.progress * 100)}%` : ''} <span className="muted">{s.message ?? ''}</span></td>
                  <td>{duration(s.startedAt, s.finishedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {selectedStep && (
            <div className="logs" data-testid="step-logs">
              <h4>{selectedStep.path} <span className="muted">attempt {selectedStep.attempt} on {selectedStep.worker ?? '—'}</span></h4>
              {selectedStep.error && <pre className="error">{selectedStep.error}</pre>}
              <pre>{selectedStep.logs.map((l) => `${l.at.slice(11, 19)} ${l.level.padEnd(5)} ${l.message}`).join('\n') || '(no log lines)'}</pre>
            </div>
          )}
        </div>
      </div>
      <h3>Metrics</h3>
      <MetricCharts points={metrics} />
      <h3>Checkpoint lineage</h3>
      <Lineage checkpoints={checkpoints} />
    </div>
  );
}

function RunGraph({ nodes, edges, onPick }: { nodes: Node<NodeData>[]; edges: Edge[]; onPick: (id: string) => void }) {
  const [flowNodes, onNodesChange] = useFlowNodes(nodes);
  return (
    <ReactFlow nodes={flowNodes} edges={edges} nodeTypes={nodeTypes} onNodesChange={onNodesChange} minZoom={0.1} nodesConnectable={false}
      onNodeClick={(_, n) => onPick(n.id)} proOptions={{ hideAttribution: true }}>
      <Background />
      <Controls showInteractive={false} />
      <FitOnChange structure={nodes.map((n) => n.id).join(',')} />
    </ReactFlow>
  );
}

/** The run's outputs that are artifacts (final model, reward model, report JSON), as links to the checkpoint page. */
function outputCheckpoints(run: RunView): [string, string][] {
  const outputs = run.outputs && typeof run.outputs === 'object' ? run.outputs as Record<string, unknown> : {};
  return Object.entries(outputs).filter((e): e is [string, string] => typeof e[1] === 'string' && e[1].startsWith('sha256:'));
}

/** A node's state from its steps: a container summarises the steps inside it, an activity shows its latest step. */
function summarize(steps: StepView[], container: boolean, all: StepView[], nodeId: string, doc: WorkflowDoc) {
  if (container) {
    const inner = new Set<string>();
    const mark = (ids: string[]) => ids.forEach((i) => inner.add(i));
    for (const l of walk(doc)) if (l.ancestors.some((a) => a.id === nodeId)) mark([l.node.id]);
    const mine = all.filter((s) => inner.has(s.nodeId));
    const rounds = new Set(mine.map((s) => s.round).filter((r) => r !== null));
    return { state: aggregate([...steps, ...mine]), detail: rounds.size ? `${rounds.size} round(s)` : undefined, progress: null };
  }
  if (!steps.length) return { state: 'pending', detail: undefined, progress: null };
  const last = steps[steps.length - 1];
  const done = steps.filter((s) => s.state === 'done').length;
  return {
    state: steps.length > 1 && last.state === 'pending' ? 'pending' : last.state,
    detail: [steps.length > 1 ? `${done}/${steps.length} done` : '', last.worker ? `on ${last.worker}` : '', last.attempt > 1 ? `attempt ${last.attempt}` : ''].filter(Boolean).join(' · ') || undefined,
    progress: last.progress,
  };
}

function aggregate(steps: StepView[]): string {
  if (!steps.length) return 'pending';
  const states = new Set(steps.map((s) => s.state));
  for (const s of ['failed', 'retrying', 'running', 'dispatched', 'cancelled']) if (states.has(s)) return s;
  return states.size === 1 && states.has('done') ? 'done' : 'pending';
}

function duration(from: string | null, to: string | null): string {
  if (!from) return '';
  const ms = (to ? Date.parse(to) : Date.now()) - Date.parse(from);
  if (ms < 1000) return `${ms} ms`;
  const s = Math.round(ms / 1000);
  return s < 120 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}
