import type { HistoryResponse } from "@dpn/sdk";
import { type FormEvent, useEffect, useState } from "react";
import { dpn } from "../api.ts";
import { Status } from "../components/Status.tsx";
import { accountIdError, formatDpnAmount, formatTime } from "../format.ts";
import { usePoll } from "../usePoll.ts";

/** Postings per page of the history table. */
const HISTORY_PAGE = 50;

function Account({ id }: { readonly id: string }) {
  const balance = usePoll((signal) => dpn.balance(id, { signal }), `account:${id}`, 2_000);
  const history = usePoll(
    (signal) => dpn.history(id, { limit: HISTORY_PAGE, signal }),
    `history:${id}`,
    2_000,
  );
  const [older, setOlder] = useState<HistoryResponse["entries"]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [olderError, setOlderError] = useState<Error | undefined>(undefined);
  const next = cursor ?? history.data?.nextCursor ?? null;
  const loadOlder = () => {
    if (next === null) return;
    dpn.history(id, { limit: HISTORY_PAGE, cursor: next }).then(
      (page) => {
        setOlder((o) => [...o, ...page.entries]);
        setCursor(page.nextCursor ?? "");
      },
      (error: unknown) => setOlderError(error instanceof Error ? error : new Error(String(error))),
    );
  };
  const entries = [...(history.data?.entries ?? []), ...older];
  return (
    <>
      <Status
        error={balance.error ?? history.error ?? olderError}
        loading={balance.data === undefined}
      />
      {balance.data === undefined ? null : (
        <div className="stats">
          <div className="stat" data-testid="balance">
            <div className="stat-label">Balance</div>
            <div className="stat-value">{formatDpnAmount(balance.data.balance, 18)} DPN</div>
            <div className="stat-detail">
              <code>{id}</code>
            </div>
          </div>
          <div className="stat" data-testid="held">
            <div className="stat-label">Held for jobs</div>
            <div className="stat-value">{formatDpnAmount(balance.data.held, 6)} DPN</div>
            <div className="stat-detail">
              {balance.data.openHolds} open hold(s): reserved for fragments until they settle
            </div>
          </div>
          <div className="stat" data-testid="stable">
            <div className="stat-label">Stable units · pool shares</div>
            <div className="stat-value">{formatDpnAmount(balance.data.stable, 2)} USD</div>
            <div className="stat-detail">{balance.data.poolShares} AMM share units</div>
          </div>
        </div>
      )}
      <h2>History</h2>
      {history.data !== undefined && entries.length === 0 ? (
        <p className="muted">No postings for this account.</p>
      ) : null}
      <table data-testid="history">
        <thead>
          <tr>
            <th className="num">Seq</th>
            <th>Time (UTC)</th>
            <th>Kind</th>
            <th>Reference</th>
            <th className="num">Amount (DPN)</th>
            <th className="num">Balance after</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((e) => (
            <tr key={e.seq}>
              <td className="num">{e.seq}</td>
              <td>{formatTime(e.atMs)}</td>
              <td>{e.kind}</td>
              <td>
                <code>{e.idempotencyKey}</code>
              </td>
              <td className="num">{formatDpnAmount(e.amount)}</td>
              <td className="num">{formatDpnAmount(e.balanceAfter)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {next !== null && next !== "" ? (
        <button type="button" onClick={loadOlder}>
          Older entries
        </button>
      ) : null}
    </>
  );
}

export function Wallet({ id }: { readonly id: string | undefined }) {
  const [input, setInput] = useState(id ?? "");
  const [error, setError] = useState<string | undefined>(undefined);
  useEffect(() => {
    setInput(id ?? "");
    setError(id === undefined ? undefined : accountIdError(id));
  }, [id]);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const problem = accountIdError(input);
    setError(problem);
    if (problem === undefined) window.location.hash = `#/wallet/${input.trim()}`;
  };
  const valid = id !== undefined && accountIdError(id) === undefined;
  return (
    <section>
      <h1>Wallet</h1>
      <form className="inline-form" onSubmit={submit} noValidate>
        <label>
          Account id{" "}
          <input
            name="account-id"
            size={50}
            value={input}
            placeholder="dpn_ followed by 40 hex digits"
            onChange={(e) => setInput(e.target.value)}
            aria-invalid={error !== undefined}
            aria-describedby="account-id-error"
          />
        </label>
        <button type="submit">Show</button>
      </form>
      {error === undefined ? null : (
        <p className="error" role="alert" id="account-id-error" data-testid="account-id-error">
          {error}
        </p>
      )}
      {/* keyed by id: another account starts with empty paging state */}
      {valid ? <Account key={id} id={id} /> : null}
      <p className="muted small">
        Read-only: balances and postings are public. Moving funds needs the owner's key (CLI: `npm
        run dpn -- transfer`).
      </p>
    </section>
  );
}
