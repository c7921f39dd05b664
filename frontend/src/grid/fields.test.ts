import { describe, expect, it } from "vitest";
import type { FieldOut } from "../api/types";
import { choiceColors, editText, editorKind, formatValue, isWritable, parseText, sameValue, toggleChoice } from "./fields";

const field = (type: string, options?: Record<string, unknown>, name = "F"): FieldOut => ({ id: `fld${name}`, name, type, options });
const value = (f: FieldOut, text: string) => {
  const parsed = parseText(f, text);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value;
};
const refusal = (f: FieldOut, text: string) => {
  const parsed = parseText(f, text);
  return parsed.ok ? null : parsed.error;
};

describe("text editor (singleLineText)", () => {
  const f = field("singleLineText");
  it("keeps the text trimmed and empties on blank", () => {
    expect(value(f, "  Ada ")).toBe("Ada");
    expect(value(f, "   ")).toBeNull();
    expect(editText(f, "Ada")).toBe("Ada");
  });
});

describe("long text editor (multilineText)", () => {
  const f = field("multilineText");
  it("keeps line breaks and spaces as typed", () => {
    expect(editorKind(f)).toBe("longText");
    expect(value(f, "line one\n  line two")).toBe("line one\n  line two");
  });
});

describe("number editor (number, currency, percent)", () => {
  const score = field("number", { precision: 0 }, "Score");
  const amount = field("currency", { precision: 2, symbol: "$" }, "Amount");
  const share = field("percent", { precision: 1 }, "Share");
  it("refuses a typo with a sentence instead of sending it", () => {
    expect(refusal(score, "4O")).toBe("“4O” is not a number.");
    expect(refusal(amount, "12,5x")).toBe("“12,5x” is not a number.");
  });
  it("keeps the field's precision", () => {
    expect(value(score, "42")).toBe(42);
    expect(refusal(score, "4.5")).toBe("Score takes whole numbers.");
    expect(value(amount, "$1,234.5")).toBe(1234.5);
    expect(refusal(amount, "1.234")).toBe("Amount takes at most 2 decimal places.");
  });
  it("reads and shows a percent as Airtable stores it (a fraction)", () => {
    expect(value(share, "12.5%")).toBe(0.125);
    expect(formatValue(share, 0.125)).toBe("12.5%");
    expect(editText(share, 0.125)).toBe("12.5");
  });
  it("formats with the field's precision and symbol", () => {
    expect(formatValue(amount, 99999.99)).toBe("$99,999.99");
    expect(formatValue(amount, 100)).toBe("$100.00");
    expect(formatValue(score, 1234)).toBe("1,234");
  });
});

describe("checkbox editor", () => {
  const f = field("checkbox");
  it("is toggled, not typed, and shows its state", () => {
    expect(editorKind(f)).toBe("checkbox");
    expect(formatValue(f, true)).toBe("Checked");
    expect(sameValue(false, undefined)).toBe(true);
  });
});

describe("single select editor", () => {
  const f = field("singleSelect", { choices: [{ name: "Lead", color: "blueLight2" }, { name: "Customer", color: "greenBright" }] }, "Status");
  it("takes only the field's choices", () => {
    expect(value(f, "Customer")).toBe("Customer");
    expect(refusal(f, "Leed")).toBe("“Leed” is not one of Status's choices.");
  });
  it("colours pills from the choice's colour with readable text", () => {
    expect(choiceColors({ name: "Lead", color: "blueLight2" })).toEqual({ background: "#d0e4ff", color: "#0b3a8a" });
    expect(choiceColors({ name: "Customer", color: "greenBright" }).color).toBe("#ffffff");
  });
});

describe("multiple select editor", () => {
  const f = field("multipleSelects", { choices: [{ name: "a" }, { name: "b" }] });
  it("adds and removes choices, never a name outside them", () => {
    expect(toggleChoice(f, ["a"], "b")).toEqual(["a", "b"]);
    expect(toggleChoice(f, ["a", "b"], "a")).toEqual(["b"]);
    expect(toggleChoice(f, ["a"], "typo")).toEqual(["a"]);
    expect(formatValue(f, ["a", "b"])).toBe("a, b");
  });
});

describe("date editor", () => {
  const f = field("date", { dateFormat: { name: "european" } });
  it("takes ISO dates, refuses impossible ones, shows the field's format", () => {
    expect(value(f, "2024-02-29")).toBe("2024-02-29");
    expect(refusal(f, "2023-02-29")).toBe("“2023-02-29” is not a date (YYYY-MM-DD).");
    expect(formatValue(f, "2024-03-05")).toBe("5/3/2024");
    expect(formatValue(field("date", { dateFormat: { name: "friendly" } }), "2024-03-05")).toBe("March 5, 2024");
  });
});

describe("dateTime editor", () => {
  const f = field("dateTime", { timeZone: "utc", dateFormat: { name: "iso" } });
  it("reads a date and time in the field's zone and writes an ISO timestamp", () => {
    expect(value(f, "2024-03-05 14:30")).toBe("2024-03-05T14:30:00Z");
    expect(editText(f, "2024-03-05T14:30:00.000Z")).toBe("2024-03-05T14:30");
    expect(formatValue(f, "2024-03-05T14:30:00.000Z")).toBe("2024-03-05 14:30");
    expect(refusal(f, "2024-03-05 25:00")).toBe("“2024-03-05 25:00” is not a date and time.");
  });
});

describe("email, url and phone editors", () => {
  it("validates what is typed", () => {
    expect(value(field("email"), "ada@analytical.io")).toBe("ada@analytical.io");
    expect(refusal(field("email"), "ada@")).toBe("“ada@” is not an email address.");
    expect(value(field("url"), "example.com/x")).toBe("example.com/x");
    expect(refusal(field("url"), "not a url")).toBe("“not a url” is not a web address.");
    expect(value(field("phoneNumber"), "+44 20 7946 0958")).toBe("+44 20 7946 0958");
    expect(refusal(field("phoneNumber"), "call me")).toBe("“call me” is not a phone number.");
  });
});

describe("linked records, attachments and computed fields", () => {
  it("links are picked, attachments shown, computed fields read-only", () => {
    expect(editorKind(field("multipleRecordLinks"))).toBe("links");
    expect(isWritable(field("multipleRecordLinks"))).toBe(true);
    expect(isWritable(field("multipleAttachments"))).toBe(false);
    expect(formatValue(field("multipleAttachments"), [{ filename: "a.png", url: "u" }])).toBe("a.png");
    for (const type of ["formula", "rollup", "count", "lookup", "autoNumber", "createdTime", "lastModifiedBy"]) expect(isWritable(field(type))).toBe(false);
  });
});
