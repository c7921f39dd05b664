// Staged changes: edits, new rows and deletions kept in the browser, per table of one base,
// until they are committed together as one airtable_transaction saga (all or nothing).
// The functions are pure (state in, state out); `stagedStore` holds the state for the pages.
import { useSyncExternalStore } from "react";
import type { DryRunOut, FieldOut, TransactionOperation } from "../api/types";
import { formatValue, sameValue } from "./fields";

export interface StagedTable {
  id: string;
  name: string;
  fields: FieldOut[];
  primary: string;
}

export interface StagedRecord {
  /** The Airtable record id, or `new-N` for a row that exists only here. */
  key: string;
  isNew: boolean;
  deleted: boolean;
  /** The record's fields when it was staged (what the review compares against). */
  original: Record<string, unknown>;
  /** Field name -> the value to write. */
  changes: Record<string, unknown>;
}

export interface StageState {
  baseId: string | null;
  active: boolean;
  tables: Record<string, { table: StagedTable; order: string[]; records: Record<string, StagedRecord> }>;
  tableOrder: string[];
  nextNew: number;
  /** The last dry run's problems (see problemsByCell), shown on their cells. */
  problems: Record<string, string[]>;
}

export const emptyStage = (): StageState => ({ baseId: null, active: false, tables: {}, tableOrder: [], nextNew: 1, problems: {} });

export const isNewKey = (key: string) => key.startsWith("new-");

function withRecord(state: StageState, table: StagedTable, key: string, update: (r: StagedRecord | undefined) => StagedRecord | undefined, original: Record<string, unknown> = {}): StageState {
  const entry = state.tables[table.id] ?? { table, order: [], records: {} };
  const current = entry.records[key];
  const next = update(current ?? (isNewKey(key) ? undefined : { key, isNew: false, deleted: false, original, changes: {} }));
  const records = { ...entry.records };
  let order = entry.order;
  // A record with nothing left to do is dropped from the stage.
  if (!next || (!next.isNew && !next.deleted && Object.keys(next.changes).length === 0)) {
    delete records[key];
    order = order.filter((k) => k !== key);
  } else {
    records[key] = next;
    if (!order.includes(key)) order = [...order, key];
  }
  const tables = { ...state.tables };
  if (order.length === 0) delete tables[table.id];
  else tables[table.id] = { table, order, records };
  const tableOrder = order.length === 0 ? state.tableOrder.filter((t) => t !== table.id) : state.tableOrder.includes(table.id) ? state.tableOrder : [...state.tableOrder, table.id];
  return { ...state, tables, tableOrder };
}

/** A cell edited: staged against the record's fields (an edit back to the original unstages it). */
export function stageEdit(state: StageState, table: StagedTable, key: string, original: Record<string, unknown>, field: string, value: unknown): StageState {
  return withRecord(state, table, key, (record) => {
    if (!record) return record;
    const changes = { ...record.changes };
    if (!record.isNew && sameValue(record.original[field], value)) delete changes[field];
    else changes[field] = value;
    return { ...record, changes };
  }, original);
}

/** A new, empty row in a table; returns the state and the new row's key. */
export function stageNewRow(state: StageState, table: StagedTable): [StageState, string] {
  const key = `new-${state.nextNew}`;
  const next = withRecord({ ...state, nextNew: state.nextNew + 1 }, table, key, () => ({ key, isNew: true, deleted: false, original: {}, changes: {} }));
  return [next, key];
}

/** A row deleted: a new row simply disappears, an existing one is struck out (its edits dropped). */
export function stageDelete(state: StageState, table: StagedTable, key: string, original: Record<string, unknown>): StageState {
  return withRecord(state, table, key, (record) => (record?.isNew ? undefined : record && { ...record, changes: {}, deleted: true }), original);
}

/** A struck-out row kept after all. */
export function unstageDelete(state: StageState, table: StagedTable, key: string): StageState {
  return withRecord(state, table, key, (record) => record && { ...record, deleted: false });
}

export const changeCount = (state: StageState) =>
  Object.values(state.tables).reduce((n, t) => n + t.order.length, 0);

const shown = (field: FieldOut | undefined, value: unknown) => {
  if (!field) return String(value ?? "");
  if (field.type === "checkbox") return value ? "checked" : "unchecked";
  return formatValue(field, value) || "(empty)";
};

function labelOf(table: StagedTable, record: StagedRecord): string {
  const value = record.changes[table.primary] ?? record.original[table.primary];
  const primary = table.fields.find((f) => f.name === table.primary);
  return (value !== undefined && value !== null && value !== "" ? formatValue(primary ?? ({ type: "singleLineText" } as FieldOut), value) : "") || (record.isNew ? "a new record" : record.key);
}

export interface ReviewItem {
  tableId: string;
  key: string;
  sentence: string;
}

/** Every staged change as a sentence a person reads, in the order they were made per table. */
export function reviewSentences(state: StageState): ReviewItem[] {
  const items: ReviewItem[] = [];
  for (const tableId of state.tableOrder) {
    const { table, order, records } = state.tables[tableId];
    for (const key of order) {
      const record = records[key];
      const fieldOf = (name: string) => table.fields.find((f) => f.name === name);
      let sentence: string;
      if (record.deleted) sentence = `${table.name}: delete ${labelOf(table, record)}`;
      else if (record.isNew) {
        const values = Object.entries(record.changes).filter(([name]) => name !== table.primary).map(([name, v]) => `${name} ${shown(fieldOf(name), v)}`);
        sentence = `${table.name}: create ${labelOf(table, record)}${values.length ? `: ${values.join(", ")}` : ""}`;
      } else {
        const values = Object.entries(record.changes).map(([name, v]) => `${name} ${shown(fieldOf(name), record.original[name])} -> ${shown(fieldOf(name), v)}`);
        sentence = `${table.name}: update ${labelOf({ ...table }, { ...record, changes: {} })}: ${values.join(", ")}`;
      }
      items.push({ tableId, key, sentence });
    }
  }
  return items;
}

/** A staged change set's operation: never an upsert, never typecast. */
export interface SagaOperation extends TransactionOperation {
  action: "create" | "update" | "delete";
  typecast: false;
}

/** The airtable_transaction's operations (per table: creates, updates, deletes), and for each
 * operation the staged keys of its records in order (to put dry-run problems on their cells).
 * Never typecast: a value outside a field's choices is refused, not added as a new choice. */
export function buildOperations(state: StageState): { operations: SagaOperation[]; keys: { tableId: string; keys: string[] }[] } {
  const operations: SagaOperation[] = [];
  const keys: { tableId: string; keys: string[] }[] = [];
  for (const tableId of state.tableOrder) {
    const { order, records } = state.tables[tableId];
    const staged = order.map((k) => records[k]);
    const clean = (changes: Record<string, unknown>) => Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined));
    const groups: [SagaOperation["action"], StagedRecord[]][] = [
      ["create", staged.filter((r) => r.isNew)],
      ["update", staged.filter((r) => !r.isNew && !r.deleted)],
      ["delete", staged.filter((r) => r.deleted)],
    ];
    for (const [action, group] of groups) {
      if (group.length === 0) continue;
      operations.push({
        action,
        table: tableId,
        records: group.map((r) => (action === "create" ? { fields: clean(r.changes) } : action === "update" ? { id: r.key, fields: clean(r.changes) } : { id: r.key })),
        typecast: false,
      });
      keys.push({ tableId, keys: group.map((r) => r.key) });
    }
  }
  return { operations, keys };
}

/** Dry-run problems keyed by `table/record/field` (a cell) or `table/record` (the whole row). */
export function problemsByCell(keys: { tableId: string; keys: string[] }[], report: DryRunOut): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  const add = (key: string, problem: string) => (out[key] = [...(out[key] ?? []), problem]);
  report.operations.forEach((op, i) => {
    const target = keys[i];
    if (!target) return;
    for (const p of op.problems) {
      const record = p.record != null ? target.keys[p.record] : undefined;
      const sentence = p.code === "no_such_record" ? "This record no longer exists in Airtable (deleted since it was loaded)." : p.field ? `${p.field}: ${p.problem}` : p.problem;
      add(record === undefined ? target.tableId : p.field ? `${target.tableId}/${record}/${p.field}` : `${target.tableId}/${record}`, sentence);
    }
  });
  return out;
}

// The one stage of the page: it outlives a table's page so that several tables of a base are
// staged together; it is emptied when another base is staged.
let current: StageState = emptyStage();
const listeners = new Set<() => void>();

export const stagedStore = {
  get: () => current,
  set(next: StageState) {
    current = next;
    listeners.forEach((l) => l());
  },
  update(fn: (s: StageState) => StageState) {
    stagedStore.set(fn(current));
  },
  subscribe(listener: () => void) {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
};

export const useStage = () => useSyncExternalStore(stagedStore.subscribe, stagedStore.get);
