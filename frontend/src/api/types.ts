// The API's shapes, for every module of the UI: each is an alias of the type openapi-typescript
// generated from the OpenAPI document's schema of that name (./schema.d.ts, from
// layers/common/common/platform/openapi.json: `make types`; `make lint` fails while that file is stale).
// Where the document leaves an object open (Airtable's own schema objects, error details), the
// keys the UI reads are added to the alias at the end of this file, and say so.
import type { components } from "./schema";

type Schemas = components["schemas"];

// Errors: every non-2xx body of the API, or the gateway's own for what it answers itself.
export type ErrorEnvelope = Schemas["ErrorEnvelope"];
export type ErrorDetail = NonNullable<ErrorEnvelope["error"]["details"]>[number];
export type GatewayMessage = Schemas["GatewayMessage"];

/** A page of a list endpoint: the shape of every `Page_<Item>_` of the document. */
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

// Auth and users (responses of lists).
export type SessionOut = Schemas["SessionOut"];
export type ApiKeyOut = Schemas["ApiKeyOut"];

// Airtable.
export type ConnectionOut = Schemas["ConnectionOut"];
export type BaseOut = Schemas["BaseOut"];
export type ViewOut = Schemas["ViewOut"];
export type RecordOut = Schemas["RecordOut"];
export type RecordPage = Schemas["RecordPage"];
export type RecordsOut = Schemas["RecordsOut"];

// Sagas.
export type SagaOut = Schemas["SagaOut"];
export type StepOut = Schemas["StepOut"];
export type SagaStartedOut = Schemas["SagaStartedOut"];
export type SagaTypeOut = Schemas["SagaTypeOut"];
export type DryRunOut = Schemas["DryRunOut"];
export type DryRunProblemOut = Schemas["DryRunProblemOut"];

// Workflows.
export type ExecutionOut = Schemas["ExecutionOut"];
export type StepResultOut = Schemas["StepResultOut"];
export type ExecutionStarted = Schemas["ExecutionStarted"];

// Files.
export type FileOut = Schemas["FileOut"];
export type UploadStartedOut = Schemas["UploadStartedOut"];
export type DownloadLinkOut = Schemas["DownloadLinkOut"];
export type ExportStartedOut = Schemas["ExportStartedOut"];
export type ExportOut = Schemas["ExportOut"];
export type ImportPreviewOut = Schemas["ImportPreviewOut"];
export type ImportStartedOut = Schemas["ImportStartedOut"];
export type ImportOut = Schemas["ImportOut"];
export type ImportUndoOut = Schemas["ImportUndoOut"];

// Notifications.
export type NotificationOut = Schemas["NotificationOut"];
export type WebhookOut = Schemas["WebhookOut"];
export type WebhookCreatedOut = Schemas["WebhookCreatedOut"];
export type DeliveryOut = Schemas["DeliveryOut"];

// Platform.
export type InfoOut = Schemas["InfoOut"];
export type UsageOut = Schemas["UsageOut"];
export type UsageDayOut = Schemas["UsageDayOut"];
export type HealthReportOut = Schemas["HealthReportOut"];
export type CheckOut = Schemas["CheckOut"];

// ---------------------------------------------------------------------------------------------
// Keys the document leaves open. Each alias above stays the generated type; these add, to an
// object the document declares open (`additionalProperties`) or does not describe (a saga's
// input), the keys the UI reads, each optional, as Airtable and the API send them.
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

/** An open object's declared keys, without its `[key: string]: unknown`. */
type Declared<T> = { [K in keyof T as string extends K ? never : K]: T[K] };

/** An Airtable field (FieldOut, open): its type's `options` and its `description`. */
export type FieldOut = Declared<Schemas["FieldOut"]> & { options?: Record<string, unknown>; description?: string };
/** An Airtable table (TableOut, open): its fields as FieldOut above, and its `description`. */
export type TableOut = Omit<Declared<Schemas["TableOut"]>, "fields"> & { fields: FieldOut[]; description?: string };
/** GET /api/airtable/bases/{base_id}/schema, its tables as TableOut above. */
export type BaseSchemaOut = Omit<Declared<Schemas["BaseSchemaOut"]>, "tables"> & { tables: TableOut[] };

/** A workflow (WorkflowOut) with the trigger and steps it was saved with (WorkflowIn's), which
 * the document leaves as objects. */
export type WorkflowOut = Omit<Schemas["WorkflowOut"], "trigger" | "steps"> & { trigger: Trigger; steps: WorkflowStep[] };

/** One operation of an `airtable_transaction` saga's input (StartSaga's `input` is an object). */
export interface TransactionOperation {
  action: "create" | "update" | "upsert" | "delete";
  table: string;
  records: { id?: string; fields?: Record<string, unknown> }[];
  merge_on?: string[];
  typecast?: boolean;
}
/** The input of an `airtable_transaction` saga. */
export interface TransactionInput {
  base_id: string;
  operations: TransactionOperation[];
}
