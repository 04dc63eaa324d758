import type { PricesResponse } from "@dpn/sdk";
import { dpn } from "../api.ts";
import { formatNumber } from "../format.ts";
import { usePoll } from "../usePoll.ts";
import { StateBadge, Status } from "./Status.tsx";

type OracleView = PricesResponse["oracles"][number];

/** "90 s", "12 min", "3.0 h": how long a held price has stood. */
export function formatAge(ms: number): string {
  if (ms < 120_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

/** The badge every simulated input carries (docs/protocol.md §Oracles, "Labels"). */
export function SimulatedBadge() {
  return (
    <span className="badge state-simulated" title="a seeded random walk, not a market reading">
      simulated
    </span>
  );
}

function OracleCard({ oracle }: { readonly oracle: OracleView }) {
  const price = oracle.price;
  const dollars = oracle.unit === "USD/CU" ? 3 : 5;
  return (
    <div className="oracle" data-testid={`oracle-${oracle.name}`}>
      <h3>
        {oracle.name} <span className="muted small">{oracle.unit}</span>{" "}
        {oracle.simulated ? <SimulatedBadge /> : null}
      </h3>
      <p>
        {price === null ? (
          "no price yet"
        ) : (
          <>
            <strong>${formatNumber(price.value, dollars)}</strong>{" "}
            <StateBadge state={price.status} />
            {price.stale ? (
              <>
                {" "}
                <span className="badge state-stale">stale · {formatAge(price.ageMs)} old</span>
              </>
            ) : null}
          </>
        )}
      </p>
      <table className="compact">
        <tbody>
          {oracle.feeds.map((feed) => (
            <tr key={feed.id}>
              <td>{feed.id}</td>
              <td>
                {feed.kind} {feed.simulated ? <SimulatedBadge /> : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Both oracles: each price in force, whether it is held, and where each feed reads from. */
export function OraclesPanel() {
  const prices = usePoll((signal) => dpn.prices({ signal }), "prices", 5_000);
  return (
    <div className="panel" data-testid="oracles">
      <h2>Price oracles</h2>
      <Status error={prices.error} loading={prices.data === undefined} />
      <div className="oracles">
        {(prices.data?.oracles ?? []).map((oracle) => (
          <OracleCard key={oracle.name} oracle={oracle} />
        ))}
      </div>
      <p className="muted small">
        Each price is the median of its feeds; with fewer than three fresh feeds the last published
        price is kept, marked stale. Feeds marked simulated are seeded random walks of the embedded
        demo, not market readings; a reference is a configured constant.
      </p>
    </div>
  );
}
