// Calls to the studio's /api. Every error carries the server's reason so the UI can show it as is.
import type { ActivityDescriptor, Problem, WorkflowDoc } from './model';

export interface WorkflowSummary {
  name: string;
  id: string;
  description: string;
  version: number;
  valid: boolean;
  problems: number;
  etag: string;
  modified: string;
}

export interface StepView {
  path: string;
  nodeId: string;
  activityType: string;
  state: string;
  attempt: number;
  worker: string | null;
  progress: number | null;
  message: string | null;
  round: number | null;
  startedAt: string | null;
  finishedAt: string | null;
  error: string | null;
  fromCache: boolean;
  logs: { at: string; level: string; message: string }[];
}

export interface RunView {
  id: string;
  workflow: string;
  state: string;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  error: string | null;
  parameters: Record<string, unknown>;
  outputs: Record<string, unknown> | null;
  definitionJson: string;
  steps: StepView[];
}

export interface MetricPoint {
  stepPath: string;
  nodeId: string;
  round: number | null;
  name: string;
  value: number;
  step: number | null;
}

export interface CheckpointView {
  artifact: string;
  kind: string;
  runId: string | null;
  stepPath: string | null;
  round: number | null;
  sampler: string | null;
  parent: string | null;
  rewardModel: string | null;
  name: string | null;
  selected: boolean;
  createdAt: string | null;
}

export interface RunReport {
  runId: string;
  path: string;
  markdown: string;
  files: string[];
}

export interface ArtifactView {
  artifact: string;
  path: string;
  isDirectory: boolean;
  files: { name: string; bytes: number }[];
  config: Record<string, unknown> | null;
  metadata: Record<string, unknown> | null;
  lineage: CheckpointView[];
  exportCommand: string;
}

export class ApiError extends Error {
  constructor(
    public status: number,
    message: string,
    public problems: Problem[] = [],
    public body: unknown = null,
  ) {
    super(message);
  }
}

async function call<T>(method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ data: T; etag: string | null }> {
  const init: RequestInit = { method, headers: { ...headers }, credentials: 'same-origin' };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)['Content-Type'] = 'application/json';
  }
  const res = await fetch(url, init);
  const text = await res.text();
  let data: unknown = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = text; }
  if (!res.ok) {
    const d = data as { title?: string; detail?: string; error?: string; problems?: Problem[] } | null;
    const message = d?.error ?? d?.detail ?? d?.title ?? `${res.status} ${res.statusText}`;
    throw new ApiError(res.status, message, d?.problems ?? [], data);
  }
  return { data: data as T, etag: res.headers.get('ETag') };
}

export const api = {
  workflows: () => call<WorkflowSummary[]>('GET', 'api/workflows').then((r) => r.data),
  workflow: async (name: string) => {
    const r = await call<WorkflowDoc>('GET', `api/workflows/${encodeURIComponent(name)}`);
    return { doc: r.data, etag: r.etag };
  },
  save: async (name: string, doc: WorkflowDoc, etag: string | null) => {
    const headers: Record<string, string> = etag ? { 'If-Match': etag } : { 'If-None-Match': '*' };
    const r = await call<{ name: string; etag: string; problems: Problem[] }>('PUT', `api/workflows/${encodeURIComponent(name)}`, doc, headers);
    return r.data;
  },
  rename: (name: string, to: string, etag: string | null) =>
    call<{ name: string; etag: string }>('POST', `api/workflows/${encodeURIComponent(name)}/rename`, { to }, etag ? { 'If-Match': etag } : {}).then((r) => r.data),
  remove: (name: string, etag: string | null) =>
    call<null>('DELETE', `api/workflows/${encodeURIComponent(name)}`, undefined, etag ? { 'If-Match': etag } : {}),
  validate: (doc: WorkflowDoc | string) =>
    call<{ valid: boolean; problems: Problem[] }>('POST', 'api/validate', typeof doc === 'string' ? doc : JSON.stringify(doc)).then((r) => r.data),
  activities: () => call<ActivityDescriptor[]>('GET', 'api/activities').then((r) => r.data),
  runs: () => call<RunView[]>('GET', 'api/runs').then((r) => r.data),
  run: (id: string) => call<RunView>('GET', `api/runs/${id}`).then((r) => r.data),
  startRun: (workflow: string, parameters: Record<string, unknown>) =>
    call<RunView>('POST', 'api/runs', { workflow, parameters }).then((r) => r.data),
  resume: (id: string) => call<RunView>('POST', `api/runs/${id}/resume`).then((r) => r.data),
  cancel: (id: string) => call<RunView>('POST', `api/runs/${id}/cancel`).then((r) => r.data),
  metrics: (id: string) => call<MetricPoint[]>('GET', `api/runs/${id}/metrics`).then((r) => r.data),
  report: (id: string) => call<RunReport>('GET', `api/runs/${id}/report`).then((r) => r.data),
  artifact: (ref: string) => call<ArtifactView>('GET', `api/artifacts/${encodeURIComponent(ref)}`).then((r) => r.data),
  checkpoints: (runId?: string) =>
    call<CheckpointView[]>('GET', runId ? `api/checkpoints?run=${runId}` : 'api/checkpoints').then((r) => r.data),
};
