import { dpn } from "../api.ts";
import { formatDpnAmount, formatNumber, formatPercent, formatTime } from "../format.ts";
import { usePoll } from "../usePoll.ts";
import { Stat, Status } from "./Status.tsx";

const RESERVE_DECISIONS = 20;

/** DPN burned by the listed buybacks, as a decimal string (18-decimal base units summed exactly). */
function burnedByBuybacks(buybacks: ReadonlyArray<{ readonly dpnBurned: string }>): string {
  let units = 0n;
  for (const b of buybacks) {
    const [whole = "0", fraction = ""] = b.dpnBurned.split(".");
    units += BigInt(whole) * 10n ** 18n + BigInt(fraction.padEnd(18, "0"));
  }
  const fraction = (units % 10n ** 18n).toString().padStart(18, "0").replace(/0+$/, "");
  return `${units / 10n ** 18n}${fraction === "" ? "" : `.${fraction}`}`;
}

/** The AMM pool (§4.5), the reserve's anti-decoupling decisions (§4.3) and its buybacks (§4.2). */
export function MarketPanel() {
  const pool = usePoll((signal) => dpn.pool({ signal }), "pool", 5_000);
  const reserve = usePoll(
    (signal) => dpn.reserve({ limit: RESERVE_DECISIONS, signal }),
    "reserve",
    5_000,
  );
  const p = pool.data;
  const r = reserve.data;
  return (
    <div className="panel" data-testid="market">
      <h2>AMM pool and reserve</h2>
      <Status error={pool.error ?? reserve.error} loading={p === undefined} />
      {p === undefined ? null : (
        <div className="stats">
          <Stat
            label="DPN price (pool)"
            value={p.spotPrice === null ? "—" : `$${formatNumber(Number(p.spotPrice), 5)}`}
            detail={`TWAP ${p.twapPrice === null ? "—" : `$${formatNumber(Number(p.twapPrice), 5)}`} over ${p.twapWindowMs / 60_000} min · anchor $${formatNumber(p.anchorPriceUsd, 4)}`}
          />
          <Stat
            label="Pool reserves"
            value={`${formatDpnAmount(p.reserveDpn, 0)} DPN`}
            detail={`${formatDpnAmount(p.reserveStable, 0)} USD · fee ${p.feeBps / 100}% · guard ${p.slippageBps / 100}%`}
          />
          {r === undefined ? null : (
            <Stat
              label="Reserve"
              value={`${formatDpnAmount(r.dpn, 0)} DPN`}
              detail={`${formatDpnAmount(r.stable, 0)} USD for anti-decoupling buys`}
            />
          )}
          {r === undefined ? null : (
            <Stat
              label="Interest bought back"
              value={`${formatDpnAmount(burnedByBuybacks(r.buybacks), 2)} DPN`}
              detail={`burned over the last ${r.buybacks.length} epochs: the fees the reserve's pool shares earned, spent in balance epochs`}
            />
          )}
        </div>
      )}
      <table data-testid="reserve-operations">
        <thead>
          <tr>
            <th>Time (UTC)</th>
            <th>Action</th>
            <th className="num">Deviation</th>
            <th className="num">Paid</th>
            <th className="num">Received</th>
            <th>Why</th>
          </tr>
        </thead>
        <tbody>
          {(r?.operations ?? []).map((o) => (
            <tr key={`${o.atMs}:${o.action}`}>
              <td>{formatTime(o.atMs)}</td>
              <td>
                <span className={`badge state-${o.action}`}>{o.action}</span>
              </td>
              <td className="num">{o.deviation === null ? "—" : formatPercent(o.deviation)}</td>
              <td className="num">{formatDpnAmount(o.amountIn, 2)}</td>
              <td className="num">{formatDpnAmount(o.amountOut, 2)}</td>
              <td className="small">{o.note}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
