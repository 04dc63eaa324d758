import { ApiError } from "../api.ts";

/** Loading and error states of a polled section; an error keeps the last data on screen. */
export function Status({
  error,
  loading,
}: {
  readonly error: Error | undefined;
  readonly loading: boolean;
}) {
  if (error !== undefined) {
    const hint = error instanceof ApiError ? error.hint : undefined;
    return (
      <p className="error" role="alert">
        {error instanceof ApiError ? `${error.code}: ` : ""}
        {error.message}
        {hint === undefined ? null : <span className="hint"> {hint}</span>}
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
