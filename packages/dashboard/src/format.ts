/**
 * Display formatting for the dashboard. Token amounts arrive either as decimal DPN strings
 * ("0.000128", from accounts, jobs and devices) or as base-unit strings (18 decimals, from
 * supply); both are formatted from strings with bigint arithmetic, never through a float.
 */

export const DPN_DECIMALS = 18;

/** Formats a decimal DPN string with thousands separators and at most `maxDecimals` decimals. */
export function formatDpnAmount(amount: string, maxDecimals = 6): string {
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(amount.trim());
  if (match === null) return amount;
  const sign = match[1] ?? "";
  const whole = (match[2] ?? "0").replace(/^0+(?=\d)/, "");
  const fraction = (match[3] ?? "").slice(0, maxDecimals).replace(/0+$/, "");
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const body = fraction.length > 0 ? `${grouped}.${fraction}` : grouped;
  // A tiny non-zero amount truncated to zero is shown as "< 0.000001", not "0".
  if (body === "0" && /[1-9]/.test(match[3] ?? ""))
    return `${sign}< 0.${"0".repeat(maxDecimals - 1)}1`;
  return `${sign}${body}`;
}

/** Converts base units (10⁻¹⁸ DPN, a decimal integer string) to a decimal DPN string. */
export function weiToDpn(wei: string): string {
  if (!/^-?\d+$/.test(wei)) return wei;
  const value = BigInt(wei);
  const negative = value < 0n;
  const abs = negative ? -value : value;
  const unit = 10n ** BigInt(DPN_DECIMALS);
  const whole = abs / unit;
  const fraction = (abs % unit).toString().padStart(DPN_DECIMALS, "0").replace(/0+$/, "");
  return `${negative ? "-" : ""}${whole}${fraction.length > 0 ? `.${fraction}` : ""}`;
}

/** Formats a plain number with a fixed count of significant digits and separators. */
export function formatNumber(value: number, digits = 4): string {
  if (!Number.isFinite(value)) return "—";
  if (value !== 0 && Math.abs(value) < 10 ** -(digits - 1)) return value.toExponential(digits - 1);
  return value.toLocaleString("en-US", { maximumSignificantDigits: digits });
}

/** Basis points (as a number or a decimal string) to a percentage: 8000 → "80%". */
export function formatBps(bps: number | string): string {
  const value = Number(bps);
  if (!Number.isFinite(value)) return "—";
  return `${formatNumber(value / 100, 4)}%`;
}

/** A fraction in [0, 1] as a percentage: 0.525 → "52.5%". */
export function formatPercent(fraction: number): string {
  return `${formatNumber(fraction * 100, 3)}%`;
}

/** A long id shortened for tables: "dpn_0b8628…4b80bb". */
export function shortId(id: string, head = 10, tail = 6): string {
  return id.length <= head + tail + 1 ? id : `${id.slice(0, head)}…${id.slice(-tail)}`;
}

/** A time in ms since 1970 as an ISO-like UTC timestamp: "2026-11-27 06:50:09". */
export function formatTime(atMs: number): string {
  if (!Number.isFinite(atMs)) return "—";
  return new Date(atMs).toISOString().slice(0, 19).replace("T", " ");
}

/** Progress of a job: "3 / 8 (38%)". */
export function formatProgress(done: number, total: number): string {
  const percent = total > 0 ? Math.round((done / total) * 100) : 0;
  return `${done} / ${total} (${percent}%)`;
}

const DPN_ID = /^dpn_[0-9a-f]{40}$/;

/**
 * Why `input` is not a DPN account id (dpn_ + 40 lower-case hex digits), or undefined if it is.
 * The message names the exact defect so the user can fix it.
 */
export function accountIdError(input: string): string | undefined {
  const id = input.trim();
  if (DPN_ID.test(id)) return undefined;
  if (id.length === 0) return "Enter an account id: dpn_ followed by 40 hex digits.";
  if (!id.startsWith("dpn_"))
    return `"${shortId(id, 12, 4)}" is not a DPN id: it must start with "dpn_" followed by 40 hex digits.`;
  const digits = id.slice(4);
  if (/[^0-9a-fA-F]/.test(digits)) {
    const bad = /[^0-9a-fA-F]/.exec(digits)?.[0] ?? "?";
    return `Not a DPN id: "${bad}" is not a hex digit; after "dpn_" only 0-9 and a-f are allowed.`;
  }
  if (/[A-F]/.test(digits)) return "Not a DPN id: hex digits must be lower case (a-f).";
  return `Not a DPN id: it has ${digits.length} hex digits after "dpn_"; it needs exactly 40.`;
}

/** Why `input` is not a job id (job_ + 16 hex digits), or undefined if it is. */
export function jobIdError(input: string): string | undefined {
  const id = input.trim();
  if (/^job_[0-9a-f]{16}$/.test(id)) return undefined;
  if (id.length === 0) return "Enter a job id: job_ followed by 16 hex digits.";
  return `"${shortId(id, 12, 4)}" is not a job id: it must be "job_" followed by 16 lower-case hex digits.`;
}
