// Canvas node renderers: an activity card and a container group whose body sits inside it.
import { Handle, Position, type Node, type NodeProps } from '@xyflow/react';
import type { NodeData } from './layout';
import { REPEAT } from './model';

function StateBadge({ state, progress }: { state?: string; progress?: number | null }) {
  if (!state) return null;
  const pct = progress != null && state === 'running' ? ` ${Math.round(progress * 100)}%` : '';
  return <span className={`state state-${state}`} data-testid="node-state">{state}{pct}</span>;
}

export function ActivityNodeView({ data, selected }: NodeProps<Node<NodeData>>) {
  const n = data.doc;
  const bad = data.problems.length > 0;
  return (
    <div
      className={`wf-node activity ${bad ? 'invalid' : ''} ${selected ? 'selected' : ''} ${data.state ? `run-${data.state}` : ''}`}
      data-testid={`node-${n.id}`}
      data-state={data.state ?? ''}
      title={bad ? data.problems.join('\n') : n.description ?? n.type}
    >
      <Handle type="target" position={data.vertical ? Position.Top : Position.Left} />
      <div className="wf-node-title">
        <span className="wf-node-id">{n.id}</span>
        {bad && <span className="problem-count" data-testid={`problems-${n.id}`}>{data.problems.length}</span>}
      </div>
      <div className="wf-node-type">
        {n.type}{data.category ? <span className="muted"> · {data.category}</span> : null}
        {n.pool ? <span className="muted"> · {n.pool}</span> : null}
      </div>
      <StateBadge state={data.state} progress={data.progress} />
      {data.state === 'running' && data.progress != null && (
        <div className="progress"><div style={{ width: `${Math.round(data.progress * 100)}%` }} /></div>
      )}
      {data.detail && <div className="wf-node-detail">{data.detail}</div>}
      <Handle type="source" position={data.vertical ? Position.Bottom : Position.Right} />
    </div>
  );
}

export function ContainerNodeView({ data, selected }: NodeProps<Node<NodeData>>) {
  const n = data.doc;
  const bad = data.problems.length > 0;
  const what = n.type === REPEAT ? `repeat × ${describe(n.count)}` : `forEach over ${describe(n.items)}`;
  return (
    <div
      className={`wf-node container ${bad ? 'invalid' : ''} ${selected ? 'selected' : ''} ${data.state ? `run-${data.state}` : ''}`}
      data-testid={`node-${n.id}`}
      data-state={data.state ?? ''}
      data-container="true"
      title={bad ? data.problems.join('\n') : n.type}
    >
      <Handle type="target" position={data.vertical ? Position.Top : Position.Left} />
      <div className="wf-node-title">
        <span className="wf-node-id">{n.id}</span>
        <span className="muted"> {what}</span>
        {bad && <span className="problem-count" data-testid={`problems-${n.id}`}>{data.problems.length}</span>}
        <StateBadge state={data.state} />
        {data.detail && <span className="muted"> {data.detail}</span>}
      </div>
      <Handle type="source" position={data.vertical ? Position.Bottom : Position.Right} />
    </div>
  );
}

function describe(v: unknown): string {
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    if (typeof o.param === 'string') return `param ${o.param}`;
    if (typeof o.from === 'string') return o.from;
    if (typeof o.var === 'string') return `var ${o.var}`;
  }
  if (Array.isArray(v)) return `${v.length} items`;
  return v === undefined ? '?' : JSON.stringify(v);
}

export const nodeTypes = { activity: ActivityNodeView, container: ContainerNodeView };
