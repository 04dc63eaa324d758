import { useEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import type { RateEpochResponse } from "@dpn/sdk";

const DPN = 1e18;

/**
 * Minted vs burned DPN over the recorded epochs (cumulative, from the ledger at each epoch) and
 * the reserve's DPN: the two flows of the bank and the capital that defends the peg.
 */
export function SupplyChart({ epochs }: { readonly epochs: readonly RateEpochResponse[] }) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = host.current;
    if (element === null) return;
    const sorted = [...epochs]
      .filter((e) => e.ledger !== undefined)
      .sort((a, b) => a.atMs - b.atMs);
    const value = (text: string | undefined): number => Number(text ?? "0") / DPN;
    const data: uPlot.AlignedData = [
      sorted.map((e) => e.atMs / 1000),
      sorted.map((e) => value(e.ledger?.minted)),
      sorted.map((e) => value(e.ledger?.burned)),
      sorted.map((e) => value(e.ledger?.reserve)),
    ];
    const plot = new uPlot(
      {
        width: Math.max(320, element.clientWidth),
        height: 240,
        series: [
          {},
          { label: "minted (DPN)", stroke: "#16a34a", width: 2, scale: "flow" },
          { label: "burned (DPN)", stroke: "#dc2626", width: 2, scale: "flow" },
          { label: "reserve (DPN)", stroke: "#7c3aed", width: 1.5, scale: "reserve" },
        ],
        axes: [
          {},
          { scale: "flow", label: "DPN (cumulative)", size: 80 },
          { scale: "reserve", side: 1, label: "reserve DPN", size: 90, grid: { show: false } },
        ],
      },
      data,
      element,
    );
    return () => plot.destroy();
  }, [epochs]);
  return (
    <div ref={host} className="rate-chart" data-testid="supply-chart" data-epochs={epochs.length} />
  );
}
