// The transaction composer's model: operations drafted in a form, the saga input built from
// them, and the API's dry-run problems and validation details told as sentences that point at
// the operation, the record and the field.
import type { DryRunProblemOut, ErrorDetail, FieldOut, TableOut, TransactionInput, TransactionOperation } from "../api/types";
import { isWritable } from "../grid/fields";

export type Action = TransactionOperation["action"];

export interface RecordDraft {
  /** The record an update or delete is about (chosen in the record picker). */
  id?: string;
  /** What the picker showed for it: its primary field's value. */
  label?: string;
  /** Field name -> the value Airtable takes; a field left out is not written. */
  fields: Record<string, unknown>;
}

export interface OperationDraft {
  action: Action;
  table: string;
  records: RecordDraft[];
  mergeOn: string[];
}

/** The fields a transaction's form offers: what the grid's cells can write (not computed
 * fields, not attachments). */
export const writableFields = (table: TableOut | undefined): FieldOut[] => (table?.fields ?? []).filter(isWritable);

export const primaryField = (table: TableOut | undefined): FieldOut | undefined =>
  table ? table.fields.find((f) => f.id === table.primaryFieldId) ?? table.fields[0] : undefined;

export const emptyOperation = (): OperationDraft => ({ action: "create", table: "", records: [{ fields: {} }], mergeOn: [] });

const isBlank = (value: unknown) => value === undefined || value === null || value === "" || (Array.isArray(value) && value.length === 0);

/** The saga input the drafts describe. Values are typed by their inputs, so no typecast: a
 * typo can never become a new select choice. */
export function buildInput(baseId: string, operations: OperationDraft[]): TransactionInput {
  return {
    base_id: baseId,
    operations: operations.map((op) => ({
      action: op.action,
      table: op.table,
      records: op.records.map((r) => {
        if (op.action === "delete") return { id: r.id ?? "" };
        const fields = Object.fromEntries(Object.entries(r.fields).filter(([, v]) => !isBlank(v)));
        return op.action === "create" || (op.action === "upsert" && !r.id) ? { fields } : { id: r.id ?? "", fields };
      }),
      ...(op.action === "upsert" ? { merge_on: op.mergeOn } : {}),
      typecast: false,
    })),
  };
}

/** Pasted JSON (Advanced) back into drafts: the form shows what the JSON says. */
export function draftsFromInput(input: unknown): { baseId: string; operations: OperationDraft[] } {
  const data = (input ?? {}) as Partial<TransactionInput>;
  if (typeof data !== "object" || !Array.isArray(data.operations)) throw new Error("The JSON needs an \"operations\" list.");
  return {
    baseId: typeof data.base_id === "string" ? data.base_id : "",
    operations: data.operations.map((op, i) => {
      if (!op || !["create", "update", "upsert", "delete"].includes(op.action)) throw new Error(`Operation ${i + 1} needs an action: create, update, upsert or delete.`);
      if (!Array.isArray(op.records)) throw new Error(`Operation ${i + 1} needs a "records" list.`);
      return {
        action: op.action,
        table: String(op.table ?? ""),
        records: op.records.map((r) => ({ ...(r?.id ? { id: String(r.id) } : {}), fields: { ...(r?.fields ?? {}) } })),
        mergeOn: Array.isArray(op.merge_on) ? op.merge_on.map(String) : [],
      };
    }),
  };
}

/** What the form lacks before anything is sent, as sentences. */
export function missingParts(baseId: string, operations: OperationDraft[]): string[] {
  const missing: string[] = [];
  if (!baseId) missing.push("Choose a base.");
  operations.forEach((op, i) => {
    const where = `Operation ${i + 1}`;
    if (!op.table) missing.push(`${where}: choose a table.`);
    if (op.records.length === 0) missing.push(`${where}: add a record.`);
    op.records.forEach((r, n) => {
      if ((op.action === "update" || op.action === "delete") && !r.id) missing.push(`${where}, record ${n + 1}: choose the record to ${op.action}.`);
      if (op.action === "create" && Object.values(r.fields).every(isBlank)) missing.push(`${where}, record ${n + 1}: fill in at least one field.`);
    });
    if (op.action === "upsert" && op.mergeOn.length === 0) missing.push(`${where}: choose the fields that find an existing record (merge on).`);
  });
  return missing;
}

/** How an operation is named in a sentence: "Operation 2 (update Contacts)". */
export const operationName = (index: number, op: { action: string; table: string }) => `Operation ${index + 1} (${op.action} ${op.table || "no table"})`;

/** Record `n` of an operation: its label from the picker or its primary field, else its number. */
export function recordName(op: OperationDraft | undefined, n: number, primary?: string): string {
  const record = op?.records[n];
  const label = record?.label ?? (primary && typeof record?.fields[primary] === "string" ? (record.fields[primary] as string) : undefined);
  return label ? `record ${n + 1} '${label}'` : `record ${n + 1}`;
}

/** A problem reworded by its `code` (stable), never by its text (which the API may reword);
 * a code without a sentence of its own is told as the API's text. */
function problemText(problem: DryRunProblemOut, table: string): string {
  const text = problem.problem ?? "is not valid";
  switch (problem.code) {
    case "unknown_field":
      return `${table} has no field '${problem.field}'`;
    case "unknown_merge_on_field":
      return `the merge field '${problem.field}' is not a field of ${table}`;
    case "merge_on_value_missing":
      return `the merge field '${problem.field}' has no value`;
    case "no_such_record":
      return `the record ${problem.id ?? ""} no longer exists in ${table}`.replace("  ", " ");
    case "unknown_table":
      return `there is no table '${table}' in this base`;
    default:
      return problem.field ? `${problem.field}: ${text}` : text;
  }
}

/** A dry-run problem as a sentence: "Operation 2 (update Contacts), record 1 'Ada': Status: not a choice…". */
export function problemSentence(index: number, op: { action: string; table: string }, problem: DryRunProblemOut | string, draft?: OperationDraft, primary?: string): string {
  const where = operationName(index, op);
  if (typeof problem === "string") return `${where}: ${problem}.`;
  const record = typeof problem.record === "number" ? `, ${recordName(draft, problem.record, primary)}` : "";
  return `${where}${record}: ${problemText(problem, op.table)}.`;
}

/** A 422 detail of the saga input (`input.operations.1.records.0.fields`) as a sentence. */
export function validationSentence(detail: ErrorDetail, operations: OperationDraft[]): string {
  const message = detail.problem ?? "is not valid";
  const path = detail.field ?? "";
  const match = path.match(/^input\.operations\.(\d+)(?:\.records\.(\d+))?(?:\.(?:fields\.)?(.+))?$/);
  if (!match) return path ? `${path.replace(/^input\./, "")}: ${message}` : message;
  const index = Number(match[1]);
  const op = operations[index];
  const where = op ? operationName(index, op) : `Operation ${index + 1}`;
  const record = match[2] !== undefined ? `, ${recordName(op, Number(match[2]))}` : "";
  const field = match[3] ? ` (${match[3]})` : "";
  return `${where}${record}${field}: ${message}`;
}

/** The formula that finds records whose primary field contains `term` (any case). */
export function searchFormula(primary: string, term: string): string {
  const quoted = term.replace(/\\/g, "\\\\").replace(/"/g, '\\"');
  const name = primary.replace(/}/g, "\\}");
  return `SEARCH(LOWER("${quoted}"), LOWER({${name}}))`;
}
