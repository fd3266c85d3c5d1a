// CodeMirror 6 support for the Logs Insights language: highlighting (a stream tokenizer),
// completion of commands, functions and the log groups' discovered fields, and the
// server's diagnostics shown under the offending span.

import { autocompletion, type Completion, type CompletionContext, type CompletionResult } from "@codemirror/autocomplete";
import { HighlightStyle, StreamLanguage, syntaxHighlighting, type StringStream } from "@codemirror/language";
import { type Diagnostic, setDiagnostics } from "@codemirror/lint";
import { type EditorState, type Extension, StateEffect, StateField, type Text } from "@codemirror/state";
import { Decoration, type DecorationSet, EditorView, WidgetType } from "@codemirror/view";
import { tags as t } from "@lezer/highlight";
import { COMMANDS, FUNCTIONS } from "./catalog.gen";

const COMMAND_WORDS = new Set(COMMANDS.flatMap((c) => [c.name.toLowerCase(), ...c.aliases.map((a) => a.toLowerCase())]));
const FUNCTION_WORDS = new Set(FUNCTIONS.flatMap((f) => [f.name.toLowerCase(), ...f.aliases.map((a) => a.toLowerCase())]));
const OPERATOR_WORDS = new Set(["and", "or", "not", "like", "in", "as", "by", "asc", "desc", "with", "on", "using"]);
const CONSTANTS = new Set(["true", "false", "null"]);

interface State {
  /** At the start of a stage (after `|` or at the beginning): the next word is a command. */
  atCommand: boolean;
  /** The previous token allows a regex literal next (`like /x/`, `parse @message /…/`). */
  regexOk: boolean;
}

function token(stream: StringStream, state: State): string | null {
  if (stream.eatSpace()) return null;
  const ch = stream.peek();
  if (ch === "#") {
    stream.skipToEnd();
    return "comment";
  }
  if (ch === "|") {
    stream.next();
    state.atCommand = true;
    state.regexOk = false;
    return "separator";
  }
  const wasCommand = state.atCommand;
  state.atCommand = false;
  if (ch === '"' || ch === "'") {
    stream.next();
    let escaped = false;
    let c: string | void;
    while ((c = stream.next()) !== undefined) {
      if (c === ch && !escaped) break;
      escaped = !escaped && c === "\\";
    }
    state.regexOk = false;
    return "string";
  }
  if (ch === "`") {
    stream.next();
    stream.skipTo("`") ? stream.next() : stream.skipToEnd();
    state.regexOk = false;
    return "variableName";
  }
  if (ch === "/" && state.regexOk) {
    stream.next();
    let escaped = false;
    let c: string | void;
    while ((c = stream.next()) !== undefined) {
      if (c === "/" && !escaped) break;
      escaped = !escaped && c === "\\";
    }
    stream.match(/^[a-z]*/);
    state.regexOk = false;
    return "regexp";
  }
  if (stream.match(/^-?\d+(\.\d+)?([eE][+-]?\d+)?(ms|s|m|h|d|w|mo|q|y|sec|min|hr|second|minute|hour|day|week|month|quarter|year)?s?\b/i)) {
    state.regexOk = false;
    return "number";
  }
  if (stream.match(/^@?[A-Za-z_$][\w$.@-]*/)) {
    const word = stream.current();
    const lower = word.toLowerCase();
    state.regexOk = lower === "like" || lower === "parse" || lower === "not" || lower === "in";
    if (wasCommand && COMMAND_WORDS.has(lower)) {
      state.regexOk = lower === "parse" || lower === "filter" || lower === "where";
      return "keyword";
    }
    if (OPERATOR_WORDS.has(lower)) return "operatorKeyword";
    if (CONSTANTS.has(lower)) return "atom";
    if (stream.peek() === "(" && FUNCTION_WORDS.has(lower)) return "function";
    if (word.startsWith("@")) return "special";
    return "variableName";
  }
  if (stream.match(/^(=~|!=|<=|>=|==|[=<>+\-*%^!])/)) {
    state.regexOk = stream.current() === "=~";
    return "operator";
  }
  const c = stream.next();
  state.regexOk = c === "(" || c === ",";
  return c === "(" || c === ")" || c === "[" || c === "]" ? "bracket" : "punctuation";
}

/** The Insights language for CodeMirror. */
export const insightsLanguage = StreamLanguage.define<State>({
  name: "logs-insights",
  startState: () => ({ atCommand: true, regexOk: false }),
  token,
  copyState: (s) => ({ ...s }),
  tokenTable: {
    separator: t.separator,
    special: t.special(t.variableName),
    function: t.function(t.variableName),
  },
  languageData: { commentTokens: { line: "#" } },
});

export const insightsHighlight = HighlightStyle.define([
  { tag: t.keyword, color: "#7a3e9d", fontWeight: "600" },
  { tag: t.operatorKeyword, color: "#7a3e9d" },
  { tag: t.function(t.variableName), color: "#1f5fbf" },
  { tag: t.special(t.variableName), color: "#a0522d" },
  { tag: t.variableName, color: "#1d2733" },
  { tag: t.string, color: "#2c7a3f" },
  { tag: t.regexp, color: "#b3401e" },
  { tag: t.number, color: "#0b7f86" },
  { tag: t.atom, color: "#0b7f86" },
  { tag: t.comment, color: "#7b8794", fontStyle: "italic" },
  { tag: t.separator, color: "#c8334b", fontWeight: "700" },
  { tag: t.operator, color: "#5b6b7f" },
]);

/** A discovered field of the selected log groups (GetLogGroupFields). */
export interface FieldInfo {
  name: string;
  percent: number;
}

/** Quotes a field name with backticks when it is not a plain identifier path. */
export function fieldRef(name: string): string {
  return /^@?[A-Za-z_$][\w$.@-]*$/.test(name) ? name : `\`${name.replace(/`/g, "``")}\``;
}

function stageStart(state: EditorState, pos: number): number {
  // The text of the current stage: from after the last `|` outside quotes/comments.
  const text = state.doc.sliceString(0, pos);
  let start = 0;
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === "\\") i++;
      else if (c === quote) quote = null;
    } else if (c === '"' || c === "'" || c === "`") quote = c;
    else if (c === "#") {
      const nl = text.indexOf("\n", i);
      if (nl < 0) break;
      i = nl;
    } else if (c === "|") start = i + 1;
  }
  return start;
}

/** The completion source; `fields()` gives the current log groups' discovered fields. */
export function insightsCompletion(fields: () => FieldInfo[]): Extension {
  const commandOptions: Completion[] = COMMANDS.map((c) => ({
    label: c.name,
    type: "keyword",
    detail: c.aliases.length ? `(${c.aliases.join(", ")})` : undefined,
    info: c.summary,
    apply: `${c.name} `,
    boost: ["fields", "filter", "stats", "sort", "limit", "parse", "display"].includes(c.name) ? 10 : 0,
  }));
  const functionOptions: Completion[] = FUNCTIONS.map((f) => ({
    label: f.name,
    type: "function",
    detail: f.kind === "Scalar" ? `${f.spec}` : `${f.kind.toLowerCase()} · ${f.spec}`,
    info: `${f.name}(${arity(f.min, f.max)})`,
    apply: `${f.name}(`,
  }));
  const keywordOptions: Completion[] = ["by", "as", "and", "or", "not", "like", "in", "asc", "desc"].map((k) => ({
    label: k,
    type: "keyword",
    boost: -5,
  }));
  const source = (ctx: CompletionContext): CompletionResult | null => {
    const word = ctx.matchBefore(/[@\w$.`-]*/);
    if (!word) return null;
    if (word.from === word.to && !ctx.explicit) return null;
    const before = ctx.state.doc.sliceString(stageStart(ctx.state, word.from), word.from);
    if (/^\s*$/.test(before)) {
      return { from: word.from, options: commandOptions, validFor: /^\w*$/ };
    }
    const fieldOptions: Completion[] = fields().map((f) => ({
      label: fieldRef(f.name),
      type: "variable",
      detail: `${f.percent}%`,
      boost: f.name.startsWith("@") ? 5 : 0,
    }));
    return { from: word.from, options: [...fieldOptions, ...functionOptions, ...keywordOptions], validFor: /^[@\w$.`-]*$/ };
  };
  return autocompletion({ override: [source], activateOnTyping: true, maxRenderedOptions: 200 });
}

function arity(min: number, max: number | null): string {
  if (max === null) return min === 0 ? "…" : `${min}+ args`;
  if (min === max) return `${min} arg${min === 1 ? "" : "s"}`;
  return `${min}–${max} args`;
}

// ---- diagnostics from the server ----

/** A diagnostic from the server: character offsets (code points) into the query. */
export interface ServerDiagnostic {
  startChar: number;
  endChar: number;
  message: string;
}

/** Converts a code-point offset into a UTF-16 offset of `text`. */
export function charToUtf16(text: string, charOffset: number): number {
  let i = 0;
  let chars = 0;
  while (i < text.length && chars < charOffset) {
    const c = text.charCodeAt(i);
    i += c >= 0xd800 && c <= 0xdbff && i + 1 < text.length ? 2 : 1;
    chars++;
  }
  return i;
}

const setServerDiagnostics = StateEffect.define<{ from: number; to: number; message: string }[]>();

class DiagnosticWidget extends WidgetType {
  constructor(
    readonly column: number,
    readonly width: number,
    readonly message: string,
  ) {
    super();
  }
  eq(o: DiagnosticWidget) {
    return o.column === this.column && o.width === this.width && o.message === this.message;
  }
  toDOM() {
    const box = document.createElement("div");
    box.className = "cm-inline-diagnostic";
    box.setAttribute("data-testid", "inline-diagnostic");
    const caret = document.createElement("div");
    caret.className = "cm-inline-caret";
    caret.textContent = " ".repeat(this.column) + "^".repeat(Math.max(1, this.width));
    const msg = document.createElement("div");
    msg.className = "cm-inline-message";
    msg.style.paddingLeft = `${this.column}ch`;
    msg.textContent = this.message;
    box.append(caret, msg);
    return box;
  }
}

function widgets(doc: Text, diags: { from: number; to: number; message: string }[]): DecorationSet {
  const ranges = diags
    .filter((d) => d.from <= doc.length)
    .map((d) => {
      const line = doc.lineAt(Math.min(d.from, doc.length));
      const col = d.from - line.from;
      const width = Math.max(1, Math.min(d.to, line.to) - d.from);
      return Decoration.widget({ widget: new DiagnosticWidget(col, width, d.message), block: true, side: 1 }).range(line.to);
    })
    .sort((a, b) => a.from - b.from);
  return Decoration.set(ranges);
}

const inlineDiagnostics = StateField.define<DecorationSet>({
  create: () => Decoration.none,
  update(value, tr) {
    for (const e of tr.effects) if (e.is(setServerDiagnostics)) return widgets(tr.state.doc, e.value);
    return tr.docChanged ? Decoration.none : value;
  },
  provide: (f) => EditorView.decorations.from(f),
});

/** The extension that shows server diagnostics inline. */
export function diagnosticsExtension(): Extension {
  return [
    inlineDiagnostics,
    // Clear the lint marks once the text changes: they described the old text.
    EditorView.updateListener.of((u) => {
      if (u.docChanged && u.state.field(inlineDiagnostics).size === 0 && (u.startState.field(inlineDiagnostics).size > 0)) {
        u.view.dispatch(setDiagnostics(u.state, []));
      }
    }),
  ];
}

/** Shows `diags` (from the server) on `view`: underlined span, message under it. */
export function showDiagnostics(view: EditorView, diags: ServerDiagnostic[]): void {
  const text = view.state.doc.toString();
  const ranges = diags.map((d) => {
    const from = Math.min(charToUtf16(text, d.startChar), text.length);
    let to = Math.min(charToUtf16(text, d.endChar), text.length);
    if (to <= from) to = Math.min(text.length, from + 1);
    return { from, to, message: d.message };
  });
  const lint: Diagnostic[] = ranges.map((r) => ({ from: r.from, to: Math.max(r.to, r.from), severity: "error", message: r.message, source: "server" }));
  view.dispatch(setDiagnostics(view.state, lint));
  view.dispatch({ effects: setServerDiagnostics.of(ranges) });
}

/** Removes diagnostics. */
export function clearDiagnostics(view: EditorView): void {
  view.dispatch(setDiagnostics(view.state, []));
  view.dispatch({ effects: setServerDiagnostics.of([]) });
}

/** Highlighting + language. */
export function insightsSupport(): Extension {
  return [insightsLanguage, syntaxHighlighting(insightsHighlight)];
}
