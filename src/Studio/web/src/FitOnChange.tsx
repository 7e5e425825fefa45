// Fits a canvas to its nodes once they are measured, and again whenever the set of nodes changes (a run's graph
// arrives by a stream, after the first render). Without it a graph wider than the canvas starts clipped.
import { useEffect, useRef } from 'react';
import { useNodesInitialized, useReactFlow } from '@xyflow/react';

export function FitOnChange({ structure, padding = 0.06 }: { structure: string; padding?: number }) {
  const flow = useReactFlow();
  const initialized = useNodesInitialized();
  const fitted = useRef('');
  useEffect(() => {
    if (!initialized || !structure || fitted.current === structure) return;
    fitted.current = structure;
    void flow.fitView({ maxZoom: 1, padding });
  }, [initialized, structure, flow, padding]);
  return null;
}
