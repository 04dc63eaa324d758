import type BetterSqlite3 from "better-sqlite3";
import type { Compilable } from "kysely";
import { invariant } from "../errors.ts";

/**
 * Turns a shared Kysely query (queries.ts) into a better-sqlite3 prepared statement, once.
 * The query is built with numbered markers in place of values; compiling it must yield exactly
 * markers 0..n-1 in order, which proves that binding a flat array positionally is correct.
 */
class Marker {
  constructor(readonly index: number) {}
}

/** A placeholder standing in for a value of type T while a template is compiled. */
export function marker<T>(index: number): T {
  return new Marker(index) as unknown as T;
}

export function compileTemplate(query: Compilable, parameterCount: number): string {
  const compiled = query.compile();
  invariant(
    compiled.parameters.length === parameterCount &&
      compiled.parameters.every((p, i) => p instanceof Marker && p.index === i),
    "a query template binds its parameters out of order",
    { sql: compiled.sql },
  );
  return compiled.sql;
}

/** Rows per multi-row INSERT: amortises the per-statement cost; 128 x 8 columns is far below SQLite's 32,766 variables. */
export const MAX_ROWS_PER_INSERT = 128;

/**
 * A multi-row write: `build(rows)` is the shared query, `columns` the row layout. Chunks are
 * powers of two up to MAX_ROWS_PER_INSERT, so at most eight statements are ever prepared per query.
 */
export class RowWriter<Row extends Record<string, unknown>> {
  private readonly statements = new Map<number, BetterSqlite3.Statement>();

  constructor(
    private readonly db: BetterSqlite3.Database,
    private readonly columns: readonly (keyof Row & string)[],
    private readonly build: (rows: Row[]) => Compilable,
  ) {}

  write(rows: readonly Row[]): void {
    let offset = 0;
    while (offset < rows.length) {
      let size = MAX_ROWS_PER_INSERT;
      while (size > rows.length - offset) size >>= 1;
      const statement = this.statement(size);
      const params: unknown[] = new Array(size * this.columns.length);
      let p = 0;
      for (let r = offset; r < offset + size; r++) {
        const row = rows[r] as Row;
        for (const column of this.columns) params[p++] = row[column];
      }
      statement.run(params);
      offset += size;
    }
  }

  private statement(size: number): BetterSqlite3.Statement {
    let statement = this.statements.get(size);
    if (statement === undefined) {
      const width = this.columns.length;
      const rows = Array.from({ length: size }, (_, r) => {
        const row: Record<string, unknown> = {};
        this.columns.forEach((column, c) => {
          row[column] = marker(r * width + c);
        });
        return row as Row;
      });
      statement = this.db.prepare(compileTemplate(this.build(rows), size * width));
      this.statements.set(size, statement);
    }
    return statement;
  }
}
