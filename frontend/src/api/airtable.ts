import { get, type Page } from "./client";

export interface Connection {
  id: string;
  name: string;
  token_last4: string;
  default_base_id: string | null;
  workspace_id?: string;
  created_at: string;
}
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
export interface Table {
  id: string;
  name: string;
  primaryFieldId?: string;
  description?: string;
  fields: Field[];
  views?: { id: string; name: string; type?: string }[];
}
export interface AirtableRecord {
  id: string;
  created_time?: string;
  fields: Record<string, unknown>;
}
export interface RecordsPage {
  records: AirtableRecord[];
  offset?: string | null;
}

export const basePath = (baseId: string) => `/api/airtable/bases/${encodeURIComponent(baseId)}`;
export const tablePath = (baseId: string, table: string) => `${basePath(baseId)}/tables/${encodeURIComponent(table)}`;

export const fetchBases = () => get<Page<Base> | Base[]>("/api/airtable/bases");
export const fetchSchema = (baseId: string) => get<{ tables: Table[] }>(`${basePath(baseId)}/schema`);

// Field types whose value a person types as text; the rest (formulas, links, attachments...) are shown read-only.
const EDITABLE = new Set([
  "singleLineText", "multilineText", "email", "url", "phoneNumber", "richText",
  "number", "currency", "percent", "rating", "duration",
  "checkbox", "singleSelect", "multipleSelects", "date", "dateTime",
]);
const NUMERIC = new Set(["number", "currency", "percent", "rating", "duration"]);

export const isEditable = (field: Field) => EDITABLE.has(field.type);
export const isNumeric = (field: Field) => NUMERIC.has(field.type);

/** A typed-in string as the value Airtable expects for the field (typecast does the rest). */
export function parseValue(field: Field, raw: string | boolean): unknown {
  if (field.type === "checkbox") return Boolean(raw);
  const text = String(raw).trim();
  if (text === "") return null;
  if (NUMERIC.has(field.type)) {
    const n = Number(text);
    return Number.isFinite(n) ? n : text;
  }
  if (field.type === "multipleSelects") return text.split(",").map((s) => s.trim()).filter(Boolean);
  return String(raw);
}

/** A cell value as text for display and for the edit box. */
export function displayValue(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "boolean") return value ? "Yes" : "No";
  if (Array.isArray(value)) return value.map((v) => (typeof v === "object" && v ? (v as { name?: string; filename?: string; id?: string }).name ?? (v as { filename?: string }).filename ?? (v as { id?: string }).id ?? JSON.stringify(v) : String(v))).join(", ");
  if (typeof value === "object") return (value as { name?: string }).name ?? JSON.stringify(value);
  return String(value);
}
