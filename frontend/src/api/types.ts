// The API's shapes, for every module of the UI. Each shape the OpenAPI document names is an alias
// of the type openapi-typescript generated from it (./schema.d.ts, from
// layers/common/common/openapi.json: `make types`; `make lint` fails while that file is stale).
// The shapes at the end are hand-written: their routes do not describe a response yet.
import type { components } from "./schema";

type Schemas = components["schemas"];

// Errors: every non-2xx body of the API, or the gateway's own for what it answers itself.
export type ErrorEnvelope = Schemas["ErrorEnvelope"];
export type ErrorDetail = NonNullable<ErrorEnvelope["error"]["details"]>[number];
export type GatewayMessage = Schemas["GatewayMessage"];

/** A page of a list endpoint (`Page` in the document, whose items it does not name yet;
 * `Page_<Item>_` once a route declares `Page[Item]`): the items' type is the caller's. */
export interface Page<T> {
  items: T[];
  next_cursor?: string | null;
}

// Auth and users.
export type TokensOut = Schemas["TokensOut"];
export type UserOut = Schemas["UserOut"];
export type ValidateOut = Schemas["ValidateOut"];
export type ApiKeyCreated = Schemas["ApiKeyCreated"];
export type LoginIn = Schemas["LoginIn"];
export type RegisterIn = Schemas["RegisterIn"];
export type RefreshIn = Schemas["RefreshIn"];
export type VerifyEmailIn = Schemas["VerifyEmailIn"];
export type PasswordChangeIn = Schemas["PasswordChangeIn"];
export type PasswordForgotIn = Schemas["PasswordForgotIn"];
export type PasswordResetIn = Schemas["PasswordResetIn"];
export type ApiKeyIn = Schemas["ApiKeyIn"];
export type ProfilePatch = Schemas["ProfilePatch"];

// OAuth consent (the authorization endpoint MCP clients send a person to).
export type ConsentOut = Schemas["ConsentOut"];
export type RedirectOut = Schemas["RedirectOut"];
export type AuthorizeDecisionIn = Schemas["AuthorizeDecisionIn"];

// Workspaces.
export type WorkspaceOut = Schemas["WorkspaceOut"];
export type WorkspaceIn = Schemas["WorkspaceIn"];
export type WorkspaceRole = WorkspaceOut["role"];
export type MemberOut = Schemas["MemberOut"];
export type RoleIn = Schemas["RoleIn"];
export type InvitationOut = Schemas["InvitationOut"];
export type InvitationIn = Schemas["InvitationIn"];
export type AcceptIn = Schemas["AcceptIn"];
export type MembershipOut = Schemas["MembershipOut"];

// Airtable (requests).
export type NewConnection = Schemas["NewConnection"];
export type NewTable = Schemas["NewTable"];
export type FieldSpec = Schemas["FieldSpec"];
export type NewRecords = Schemas["NewRecords"];
export type OneRecord = Schemas["OneRecord"];

// Sagas (requests).
export type StartSaga = Schemas["StartSaga"];
export type UndoSaga = Schemas["UndoSaga"];

// Workflows.
export type WorkflowIn = Schemas["WorkflowIn"];
export type WorkflowPatch = Schemas["WorkflowPatch"];
export type Trigger = Schemas["Trigger"];
export type WorkflowStep = WorkflowIn["steps"][number];
export type StepType = WorkflowStep["type"];
/** The config of each step type: `StepConfig["delay"]` is `{ seconds }`. */
export type StepConfig = { [S in WorkflowStep as S["type"]]: S["config"] };
export type ExecuteIn = Schemas["ExecuteIn"];

// Files (requests).
export type UploadIn = Schemas["UploadIn"];
export type ExportIn = Schemas["ExportIn"];
export type ImportIn = Schemas["ImportIn"];

// Notifications.
export type WebhookIn = Schemas["WebhookIn"];
export type NotificationPreferences = Schemas["Preferences"];

// Platform.
export type Operations = Schemas["Operations"];

// ---------------------------------------------------------------------------------------------
// Not yet described by the API document: these routes answer without a response schema (their
// OpenAPI entry says `object` or nothing), so the UI writes their shapes by hand. Each becomes an
// alias above once its route declares a response model and `make types` has regenerated
// schema.d.ts.
// ---------------------------------------------------------------------------------------------

/** Keys some error details carry beyond `field` and `problem`: a refused sheet's `choices`
 * (imports, 422), an undo conflict's `table`, `record_id` and `fields` (409). */
export interface ErrorDetailExtras {
  choices?: string[];
  table?: string;
  record_id?: string;
  fields?: string[];
}
/** A detail as ApiError holds it: the document's `field` and `problem`, and those keys. */
export type ApiErrorDetail = ErrorDetail & ErrorDetailExtras;

/** GET /api/auth/sessions, items. */
export interface SessionOut {
  id: string;
  created_at: string;
  last_used_at: string;
  expires_at: string;
  user_agent: string | null;
  ip: string | null;
  current: boolean;
  /** The AI agent (OAuth client) this session was granted to, if any. */
  client_name?: string | null;
}

/** GET /api/auth/api-keys, items. */
export interface ApiKeyOut {
  id: string;
  name: string;
  prefix: string;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
}

/** GET /api/airtable/connections, items. */
export interface Connection {
  id: string;
  name: string;
  token_last4: string;
  default_base_id: string | null;
  workspace_id?: string;
  created_at: string;
}
/** GET /api/airtable/bases, items. */
export interface Base {
  id: string;
  name: string;
  permission_level?: string;
  connection_id?: string;
}
export interface Field {
  id: string;
  name: string;
  type: string;
  options?: Record<string, unknown>;
  description?: string;
}
/** A table of GET /api/airtable/bases/{base_id}/schema (and of a created table). */
export interface Table {
  id: string;
  name: string;
  primaryFieldId?: string;
  description?: string;
  fields: Field[];
  views?: { id: string; name: string; type?: string }[];
}
export interface BaseSchema {
  tables: Table[];
}
export interface AirtableRecord {
  id: string;
  created_time?: string;
  fields: Record<string, unknown>;
}
/** GET .../records. */
export interface RecordsPage {
  records: AirtableRecord[];
  offset?: string | null;
}

/** One operation of an `airtable_transaction` saga's input. */
export interface TransactionOperation {
  action: "create" | "update" | "upsert" | "delete";
  table: string;
  records: { id?: string; fields?: Record<string, unknown> }[];
  merge_on?: string[];
  typecast?: boolean;
}
/** The input of an `airtable_transaction` saga (the document says only `object`). */
export interface TransactionInput {
  base_id: string;
  operations: TransactionOperation[];
}
export interface SagaStep {
  name: string;
  status: string;
  started_at?: string | null;
  finished_at?: string | null;
  input?: unknown;
  output?: unknown;
  error?: unknown;
  compensation?: { status: string; finished_at?: string | null; [key: string]: unknown } | null;
}
/** GET /api/sagas/{saga_id}, and the items of GET /api/sagas. */
export interface Saga {
  id: string;
  type: string;
  summary?: string;
  workspace_id?: string;
  status: string;
  created_by?: string | null;
  input?: Partial<TransactionInput>;
  steps?: SagaStep[];
  output?: unknown;
  error?: unknown;
  created_at?: string;
  updated_at?: string | null;
  finished_at?: string | null;
  compensation_reason?: string;
}
/** POST /api/sagas (202). */
export interface SagaStarted {
  saga_id: string;
}
/** GET /api/sagas/types, items. */
export interface SagaType {
  type: string;
  input_schema?: unknown;
}
/** A problem of a transaction's dry run: where (operation's record, field or record id) and what. */
export interface DryRunProblem {
  problem: string;
  record?: number;
  field?: string;
  id?: string;
}
/** POST /api/sagas with `dry_run: true` (an airtable_transaction): nothing is written. */
export interface SagaDryRun {
  valid: boolean;
  operations: { action: string; table: string; records: number; problems: DryRunProblem[] }[];
}

/** GET /api/workflows/{workflow_id}, and the items of GET /api/workflows. */
export interface Workflow {
  id: string;
  name: string;
  description?: string | null;
  trigger: Trigger;
  steps: WorkflowStep[];
  enabled?: boolean;
  created_at?: string;
}
/** GET /api/workflows/executions/{execution_id}, and the items of .../executions. */
export interface Execution {
  id?: string;
  execution_id?: string;
  workflow_id?: string;
  status: string;
  started_at?: string;
  finished_at?: string | null;
  error?: unknown;
  steps?: { name?: string; id?: string; status: string; started_at?: string; finished_at?: string; output?: unknown; error?: unknown }[];
}
/** POST /api/workflows/{workflow_id}/execute (202). */
export interface ExecutionStarted {
  execution_id: string;
}

/** GET /api/files, items (and GET /api/files/{file_id}). */
export interface FileObject {
  id: string;
  filename: string;
  content_type: string;
  size: number;
  sha256?: string;
  status: string;
  created_at: string;
}
/** POST /api/files/uploads (201): where the browser PUTs the file, with which headers. */
export interface UploadTicket {
  file_id: string;
  upload_url: string;
  headers: Record<string, string>;
}
/** GET /api/files/{file_id}/download. */
export interface DownloadLink {
  url: string;
  expires_at: string;
}
/** POST /api/files/exports (202). */
export interface ExportStarted {
  export_id: string;
}
/** GET /api/files/exports/{export_id}. */
export interface ExportStatus {
  status: string;
  rows?: number;
  file_id?: string | null;
  error?: string | null;
}
/** A column of an import's preview: the field it goes to and a few of its values. */
export interface ColumnPlan {
  column: string;
  field: string | null;
  field_type: string | null;
  sample: unknown[];
}
export interface ImportProblem {
  column: string | null;
  field?: string;
  message: string;
}
/** POST /api/files/{file_id}/import with `dry_run: true`: the rows as they would be written. */
export interface ImportPreview {
  table: string;
  columns: ColumnPlan[];
  ignored_columns: string[];
  rows_total: number;
  preview: { row: number; fields: Record<string, unknown>; problems: ImportProblem[] }[];
  problems_total: number;
  sheets?: string[];
}
/** POST /api/files/{file_id}/import (202). */
export interface ImportStarted {
  import_id: string;
}
/** GET /api/files/imports/{import_id}. */
export interface ImportStatus {
  status: string;
  base_id: string;
  table: string;
  table_name?: string;
  filename?: string | null;
  rows_total?: number | null;
  rows_done?: number;
  created?: number;
  updated?: number;
  failed_count?: number;
  ignored_columns?: string[];
  failed?: { row: number; error: string }[];
  error?: string;
  created_at: string;
  finished_at?: string | null;
  undo?: { saga_id: string; status: string };
}

/** GET /api/notifications, items. */
export interface Notification {
  id: string;
  type: string;
  title: string;
  body: string;
  link?: string | null;
  data?: Record<string, unknown>;
  read: boolean;
  created_at: string;
}
/** GET /api/notifications/webhooks, items; POST's answer also carries its signing `secret`, once. */
export interface Webhook {
  id: string;
  url: string;
  events: string[];
  secret?: string;
  created_at?: string;
}
/** GET /api/notifications/webhooks/{webhook_id}/deliveries, items. */
export interface Delivery {
  id: string;
  status: string;
  attempts: number;
  last_response_code?: number | null;
  last_error?: string | null;
  type?: string;
  created_at?: string;
}

/** GET /api/platform/info. */
export interface PlatformInfo {
  name: string;
  version: string;
  services?: string[] | Record<string, unknown>;
  build?: Record<string, unknown> | string;
}
/** A day of GET /api/platform/usage. */
export interface UsageDay {
  date?: string;
  day?: string;
  calls?: number;
  airtable_requests?: number;
  errors?: number;
}
/** GET /api/platform/usage: a list of days (in `items` or `days`, or bare). */
export type Usage = { items?: UsageDay[]; days?: UsageDay[] } | UsageDay[];
export interface HealthCheck {
  status: string;
  latency_ms?: number;
  error?: string;
}
/** GET /api/platform/health/services (admin): every service's checks, from the recent report. */
export interface ServicesHealth {
  status: string;
  checked_at: string;
  services: Record<string, HealthCheck & { checks?: Record<string, HealthCheck> }>;
  dependencies: Record<string, string>;
  database_connections: { held: number; limit: number; share: number | null } | null;
}
