import { DpnError } from "@dpn/sdk";

/** Loading and error states of a polled section; an error keeps the last data on screen. */
export function Status({
  error,
  loading,
}: {
  readonly error: Error | undefined;
  readonly loading: boolean;
}) {
  if (error !== undefined) {
    // A DpnError's message ends with its hint; the hint is shown apart, after the code.
    const coded = error instanceof DpnError ? error : undefined;
    return (
      <p className="error" role="alert">
        {coded === undefined ? error.message : `${coded.code}: ${coded.shortMessage}`}
        {coded?.hint === undefined ? null : <span className="hint"> {coded.hint}</span>}
      </p>
    );
  }
  return loading ? <p className="muted">Loading…</p> : null;
}

export function Stat({
  label,
  value,
  detail,
  testId,
}: {
  readonly label: string;
  readonly value: string;
  readonly detail?: string | undefined;
  readonly testId?: string;
}) {
  return (
    <div className="stat" data-testid={testId}>
      <div className="stat-label">{label}</div>
      <div className="stat-value">{value}</div>
      {detail === undefined ? null : <div className="stat-detail">{detail}</div>}
    </div>
  );
}

export function StateBadge({ state }: { readonly state: string }) {
  return <span className={`badge state-${state}`}>{state}</span>;
}
