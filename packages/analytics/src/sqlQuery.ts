import { DpnError } from "@dpn/protocol";
import { ANALYTICS_QUERY_INVALID, ANALYTICS_QUERY_REJECTED } from "./errors.ts";
import {
  AGGREGATE_FUNCTIONS,
  type AggregateFunction,
  COMPARISON_OPS,
  type ComparisonOp,
  parseQuerySpec,
  type QuerySpec,
} from "./querySpec.ts";

/**
 * Accepts SQL text for the same restricted query, by parsing it into a QuerySpec: the text itself
 * never reaches DuckDB, only the spec compiled back by compile.ts. The grammar is the whole
 * whitelist:
 *
 *   SELECT item {, item} FROM fragment [WHERE pred {AND pred}] [GROUP BY col {, col}]
 *   item := col | agg "(" ("*" | col) ")" [[AS] name]     agg := count | sum | min | max | avg
 *   pred := col op literal     op := = | != | <> | < | <= | > | >=
 *   literal := 'string' | [-]number | TRUE | FALSE
 *
 * Anything that could write or reach outside the fragment (another statement, a semicolon, a
 * comment, a function other than the five aggregates, a table other than `fragment`, a file
 * path, a subquery) is refused with ANALYTICS_QUERY_REJECTED; other departures from the grammar
 * with ANALYTICS_QUERY_INVALID.
 */

/** Longer SQL than this is not a restricted aggregate query. */
export const MAX_SQL_LENGTH = 16_384;

/** Statement and clause keywords that never belong in a query here, even as bare column names. */
const FORBIDDEN_KEYWORDS = new Set([
  "alter",
  "analyze",
  "attach",
  "begin",
  "call",
  "checkpoint",
  "commit",
  "copy",
  "create",
  "deallocate",
  "delete",
  "describe",
  "detach",
  "drop",
  "except",
  "execute",
  "explain",
  "export",
  "grant",
  "import",
  "insert",
  "install",
  "intersect",
  "join",
  "load",
  "merge",
  "pivot",
  "pragma",
  "prepare",
  "reset",
  "revoke",
  "rollback",
  "set",
  "show",
  "summarize",
  "truncate",
  "union",
  "unpivot",
  "update",
  "use",
  "vacuum",
  "values",
  "with",
]);

/** Functions that read files or other databases: refused with a hint of their own. */
const FILE_READERS =
  /^(read_|parquet_|sniff_csv|glob$|iceberg_|delta_scan|sqlite_|postgres_|mysql_)/;

const RESERVED = new Set(["select", "from", "where", "group", "by", "and", "or", "as", "not"]);

type Token =
  | { readonly kind: "word"; readonly text: string; readonly at: number }
  | { readonly kind: "quoted"; readonly text: string; readonly at: number }
  | { readonly kind: "string"; readonly text: string; readonly at: number }
  | { readonly kind: "number"; readonly text: string; readonly at: number }
  | { readonly kind: "punct"; readonly text: string; readonly at: number };

function rejected(
  message: string,
  reason: string,
  details: Record<string, unknown> = {},
): DpnError {
  return new DpnError(ANALYTICS_QUERY_REJECTED, message, {
    hint: "A query may only aggregate (count, sum, min, max, avg) the table `fragment`; it cannot write, read files or run other statements.",
    details: { reason, ...details },
  });
}

function invalid(message: string, at: number): DpnError {
  return new DpnError(ANALYTICS_QUERY_INVALID, message, {
    hint: "Write SELECT <columns and aggregates> FROM fragment [WHERE col op literal AND …] [GROUP BY cols], or send a QuerySpec.",
    details: { at },
  });
}

function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < sql.length) {
    const c = sql[i] as string;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === ";") throw rejected("The SQL contains a semicolon.", "semicolon", { at: i });
    if (sql.startsWith("--", i) || sql.startsWith("/*", i)) {
      throw rejected("The SQL contains a comment.", "comment", { at: i });
    }
    if (c === "$" || c === "?") {
      throw rejected(`The SQL contains "${c}" (dollar quoting or a parameter).`, "syntax", {
        at: i,
      });
    }
    if (c === "'" || c === '"') {
      const start = i;
      let text = "";
      i++;
      for (;;) {
        if (i >= sql.length)
          throw invalid(`Unterminated ${c === "'" ? "string" : "quoted identifier"}.`, start);
        const d = sql[i] as string;
        if (d === c) {
          if (sql[i + 1] === c) {
            text += c;
            i += 2;
            continue;
          }
          i++;
          break;
        }
        text += d;
        i++;
      }
      if (text.includes("\u0000")) throw invalid("NUL inside a quoted token.", start);
      tokens.push({ kind: c === "'" ? "string" : "quoted", text, at: start });
      continue;
    }
    const number = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/.exec(sql.slice(i, i + 64));
    if (number !== null) {
      tokens.push({ kind: "number", text: number[0], at: i });
      i += number[0].length;
      continue;
    }
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(sql.slice(i, i + 256));
    if (word !== null) {
      const lower = word[0].toLowerCase();
      if (FORBIDDEN_KEYWORDS.has(lower)) {
        throw rejected(`"${word[0]}" is not allowed in an analytics query.`, "statement", {
          keyword: lower,
          at: i,
        });
      }
      tokens.push({ kind: "word", text: word[0], at: i });
      i += word[0].length;
      continue;
    }
    const punct = ["!=", "<>", "<=", ">=", "(", ")", ",", "*", "=", "<", ">", "-", "."].find((p) =>
      sql.startsWith(p, i),
    );
    if (punct === undefined) throw invalid(`Unexpected character ${JSON.stringify(c)}.`, i);
    tokens.push({ kind: "punct", text: punct, at: i });
    i += punct.length;
  }
  return tokens;
}

class Parser {
  private index = 0;
  constructor(
    private readonly tokens: readonly Token[],
    private readonly length: number,
  ) {}

  peek(offset = 0): Token | undefined {
    return this.tokens[this.index + offset];
  }

  at(): number {
    return this.peek()?.at ?? this.length;
  }

  next(): Token {
    const token = this.peek();
    if (token === undefined) throw invalid("The query ends too early.", this.length);
    this.index++;
    return token;
  }

  isKeyword(word: string, offset = 0): boolean {
    const token = this.peek(offset);
    return token?.kind === "word" && token.text.toLowerCase() === word;
  }

  isPunct(text: string, offset = 0): boolean {
    const token = this.peek(offset);
    return token?.kind === "punct" && token.text === text;
  }

  expectKeyword(word: string): void {
    if (!this.isKeyword(word)) {
      throw invalid(`Expected ${word.toUpperCase()}.`, this.at());
    }
    this.index++;
  }

  expectPunct(text: string): void {
    if (!this.isPunct(text)) throw invalid(`Expected "${text}".`, this.at());
    this.index++;
  }

  done(): boolean {
    return this.index >= this.tokens.length;
  }

  /** A column name: a bare identifier that is not a keyword, or a "quoted" one. */
  identifier(what: string): string {
    const token = this.next();
    if (token.kind === "quoted") {
      if (this.isPunct("(")) {
        throw rejected("Quoted function names are not allowed.", "function", { at: token.at });
      }
      return token.text;
    }
    if (token.kind === "word" && !RESERVED.has(token.text.toLowerCase())) {
      if (this.isPunct("(")) throw functionRejected(token.text, token.at);
      return token.text;
    }
    throw invalid(`Expected ${what}.`, token.at);
  }
}

function functionRejected(name: string, at: number): DpnError {
  const lower = name.toLowerCase();
  if (FILE_READERS.test(lower)) {
    return rejected(`${name}() reads files; a query may read only its fragment.`, "reads-files", {
      function: lower,
      at,
    });
  }
  return rejected(
    `${name}() is not allowed; only ${AGGREGATE_FUNCTIONS.join(", ")} are.`,
    "function",
    { function: lower, at },
  );
}

type RawItem =
  | { readonly kind: "key"; readonly column: string; readonly at: number }
  | {
      readonly kind: "aggregate";
      readonly fn: AggregateFunction;
      readonly column?: string;
      readonly as?: string;
    };

function parseItem(p: Parser): RawItem {
  const token = p.peek();
  if (token === undefined) throw invalid("Expected a select item.", p.at());
  if (token.kind === "punct" && token.text === "*") {
    throw invalid("SELECT * is not an aggregate; name aggregates and group columns.", token.at);
  }
  if (token.kind === "word" && p.isPunct("(", 1)) {
    const lower = token.text.toLowerCase();
    if (!(AGGREGATE_FUNCTIONS as readonly string[]).includes(lower)) {
      throw functionRejected(token.text, token.at);
    }
    p.next();
    p.expectPunct("(");
    if (p.isKeyword("distinct") || p.isKeyword("all")) {
      throw rejected(
        `${lower}(DISTINCT …) cannot be merged across fragments.`,
        "not-decomposable",
        { at: token.at },
      );
    }
    let column: string | undefined;
    if (p.isPunct("*")) {
      if (lower !== "count") throw invalid(`${lower}(*) is meaningless; name a column.`, p.at());
      p.next();
    } else {
      column = p.identifier("a column inside the aggregate");
    }
    p.expectPunct(")");
    let as: string | undefined;
    if (p.isKeyword("as")) {
      p.next();
      as = p.identifier("an output name after AS");
    } else if (p.peek()?.kind === "quoted" || (p.peek()?.kind === "word" && !p.isKeyword("from"))) {
      as = p.identifier("an output name");
    }
    return {
      kind: "aggregate",
      fn: lower as AggregateFunction,
      ...(column === undefined ? {} : { column }),
      ...(as === undefined ? {} : { as }),
    };
  }
  const at = p.at();
  const column = p.identifier("a column or an aggregate");
  if (p.isKeyword("as") || p.peek()?.kind === "quoted") {
    throw invalid("Group columns keep their own names; AS applies to aggregates.", p.at());
  }
  return { kind: "key", column, at };
}

function parseTable(p: Parser): void {
  const token = p.next();
  if (token.kind === "punct" && token.text === "(") {
    throw rejected("Subqueries are not allowed.", "subquery", { at: token.at });
  }
  if (token.kind === "string") {
    throw rejected(
      `FROM '${token.text}' reads a file; a query may read only its fragment.`,
      "reads-files",
      {
        at: token.at,
      },
    );
  }
  if (token.kind === "word" && p.isPunct("(")) throw functionRejected(token.text, token.at);
  const name = token.kind === "word" || token.kind === "quoted" ? token.text : "";
  if (name.toLowerCase() !== "fragment" || p.isPunct(".")) {
    throw rejected(`The only table is \`fragment\`, got ${JSON.stringify(name)}.`, "table", {
      at: token.at,
    });
  }
}

function parseLiteral(p: Parser): string | number | boolean {
  const negative = p.isPunct("-");
  if (negative) p.next();
  const token = p.next();
  if (token.kind === "number") {
    const value = Number(token.text);
    if (!Number.isFinite(value)) throw invalid(`${token.text} is not a finite number.`, token.at);
    return negative ? -value : value;
  }
  if (negative) throw invalid("Expected a number after -.", token.at);
  if (token.kind === "string") return token.text;
  if (token.kind === "word") {
    const lower = token.text.toLowerCase();
    if (lower === "true") return true;
    if (lower === "false") return false;
    if (p.isPunct("(")) throw functionRejected(token.text, token.at);
  }
  throw invalid("Expected a literal ('text', a number, TRUE or FALSE).", token.at);
}

function parseOp(p: Parser): ComparisonOp {
  const token = p.next();
  const text = token.kind === "punct" && token.text === "<>" ? "!=" : token.text;
  if (token.kind !== "punct" || !(COMPARISON_OPS as readonly string[]).includes(text)) {
    throw invalid("Expected a comparison (= != <> < <= > >=).", token.at);
  }
  return text as ComparisonOp;
}

/**
 * Parses SQL text of the restricted grammar into a validated QuerySpec. Group columns listed in
 * SELECT must appear in GROUP BY; results list group columns first, then aggregates.
 */
export function parseSqlQuery(sql: string): QuerySpec {
  if (typeof sql !== "string" || sql.length === 0 || sql.length > MAX_SQL_LENGTH) {
    throw new DpnError(
      ANALYTICS_QUERY_INVALID,
      `SQL must be a string of 1 to ${MAX_SQL_LENGTH} characters.`,
      { hint: "Send one SELECT statement." },
    );
  }
  const tokens = tokenize(sql);
  const p = new Parser(tokens, sql.length);
  if (!p.isKeyword("select")) {
    throw rejected("Only a SELECT statement is allowed.", "statement", { at: p.at() });
  }
  p.next();
  if (p.isKeyword("distinct")) throw invalid("SELECT DISTINCT is not an aggregate query.", p.at());
  const items: RawItem[] = [parseItem(p)];
  while (p.isPunct(",")) {
    p.next();
    items.push(parseItem(p));
  }
  p.expectKeyword("from");
  parseTable(p);
  const where: { column: string; op: ComparisonOp; value: string | number | boolean }[] = [];
  if (p.isKeyword("where")) {
    p.next();
    for (;;) {
      if (p.isPunct("(")) throw invalid("Parentheses are not part of the grammar.", p.at());
      const column = p.identifier("a column in WHERE");
      const op = parseOp(p);
      where.push({ column, op, value: parseLiteral(p) });
      if (p.isKeyword("or")) throw invalid("Only AND combines predicates.", p.at());
      if (!p.isKeyword("and")) break;
      p.next();
    }
  }
  const groupBy: string[] = [];
  if (p.isKeyword("group")) {
    p.next();
    p.expectKeyword("by");
    groupBy.push(p.identifier("a group column"));
    while (p.isPunct(",")) {
      p.next();
      groupBy.push(p.identifier("a group column"));
    }
  }
  if (!p.done()) {
    throw invalid(
      `Unexpected ${JSON.stringify(p.peek()?.text)}; ORDER BY, LIMIT, HAVING and aliases are not supported (results come sorted).`,
      p.at(),
    );
  }
  for (const item of items) {
    if (item.kind === "key" && !groupBy.includes(item.column)) {
      throw invalid(`Column "${item.column}" is selected but not in GROUP BY.`, item.at);
    }
  }
  const select = items.flatMap((item) =>
    item.kind === "aggregate"
      ? [
          {
            fn: item.fn,
            ...(item.column === undefined ? {} : { column: item.column }),
            ...(item.as === undefined ? {} : { as: item.as }),
          },
        ]
      : [],
  );
  if (select.length === 0) throw invalid("Select at least one aggregate.", 0);
  return parseQuerySpec({
    select,
    ...(groupBy.length === 0 ? {} : { groupBy }),
    ...(where.length === 0 ? {} : { where }),
  });
}

/** A spec from either form: SQL text is parsed, anything else validated as a QuerySpec. */
export function toQuerySpec(query: unknown): QuerySpec {
  return typeof query === "string" ? parseSqlQuery(query) : parseQuerySpec(query);
}
