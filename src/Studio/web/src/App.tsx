// The studio shell: designer and run monitor, addressed by the URL hash
// (#/designer/NAME, #/runs, #/runs/ID, #/runs/ID/report, #/checkpoints/sha256:...).
import { useEffect, useState } from 'react';
import { api } from './api';
import { Designer } from './Designer';
import type { ActivityDescriptor } from './model';
import { CheckpointPage, ReportPage } from './Pages';
import { RunMonitor, RunsList } from './RunMonitor';

type Route = { page: 'designer'; name: string | null } | { page: 'runs' } | { page: 'run'; id: string } | { page: 'report'; id: string } | { page: 'checkpoint'; reference: string };

function parse(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  if (parts[0] === 'runs' && parts[1] && parts[2] === 'report') return { page: 'report', id: parts[1] };
  if (parts[0] === 'runs' && parts[1]) return { page: 'run', id: parts[1] };
  if (parts[0] === 'checkpoints' && parts[1]) return { page: 'checkpoint', reference: parts[1] };
  if (parts[0] === 'runs') return { page: 'runs' };
  return { page: 'designer', name: parts[0] === 'designer' && parts[1] ? parts[1] : null };
}

export function App() {
  const [route, setRoute] = useState<Route>(() => parse(location.hash));
  const [descriptors, setDescriptors] = useState<ActivityDescriptor[]>([]);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const on = () => setRoute(parse(location.hash));
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  useEffect(() => { api.activities().then(setDescriptors).catch((e: Error) => setError(e.message)); }, []);
  const go = (hash: string) => { location.hash = hash; };
  return (
    <div className="app">
      <header>
        <span className="brand">PostTrain Studio</span>
        <nav>
          <a href="#/designer" className={route.page === 'designer' ? 'active' : ''} data-testid="nav-designer">Designer</a>
          <a href="#/runs" className={route.page !== 'designer' ? 'active' : ''} data-testid="nav-runs">Runs</a>
          <a href="openapi" target="_blank" rel="noreferrer">API</a>
        </nav>
        {error && <span className="error">{error}</span>}
      </header>
      <div className="page" style={{ display: route.page === 'designer' ? 'contents' : 'none' }}>
        <Designer descriptors={descriptors} initial={route.page === 'designer' ? route.name : null} onRunStarted={(id) => go(`#/runs/${id}`)} />
      </div>
      {route.page === 'runs' && <RunsList onOpen={(id) => go(`#/runs/${id}`)} />}
      {route.page === 'run' && <RunMonitor id={route.id} onBack={() => go('#/runs')} />}
      {route.page === 'report' && <ReportPage id={route.id} />}
      {route.page === 'checkpoint' && <CheckpointPage reference={route.reference} />}
    </div>
  );
}
