// React Flow in controlled mode measures nodes and reports the sizes as changes; a node is shown only once its
// measured size is applied. This hook keeps the canvas's nodes: derived ones from the document, with the measured
// sizes (and any other change React Flow reports) carried over.
import { applyNodeChanges, type Node, type NodeChange } from '@xyflow/react';
import { useCallback, useEffect, useState } from 'react';

export function useFlowNodes<T extends Record<string, unknown>>(derived: Node<T>[]) {
  const [nodes, setNodes] = useState<Node<T>[]>(derived);
  useEffect(() => {
    setNodes((prev) => {
      const before = new Map(prev.map((n) => [n.id, n]));
      return derived.map((n) => {
        const p = before.get(n.id);
        return p?.measured ? { ...n, measured: p.measured } : n;
      });
    });
  }, [derived]);
  const onNodesChange = useCallback((changes: NodeChange<Node<T>>[]) => setNodes((ns) => applyNodeChanges(changes, ns)), []);
  return [nodes, onNodesChange] as const;
}
