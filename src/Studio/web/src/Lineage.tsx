// Checkpoint lineage as a clean chain: one node per checkpoint, one edge from its parent (what it was trained or
// averaged from), laid out left to right by ELK. Samplers and reward models are in the table, not drawn: every
// checkpoint of a round shares them, and drawing them turned the chain into a tangle.
import { useEffect, useMemo, useState } from 'react';
import ELK from 'elkjs/lib/elk.bundled.js';
import { Position, ReactFlow, ReactFlowProvider, type Edge, type Node } from '@xyflow/react';
import type { CheckpointView } from './api';
import { useFlowNodes } from './flow';
import { FitOnChange } from './FitOnChange';

const W = 200, H = 56;
const elk = new ELK();

/**
 * The chain's edges: each checkpoint's parent, one per checkpoint, never itself, never a cycle. A checkpoint
 * registered again by a later step (a selection marks the DPO checkpoint it picked) appears once. Homes written
 * before the engine merged such registrations lost the picked checkpoint's parent; it is then the checkpoint of
 * the same run and round that was trained directly from its sampler (the round's SFT model).
 */
export function lineageOf(checkpoints: CheckpointView[]): { nodes: CheckpointView[]; parent: Map<string, string> } {
  const byId = new Map<string, CheckpointView>();
  for (const c of checkpoints) {
    const seen = byId.get(c.artifact);
    byId.set(c.artifact, seen ? { ...seen, selected: seen.selected || c.selected, parent: seen.parent ?? c.parent, sampler: seen.sampler ?? c.sampler } : c);
  }
  const nodes = [...byId.values()];
  const parent = new Map<string, string>();
  for (const c of nodes) {
    let p = c.parent && c.parent !== c.artifact && byId.has(c.parent) ? c.parent : null;
    if (!p && c.sampler && byId.has(c.sampler))
      p = nodes.find((x) => x.artifact !== c.artifact && x.runId === c.runId && x.round === c.round && x.parent === c.sampler && x.sampler === c.sampler)?.artifact
        ?? (c.sampler !== c.artifact ? c.sampler : null);
    if (p) parent.set(c.artifact, p);
  }
  // Break any cycle the records might form: walk up from each node, dropping the edge that closes a loop.
  for (const c of nodes) {
    const seen = new Set([c.artifact]);
    for (let cur = parent.get(c.artifact); cur; cur = parent.get(cur)) {
      if (seen.has(cur)) { parent.delete(c.artifact); break; }
      seen.add(cur);
    }
  }
  return { nodes, parent };
}

export function Lineage({ checkpoints }: { checkpoints: CheckpointView[] }) {
  const chain = useMemo(() => lineageOf(checkpoints), [checkpoints]);
  const [graph, setGraph] = useState<{ nodes: Node[]; edges: Edge[] }>({ nodes: [], edges: [] });
  useEffect(() => {
    let live = true;
    const edges = [...chain.parent.entries()].map(([child, p]) => ({ id: `parent:${p}->${child}`, source: p, target: child }));
    elk.layout({
      id: '$root',
      layoutOptions: { 'elk.algorithm': 'layered', 'elk.direction': 'RIGHT', 'elk.spacing.nodeNode': '14', 'elk.layered.spacing.nodeNodeBetweenLayers': '40' },
      children: chain.nodes.map((c) => ({ id: c.artifact, width: W, height: H })),
      edges: edges.map((e) => ({ id: e.id, sources: [e.source], targets: [e.target] })),
    }).then((laid) => {
      if (!live) return;
      const at = new Map((laid.children ?? []).map((n) => [n.id, { x: n.x ?? 0, y: n.y ?? 0 }]));
      setGraph({
        nodes: chain.nodes.map((c) => ({
          id: c.artifact,
          position: at.get(c.artifact) ?? { x: 0, y: 0 },
          // Left to right like the layout: with React Flow's default top/bottom handles every edge curled into a loop.
          sourcePosition: Position.Right,
          targetPosition: Position.Left,
          data: { label: `${c.kind}${c.round !== null ? ` · round ${c.round + 1}` : ''}${c.selected ? ' ★' : ''}\n${c.name ?? c.artifact.slice(7, 19)}` },
          className: `ckpt ${c.selected ? 'selected-ckpt' : ''}`,
          style: { width: W, height: H, whiteSpace: 'pre-line', fontSize: 11 },
          width: W,
          height: H,
        })),
        edges: edges.map((e) => ({ ...e, className: 'edge-parent' })),
      });
    }).catch(() => { /* an empty graph; the table below still lists every checkpoint */ });
    return () => { live = false; };
  }, [chain]);
  if (!checkpoints.length) return <div className="muted" data-testid="no-checkpoints">No checkpoints registered yet.</div>;
  return (
    <div className="lineage" data-testid="lineage">
      <div className="canvas small" data-testid="lineage-canvas">
        <ReactFlowProvider>
          <LineageGraph nodes={graph.nodes} edges={graph.edges} />
        </ReactFlowProvider>
      </div>
      <table>
        <thead><tr><th>round</th><th>kind</th><th>checkpoint</th><th>parent</th><th>sampler</th><th>RM</th><th>selected</th></tr></thead>
        <tbody>
          {chain.nodes.map((c) => (
            <tr key={c.artifact}>
              <td>{c.round !== null ? c.round + 1 : '—'}</td><td>{c.kind}</td>
              <td title={c.artifact}><a href={`#/checkpoints/${c.artifact}`} data-testid={`checkpoint-link-${c.artifact.slice(7, 19)}`}><code>{c.name ?? c.artifact.slice(0, 19)}</code></a></td>
              <td><code>{chain.parent.get(c.artifact)?.slice(7, 19) ?? '—'}</code></td>
              <td><code>{c.sampler?.slice(7, 19) ?? '—'}</code></td><td><code>{c.rewardModel?.slice(7, 19) ?? '—'}</code></td><td>{c.selected ? '★' : ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function LineageGraph({ nodes, edges }: { nodes: Node[]; edges: Edge[] }) {
  const [flowNodes, onNodesChange] = useFlowNodes(nodes);
  return (
    <ReactFlow nodes={flowNodes} edges={edges} onNodesChange={onNodesChange} nodesDraggable={false} nodesConnectable={false} minZoom={0.1} proOptions={{ hideAttribution: true }}
      onNodeClick={(_, n) => { location.hash = `#/checkpoints/${n.id}`; }}>
      <FitOnChange structure={nodes.map((n) => n.id).join(',')} />
    </ReactFlow>
  );
}
