import type { OracleResponse } from "@dpn/sdk";
import { dpn } from "../api.ts";
import { MarketPanel } from "../components/MarketPanel.tsx";
import { formatAge, OraclesPanel } from "../components/OraclesPanel.tsx";
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
  const computeOracle = usePoll(
    (signal) => dpn.oracle({ oracle: "compute-usd", limit: ORACLE_ROUNDS, signal }),
    "compute-oracle",
    5_000,
  );
  const supply = usePoll((signal) => dpn.economicsSupply({ signal }), "supply", 5_000);
  const latest = rates.data?.epochs[0];
  const s = supply.data;
  return (
    <section>
      <h1>Economics</h1>
      <Status
        error={rates.error ?? oracle.error ?? computeOracle.error ?? supply.error}
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
      <OracleRounds
        title="DPN/USD oracle rounds"
        rounds={oracle.data?.rounds ?? []}
        dollars={5}
        testId="oracle"
      />
      <OracleRounds
        title="Compute-price oracle rounds (USD per CU)"
        rounds={computeOracle.data?.rounds ?? []}
        dollars={3}
        testId="compute-oracle"
      />
    </section>
  );
}

/** One oracle's recent rounds: what was published, how, and which feeds were live or rejected. */
function OracleRounds({
  title,
  rounds,
  dollars,
  testId,
}: {
  readonly title: string;
  readonly rounds: OracleResponse["rounds"];
  /** Significant digits of the prices. */
  readonly dollars: number;
  readonly testId: string;
}) {
  return (
    <div className="panel">
      <h2>{title}</h2>
      <table data-testid={testId}>
        <thead>
          <tr>
            <th>Time (UTC)</th>
            <th className="num">In force</th>
            <th>Status</th>
            <th className="num">Median</th>
            <th>Live feeds</th>
            <th>Rejected</th>
          </tr>
        </thead>
        <tbody>
          {rounds.map((r) => (
            <tr key={`${r.atMs}:${r.oracle}`}>
              <td>{formatTime(r.atMs)}</td>
              <td className="num">
                {r.value === null ? "—" : `$${formatNumber(r.value, dollars)}`}
              </td>
              <td>
                <span className={`badge state-${r.status}`}>{r.status}</span>
                {r.stale === true ? (
                  <>
                    {" "}
                    <span className="badge state-stale">stale · {formatAge(r.ageMs ?? 0)} old</span>
                  </>
                ) : null}
              </td>
              <td className="num">
                {r.median === null ? "—" : `$${formatNumber(r.median, dollars)}`}
              </td>
              <td>{r.liveFeeds.join(", ")}</td>
              <td className="small">
                {r.rejected.map((x) => `${x.feedId}: ${x.reason}`).join(", ")}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
