import { useState } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, del, get, patch, post } from "../api/client";
import type { ExecutionOut, ExecutionStarted, Page, StepConfig, StepType, Trigger, WorkflowOut, WorkflowPatch, WorkflowStep } from "../api/types";
import { fetchBases } from "../api/airtable";
import { Empty, ErrorMessage, PageHeader, QueryView, SelectField, StatusBadge, TextArea, describeError, TextField, formatDate, itemsOf } from "../components/ui";
import { useWorkspaceId } from "../components/workspace";
import { Timeline } from "./Sagas";
import { ConfirmButton, useConfirm } from "../components/ConfirmDialog";
import { BaseSelect } from "../components/baseTable";
import { DetailPage } from "../components/DetailPage";

// The step palette: each type with a starting config that follows API.md.
const PALETTE: StepConfig = {
  "airtable.list_records": { base_id: "", table: "", max_records: 100 },
  "airtable.create_records": { base_id: "", table: "", records: "{{ steps.transform.records }}", typecast: true },
  "airtable.update_records": { base_id: "", table: "", records: [] },
  "airtable.upsert_records": { base_id: "", table: "", records: [], merge_on: ["Name"] },
  "airtable.delete_records": { base_id: "", table: "", ids: [] },
  transform: { items: "{{ steps.list.records }}", fields: { Name: "{{ item.fields.Name }}" } },
  condition: { left: "{{ input.amount }}", op: "gt", right: 0 },
  notify: { title: "Workflow finished", body: "{{ input }}" },
  http_request: { method: "POST", url: "https://example.com/hook", body: {} },
  delay: { seconds: 5 },
  "files.export": { base_id: "", table: "", format: "csv" },
  "files.import": { file_id: "", base_id: "", table: "" },
};

const TEMPLATES: { name: string; steps: WorkflowStep[] }[] = [
  {
    name: "Copy records between tables",
    steps: [
      { id: "list", type: "airtable.list_records", config: { base_id: "", table: "Contacts", max_records: 100 } },
      { id: "transform", type: "transform", config: { items: "{{ steps.list.records }}", fields: { Name: "{{ item.fields.Name }}" } } },
      { id: "create", type: "airtable.create_records", config: { base_id: "", table: "Deals", records: "{{ steps.transform.records }}", typecast: true } },
    ],
  },
  { name: "Notify me", steps: [{ id: "notify", type: "notify", config: { title: "Workflow says hello", body: "Hello {{ input.name }}" } }] },
];

const ACTIVE = new Set(["running"]);

export function WorkflowsPage() {
  const workspaceId = useWorkspaceId();
  const workflows = useQuery({ queryKey: ["workflows", workspaceId], queryFn: () => get<Page<WorkflowOut>>("/api/workflows", { workspace_id: workspaceId }) });
  return (
    <>
      <PageHeader title="Workflows" description="Automations triggered by hand, on a schedule, by a webhook, a file upload or an Airtable change." />
      {/* Filtered by a workspace, the list's 404 may be that workspace's, not a missing route. */}
      <QueryView query={workflows} feature={workspaceId ? undefined : "Workflows"}>
        {(data) => (
          <>
            <section className="card">
              <h2>Your workflows</h2>
              {itemsOf(data).length === 0 ? (
                <Empty title="No workflows yet. Build one below." />
              ) : (
                <ul className="list cards">
                  {itemsOf(data).map((w) => (
                    <li key={w.id}>
                      <span>
                        <Link to={`/workflows/${w.id}`}>{w.name}</Link> <span className="muted small">{w.trigger.type} · {w.steps.length} steps</span>
                      </span>
                      <StatusBadge status={w.enabled === false ? "disabled" : "enabled"} />
                    </li>
                  ))}
                </ul>
              )}
            </section>
            <Builder />
          </>
        )}
      </QueryView>
    </>
  );
}

function Builder({ existing }: { existing?: WorkflowOut }) {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const workspaceId = useWorkspaceId();
  const [name, setName] = useState(existing?.name ?? "");
  const [description, setDescription] = useState(existing?.description ?? "");
  const [triggerType, setTriggerType] = useState(existing?.trigger.type ?? "manual");
  const [schedule, setSchedule] = useState(existing?.trigger.schedule ?? "rate(1 hour)");
  const [steps, setSteps] = useState<{ id: string; type: string; config: string; on_error: string }[]>(
    (existing?.steps ?? []).map((s) => ({ id: s.id, type: s.type, config: JSON.stringify(s.config, null, 2), on_error: s.on_error ?? "fail" })),
  );
  const [paletteType, setPaletteType] = useState<StepType>("airtable.list_records");
  const [localError, setLocalError] = useState<string | null>(null);
  // Airtable steps left without a base (as the templates come) take the one chosen here.
  const needsBase = steps.some((s) => /"base_id":\s*""/.test(s.config));
  const [baseId, setBaseId] = useState("");
  const bases = useQuery({ queryKey: ["bases"], queryFn: fetchBases, enabled: needsBase });
  const add = (type: StepType, config: StepConfig[StepType], id?: string) =>
    setSteps((current) => [...current, { id: id ?? `${type.split(".").pop()}${current.length + 1}`, type, config: JSON.stringify(config, null, 2), on_error: "fail" }]);
  const save = useMutation({
    mutationFn: () => {
      setLocalError(null);
      const parsed = steps.map((s, i) => {
        try {
          const config = JSON.parse(s.config);
          if (config && config.base_id === "" && baseId) config.base_id = baseId;
          return { id: s.id, type: s.type, config, on_error: s.on_error };
        } catch {
          const message = `Step ${i + 1} (${s.id}): the config is not valid JSON.`;
          setLocalError(message);
          throw new Error(message);
        }
      });
      const body = { name: name.trim(), description: description.trim() || undefined, trigger: { type: triggerType, ...(triggerType === "schedule" ? { schedule } : {}) }, steps: parsed, workspace_id: existing ? undefined : workspaceId ?? undefined };
      return existing ? api<WorkflowOut>("PUT", `/api/workflows/${existing.id}`, { body }) : post<WorkflowOut>("/api/workflows", body);
    },
    onSuccess: (saved) => {
      void queryClient.invalidateQueries({ queryKey: ["workflows"] });
      void queryClient.invalidateQueries({ queryKey: ["workflow", saved.id] });
      if (!existing) navigate(`/workflows/${saved.id}`);
    },
  });
  return (
    <section className="card" aria-labelledby="builder-heading">
      <h2 id="builder-heading">{existing ? "Edit workflow" : "Build a workflow"}</h2>
      {!existing && (
        <div className="inline-form">
          <span className="muted">Start from a template:</span>
          {TEMPLATES.map((t) => (
            <button key={t.name} type="button" className="button secondary small" onClick={() => { setName(name || t.name); setSteps(t.steps.map((s) => ({ id: s.id, type: s.type, config: JSON.stringify(s.config, null, 2), on_error: "fail" }))); }}>
              {t.name}
            </button>
          ))}
        </div>
      )}
      <div className="field-row">
        <TextField label="Name" required value={name} onChange={(e) => setName(e.target.value)} />
        <TextField label="Description" value={description} onChange={(e) => setDescription(e.target.value)} />
      </div>
      <div className="field-row">
        <SelectField label="Trigger" value={triggerType} onChange={(e) => setTriggerType(e.target.value as Trigger["type"])}>
          <option value="manual">manual</option>
          <option value="schedule">schedule</option>
          <option value="webhook">webhook</option>
          <option value="file_upload">file upload</option>
          <option value="airtable_change">Airtable change</option>
        </SelectField>
        {triggerType === "schedule" && <TextField label="Schedule" value={schedule} onChange={(e) => setSchedule(e.target.value)} hint="cron(...) or rate(...)" />}
      </div>
      {needsBase && (
        <BaseSelect label="Base for the Airtable steps" bases={itemsOf(bases.data)} value={baseId} onChange={(e) => setBaseId(e.target.value)} />
      )}
      <h3>Steps</h3>
      {steps.length === 0 && <Empty title="No steps yet: add one from the palette." />}
      <ol className="operations">
        {steps.map((step, i) => (
          <li key={i} className="operation">
            <div className="field-row">
              <TextField label={`Step ${i + 1} id`} value={step.id} onChange={(e) => setSteps(steps.map((s, j) => (j === i ? { ...s, id: e.target.value } : s)))} />
              <div className="field">
                <span className="label">Type</span>
                <code>{step.type}</code>
              </div>
              <SelectField label={`Step ${i + 1} on error`} value={step.on_error} onChange={(e) => setSteps(steps.map((s, j) => (j === i ? { ...s, on_error: e.target.value } : s)))}>
                <option value="fail">fail</option>
                <option value="continue">continue</option>
              </SelectField>
            </div>
            <TextArea label={`Step ${i + 1} config (JSON)`} className="mono" rows={4} value={step.config} onChange={(e) => setSteps(steps.map((s, j) => (j === i ? { ...s, config: e.target.value } : s)))} />
            <div className="inline-form">
              <button type="button" className="button link small" disabled={i === 0} onClick={() => setSteps(swap(steps, i, i - 1))}>
                Move up
              </button>
              <button type="button" className="button link small" disabled={i === steps.length - 1} onClick={() => setSteps(swap(steps, i, i + 1))}>
                Move down
              </button>
              <button type="button" className="button link small" onClick={() => setSteps(steps.filter((_, j) => j !== i))}>
                Remove step {i + 1}
              </button>
            </div>
          </li>
        ))}
      </ol>
      <div className="inline-form">
        <SelectField label="Step palette" value={paletteType} onChange={(e) => setPaletteType(e.target.value as StepType)}>
          {Object.keys(PALETTE).map((t) => (
            <option key={t} value={t}>
              {t}
            </option>
          ))}
        </SelectField>
        <button type="button" className="button secondary" onClick={() => add(paletteType, PALETTE[paletteType])}>
          Add step
        </button>
      </div>
      {localError && <p role="alert" className="field-error">{localError}</p>}
      {save.isError && !localError && <ErrorMessage error={save.error} />}
      {save.isSuccess && existing && <p role="status" className="notice success">Saved.</p>}
      <div className="form-actions">
        <button type="button" className="button primary" onClick={() => save.mutate()} disabled={save.isPending || !name.trim() || (needsBase && !baseId)}>
          {existing ? "Save workflow" : "Create workflow"}
        </button>
      </div>
    </section>
  );
}

function swap<T>(list: T[], a: number, b: number): T[] {
  const copy = [...list];
  [copy[a], copy[b]] = [copy[b], copy[a]];
  return copy;
}

export function WorkflowPage() {
  const { workflowId = "" } = useParams();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const workflow = useQuery({ queryKey: ["workflow", workflowId], queryFn: () => get<WorkflowOut>(`/api/workflows/${workflowId}`) });
  const executions = useQuery({
    queryKey: ["executions", workflowId],
    queryFn: () => get<Page<ExecutionOut>>(`/api/workflows/${workflowId}/executions`),
    enabled: workflow.isSuccess,
    refetchInterval: (query) => (itemsOf(query.state.data).some((e) => ACTIVE.has(e.status)) ? 2000 : false),
  });
  const [input, setInput] = useState("{}");
  const [inputError, setInputError] = useState<string | null>(null);
  const run = useMutation({
    mutationFn: () => {
      setInputError(null);
      let parsed: unknown;
      try {
        parsed = JSON.parse(input);
      } catch {
        setInputError("The input is not valid JSON.");
        throw new Error("The input is not valid JSON.");
      }
      return api<ExecutionStarted>("POST", `/api/workflows/${workflowId}/execute`, { body: { input: parsed }, headers: { "Idempotency-Key": crypto.randomUUID() } });
    },
    onSuccess: (data) => {
      // Back on this page, the list shows the run rather than "Not run yet.".
      void queryClient.invalidateQueries({ queryKey: ["executions", workflowId] });
      navigate(`/workflows/executions/${data.execution_id}`);
    },
  });
  const toggle = useMutation({
    mutationFn: (enabled: boolean) => patch<WorkflowOut>(`/api/workflows/${workflowId}`, { enabled } satisfies WorkflowPatch),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["workflow", workflowId] }),
  });
  const remove = useMutation({
    mutationFn: () => del(`/api/workflows/${workflowId}`),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ["workflows"] });
      navigate("/workflows");
    },
  });
  const confirm = useConfirm();
  return (
    <DetailPage parent={{ to: "/workflows", label: "Workflows" }} current={workflow.data?.name ?? workflowId} query={workflow} dialog={confirm.dialog}>
      {(w) => (
        <>
          <PageHeader title={w.name} description={w.description ?? undefined}>
            <button type="button" className="button secondary" onClick={() => toggle.mutate(w.enabled === false)}>
              {w.enabled === false ? "Enable" : "Disable"}
            </button>
            <ConfirmButton
              ask={confirm.ask}
              request={{
                title: `Delete workflow '${w.name}'?`,
                consequence: "Its runs and triggers stop. This cannot be undone.",
                confirmLabel: "Delete workflow",
                onConfirm: () => remove.mutate(),
              }}
            >
              Delete
            </ConfirmButton>
          </PageHeader>
          {(toggle.isError || remove.isError) && <ErrorMessage error={toggle.error ?? remove.error} />}
          <section className="card">
            <h2>Run it now</h2>
            <TextArea label="Input (JSON)" className="mono" rows={3} value={input} onChange={(e) => setInput(e.target.value)} />
            {inputError && <p role="alert" className="field-error">{inputError}</p>}
            {run.isError && !inputError && <ErrorMessage error={run.error} />}
            <button type="button" className="button primary" onClick={() => run.mutate()} disabled={run.isPending}>
              Run workflow
            </button>
          </section>
          <section className="card">
            <h2>Executions</h2>
            <QueryView query={executions}>
              {(data) =>
                itemsOf(data).length === 0 ? (
                  <Empty title="Not run yet." />
                ) : (
                  <ul className="list">
                    {itemsOf(data).map((e) => {
                      const id = e.id;
                      return (
                        <li key={id}>
                          <Link to={`/workflows/executions/${id}`}>{formatDate(e.started_at)}</Link>
                          <StatusBadge status={e.status} />
                        </li>
                      );
                    })}
                  </ul>
                )
              }
            </QueryView>
          </section>
          <Builder existing={w} />
        </>
      )}
    </DetailPage>
  );
}

export function ExecutionPage() {
  const { executionId = "" } = useParams();
  const queryClient = useQueryClient();
  const execution = useQuery({
    queryKey: ["execution", executionId],
    queryFn: () => get<ExecutionOut>(`/api/workflows/executions/${executionId}`),
    refetchInterval: (query) => (query.state.data && ACTIVE.has(query.state.data.status) ? 1000 : false),
  });
  const cancel = useMutation({
    mutationFn: () => post(`/api/workflows/executions/${executionId}/cancel`),
    onSuccess: () => Promise.all([queryClient.invalidateQueries({ queryKey: ["execution", executionId] }), queryClient.invalidateQueries({ queryKey: ["executions"] })]),
  });
  return (
    <>
      <nav aria-label="Breadcrumb" className="breadcrumbs">
        <Link to="/workflows">Workflows</Link> <span aria-hidden="true">›</span>
        {execution.data?.workflow_id && (
          <>
            <Link to={`/workflows/${execution.data.workflow_id}`}>Workflow</Link> <span aria-hidden="true">›</span>
          </>
        )}
        <span>Execution</span>
      </nav>
      <QueryView query={execution}>
        {(e) => (
          <>
            <PageHeader title="Execution" description={<>Status: <StatusBadge status={e.status} /></>}>
              {ACTIVE.has(e.status) && (
                <button type="button" className="button danger" onClick={() => cancel.mutate()}>
                  Cancel
                </button>
              )}
            </PageHeader>
            {cancel.isError && <ErrorMessage error={cancel.error} />}
            <section className="card">
              <h2>Steps</h2>
              <Timeline steps={e.steps.map((s) => ({ ...s, name: s.id }))} />
              {e.error != null && (
                <div className="notice" role="status">
                  <strong>Error:</strong> {describeError(e.error)}
                </div>
              )}
            </section>
          </>
        )}
      </QueryView>
    </>
  );
}
