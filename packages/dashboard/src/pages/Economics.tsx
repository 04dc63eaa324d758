import { dpn } from "../api.ts";
import { MarketPanel } from "../components/MarketPanel.tsx";
import { OraclesPanel } from "../components/OraclesPanel.tsx";
import { RateChart } from "../components/RateChart.tsx";
import { Stat, Status } from "../components/Status.tsx";
import { SupplyChart } from "../components/SupplyChart.tsx";
import {
  formatBps,
  formatDpnAmount,
  formatNumber,
  formatPercent,
  formatTime,
  weiToDpn,
} from "../format.ts";
import { usePoll } from "../usePoll.ts";

/** Epochs in the chart; the node keeps more (?limit up to 1000). */
const CHART_EPOCHS = 500;
const ORACLE_ROUNDS = 50;

export function Economics() {
  const rates = usePoll((signal) => dpn.rates({ limit: CHART_EPOCHS, signal }), "rates", 5_000);
  const oracle = usePoll((signal) => dpn.oracle({ limit: ORACLE_ROUNDS, signal }), "oracle", 5_000);
  const supply = usePoll((signal) => dpn.economicsSupply({ signal }), "supply", 5_000);
  const latest = rates.data?.epochs[0];
  const s = supply.data;
  return (
    <section>
      <h1>Economics</h1>
      <Status
        error={rates.error ?? oracle.error ?? supply.error}
        loading={rates.data === undefined}
      />
      {latest === undefined ? null : (
        <div className="stats">
          <Stat
            label="Exchange rate"
            value={`${formatNumber(latest.rate.cuPerDpn, 5)} CU/DPN`}
            detail={`anchor ${formatNumber(latest.rate.anchorCuPerDpn, 5)} × supply/demand ${formatNumber(latest.rate.supplyDemandFactor, 3)}`}
          />
          <Stat
            label="MSF · EHF"
            value={`${formatNumber(latest.rate.msf, 3)} · ${formatNumber(latest.rate.ehf, 3)}`}
            detail={`rig share ${formatPercent(latest.inputs.rigShare)} · long tail ${formatPercent(latest.inputs.longTailShare)}`}
          />
          <Stat
            label="Burn rate"
            value={formatBps(latest.burning.burnBps)}
            detail={`${latest.burning.level}, utilisation ${latest.burning.utilisation === null ? "— (no supply)" : formatPercent(latest.burning.utilisation)}`}
          />
          <Stat
            label={latest.prices.simulated === true ? "DPN price (simulated inputs)" : "DPN price"}
            value={`$${formatNumber(latest.prices.dpnPriceUsd, 4)}`}
            detail={`compute $${formatNumber(latest.prices.computePriceUsdPerCu, 3)} per CU${latest.prices.compute?.stale === true ? " (stale)" : ""}`}
            testId="prices"
          />
          {s === undefined ? null : (
            <Stat
              label="Supply"
              value={`${formatDpnAmount(weiToDpn(s.burned))} burned`}
              detail={`${formatDpnAmount(weiToDpn(s.issued), 0)} issued · ${formatDpnAmount(weiToDpn(s.outstanding), 0)} outstanding · ${formatDpnAmount(weiToDpn(s.circulation), 2)} circulating`}
            />
          )}
        </div>
      )}
      <div className="panel">
        <h2>Exchange rate history</h2>
        {rates.data === undefined ? null : <RateChart epochs={rates.data.epochs} />}
        <p className="muted small">{rates.data?.epochs.length ?? 0} recorded epochs.</p>
      </div>
      <div className="panel">
        <h2>Minted vs burned</h2>
        {rates.data === undefined ? null : <SupplyChart epochs={rates.data.epochs} />}
        <p className="muted small">
          Cumulative DPN minted to devices for verified work and burned from payments, and the
          reserve's DPN, at each epoch.
        </p>
      </div>
      <OraclesPanel />
      <MarketPanel />
      <div className="panel">
        <h2>DPN/USD oracle rounds</h2>
        <table data-testid="oracle">
          <thead>
            <tr>
              <th>Time (UTC)</th>
              <th className="num">Published</th>
              <th>Status</th>
              <th className="num">Median</th>
              <th>Live feeds</th>
              <th className="num">Rejected</th>
            </tr>
          </thead>
          <tbody>
            {(oracle.data?.rounds ?? []).map((r) => (
              <tr key={`${r.atMs}:${r.oracle}`}>
                <td>{formatTime(r.atMs)}</td>
                <td className="num">{r.value === null ? "—" : `$${formatNumber(r.value, 5)}`}</td>
                <td>
                  <span className={`badge state-${r.status}`}>{r.status}</span>
                </td>
                <td className="num">{r.median === null ? "—" : `$${formatNumber(r.median, 5)}`}</td>
                <td>{r.liveFeeds.join(", ")}</td>
                <td className="num">{r.rejected.length}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
