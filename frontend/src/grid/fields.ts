// What a grid cell does with each Airtable field type, read from the table's schema: which
// editor it opens, how typed text becomes the value Airtable takes (or is refused with a
// sentence), and how a value is shown. Nothing here ever needs Airtable's `typecast`.
import type { FieldOut } from "../api/types";

export type EditorKind =
  | "text" | "longText" | "email" | "url" | "phone"
  | "number" | "checkbox" | "singleSelect" | "multipleSelects"
  | "date" | "dateTime" | "links" | "attachments" | "readonly";

const KINDS: Record<string, EditorKind> = {
  singleLineText: "text", multilineText: "longText", richText: "longText",
  email: "email", url: "url", phoneNumber: "phone",
  number: "number", currency: "number", percent: "number", rating: "number", duration: "number",
  checkbox: "checkbox", singleSelect: "singleSelect", multipleSelects: "multipleSelects",
  date: "date", dateTime: "dateTime", multipleRecordLinks: "links", multipleAttachments: "attachments",
};

/** The editor a field's cells open; computed and unknown types are read-only. Attachments are
 * shown (links and thumbnails) but not uploaded from the grid. */
export const editorKind = (field: FieldOut): EditorKind => KINDS[field.type] ?? "readonly";
export const isWritable = (field: FieldOut) => !["readonly", "attachments"].includes(editorKind(field));
/** Editors that take typed text (typing a character on the cell starts them with it). */
export const isTextual = (kind: EditorKind) => ["text", "longText", "email", "url", "phone", "number", "date", "dateTime"].includes(kind);

export type Parsed = { ok: true; value: unknown } | { ok: false; error: string };
const ok = (value: unknown): Parsed => ({ ok: true, value });
const refuse = (error: string): Parsed => ({ ok: false, error });

export interface Choice {
  name: string;
  color?: string;
}
export const choicesOf = (field: FieldOut): Choice[] => (field.options?.choices as Choice[] | undefined) ?? [];

export const precisionOf = (field: FieldOut): number => {
  const p = Number(field.options?.precision);
  if (Number.isInteger(p) && p >= 0) return p;
  return field.type === "currency" ? 2 : 0;
};

const EMAIL = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;
const PHONE = /^\+?[\d\s().-]+$/;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Typed text as the field's value, or the sentence saying why it is refused. Empty text
 * empties the cell. */
export function parseText(field: FieldOut, text: string): Parsed {
  const kind = editorKind(field);
  const raw = kind === "longText" ? text : text.trim();
  if (raw === "") return ok(null);
  switch (kind) {
    case "number":
      return parseNumber(field, raw);
    case "email":
      return EMAIL.test(raw) ? ok(raw) : refuse(`“${raw}” is not an email address.`);
    case "url":
      return parseUrl(raw);
    case "phone":
      return PHONE.test(raw) && raw.replace(/\D/g, "").length >= 5 ? ok(raw) : refuse(`“${raw}” is not a phone number.`);
    case "date":
      return parseDate(raw);
    case "dateTime":
      return parseDateTime(field, raw);
    case "singleSelect":
      return choicesOf(field).some((c) => c.name === raw) ? ok(raw) : refuse(`“${raw}” is not one of ${field.name}'s choices.`);
    default:
      return ok(raw);
  }
}

function parseNumber(field: FieldOut, raw: string): Parsed {
  const symbol = typeof field.options?.symbol === "string" ? field.options.symbol : "";
  let text = raw.replace(/[\s,]/g, "");
  if (symbol && text.includes(symbol)) text = text.replace(symbol, "");
  if (field.type === "percent") text = text.replace(/%$/, "");
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) return refuse(`“${raw}” is not a number.`);
  const typed = Number(text);
  if (field.type === "rating") {
    const max = Number(field.options?.max) || 5;
    if (!Number.isInteger(typed) || typed < 0 || typed > max) return refuse(`${field.name} is a rating from 1 to ${max}.`);
    return ok(typed || null);
  }
  // Airtable keeps the field's precision (for a percent, of the percentage shown): more
  // decimals would be rounded away silently, so they are refused instead.
  const places = precisionOf(field);
  if ((String(typed).split(".")[1] ?? "").length > places) return refuse(places === 0 ? `${field.name} takes whole numbers.` : `${field.name} takes at most ${places} decimal places.`);
  return ok(field.type === "percent" ? Number((typed / 100).toFixed(places + 2)) : typed);
}

function parseUrl(raw: string): Parsed {
  const candidate = /^[a-z][a-z\d+.-]*:/i.test(raw) ? raw : `https://${raw}`;
  try {
    const url = new URL(candidate);
    if ((url.protocol === "http:" || url.protocol === "https:") && url.hostname.includes(".")) return ok(raw);
    if (url.protocol === "mailto:") return ok(raw);
  } catch {
    /* refused below */
  }
  return refuse(`“${raw}” is not a web address.`);
}

function parseDate(raw: string): Parsed {
  const m = ISO_DATE.exec(raw);
  if (m) {
    const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
    if (d.getUTCMonth() === Number(m[2]) - 1) return ok(raw);
  }
  return refuse(`“${raw}” is not a date (YYYY-MM-DD).`);
}

const utc = (field: FieldOut) => field.options?.timeZone === "utc";

function parseDateTime(field: FieldOut, raw: string): Parsed {
  const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?$/.exec(raw);
  if (!m || !parseDate(m[1]).ok || Number(m[2]) > 23 || Number(m[3]) > 59) return refuse(`“${raw}” is not a date and time.`);
  const local = `${m[1]}T${m[2]}:${m[3]}:${m[4] ?? "00"}`;
  const moment = new Date(utc(field) ? `${local}Z` : local);
  return Number.isNaN(moment.getTime()) ? refuse(`“${raw}” is not a date and time.`) : ok(moment.toISOString().replace(".000Z", "Z"));
}

const pad = (n: number) => String(n).padStart(2, "0");
const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

/** A date value (YYYY-MM-DD) in the field's date format. */
function formatDate(field: FieldOut, iso: string): string {
  const m = ISO_DATE.exec(iso.slice(0, 10));
  if (!m) return iso;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const name = (field.options?.dateFormat as { name?: string } | undefined)?.name ?? "iso";
  if (name === "us" || name === "local") return `${mo}/${d}/${y}`;
  if (name === "european") return `${d}/${mo}/${y}`;
  if (name === "friendly") return `${MONTHS[mo - 1]} ${d}, ${y}`;
  return `${m[1]}-${m[2]}-${m[3]}`;
}

/** A dateTime value as the `YYYY-MM-DDTHH:mm` a datetime input holds, in the field's zone. */
function dateTimeInput(field: FieldOut, value: string): string {
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return value;
  return utc(field)
    ? `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`
    : `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function formatNumber(field: FieldOut, n: number): string {
  const places = precisionOf(field);
  const fixed = (v: number) => v.toLocaleString("en-US", { minimumFractionDigits: places, maximumFractionDigits: places });
  if (field.type === "percent") return `${fixed(n * 100)}%`;
  if (field.type === "currency") {
    const symbol = typeof field.options?.symbol === "string" ? field.options.symbol : "$";
    return n < 0 ? `-${symbol}${fixed(-n)}` : `${symbol}${fixed(n)}`;
  }
  if (field.type === "rating" || field.type === "duration") return String(n);
  return fixed(n);
}

/** The text a cell shows for a value. */
export function formatValue(field: FieldOut, value: unknown): string {
  if (value === null || value === undefined || value === "") return "";
  const kind = editorKind(field);
  if (kind === "checkbox") return value ? "Checked" : "";
  if (kind === "number" && typeof value === "number") return formatNumber(field, value);
  if (kind === "date" && typeof value === "string") return formatDate(field, value);
  if (kind === "dateTime" && typeof value === "string") return `${formatDate(field, dateTimeInput(field, value).slice(0, 10))} ${dateTimeInput(field, value).slice(11)}`;
  if (Array.isArray(value)) return value.map((v) => (typeof v === "object" && v ? String((v as { name?: string; filename?: string; id?: string }).name ?? (v as { filename?: string }).filename ?? (v as { id?: string }).id) : String(v))).join(", ");
  if (typeof value === "object") return String((value as { name?: string }).name ?? JSON.stringify(value));
  return String(value);
}

/** The text an editor starts with for a value (what parseText reads back unchanged). */
export function editText(field: FieldOut, value: unknown): string {
  if (value === null || value === undefined) return "";
  const kind = editorKind(field);
  if (kind === "number" && typeof value === "number") {
    const n = field.type === "percent" ? Number((value * 100).toFixed(precisionOf(field))) : value;
    return String(n);
  }
  if (kind === "dateTime" && typeof value === "string") return dateTimeInput(field, value);
  if (kind === "date" && typeof value === "string") return value.slice(0, 10);
  return typeof value === "string" ? value : formatValue(field, value);
}

/** A multiple-select value with one choice added or removed (only the field's choices). */
export function toggleChoice(field: FieldOut, value: unknown, name: string): string[] {
  const chosen = Array.isArray(value) ? (value as string[]) : [];
  if (!choicesOf(field).some((c) => c.name === name)) return chosen;
  return chosen.includes(name) ? chosen.filter((v) => v !== name) : [...chosen, name];
}

/** Two cell values are the same (lists and objects by content). */
export function sameValue(a: unknown, b: unknown): boolean {
  const blank = (v: unknown) => v === null || v === undefined || v === "" || v === false || (Array.isArray(v) && v.length === 0);
  if (blank(a) && blank(b)) return true;
  return JSON.stringify(a) === JSON.stringify(b);
}

// Airtable's choice colours (hue + Light1/Light2, Bright, Dark1) as pill colours with AA contrast.
const HUES: Record<string, [string, string, string]> = {
  blue: ["#d0e4ff", "#2563eb", "#0b3a8a"], cyan: ["#c9f1f7", "#0e7490", "#0b4f61"], teal: ["#c5f0e4", "#0f766e", "#0b4b45"],
  green: ["#d1f2d9", "#15803d", "#0f4d27"], yellow: ["#fdf0b8", "#a16207", "#5c3b00"], orange: ["#fde0c5", "#c2410c", "#6b2408"],
  red: ["#fdd8d8", "#b91c1c", "#6e1212"], pink: ["#fbd7ec", "#be185d", "#6d0f38"], purple: ["#e6dcfb", "#7e22ce", "#45136f"],
  gray: ["#e5e7eb", "#4b5563", "#1f2937"],
};
const HUE_ORDER = Object.keys(HUES);

/** Background and text colour of a choice's pill (a choice without a colour gets one by position). */
export function choiceColors(choice: Choice | undefined, index = 0): { background: string; color: string } {
  const name = choice?.color ?? "";
  const hue = HUE_ORDER.find((h) => name.startsWith(h)) ?? HUE_ORDER[index % HUE_ORDER.length];
  const [light, bright, dark] = HUES[hue];
  if (name.includes("Bright") || name.includes("Dark")) return { background: name.includes("Dark") ? dark : bright, color: "#ffffff" };
  return { background: light, color: dark };
}
