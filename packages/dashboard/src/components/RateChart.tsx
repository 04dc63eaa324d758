import { useEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import type { RateEpochResponse } from "@dpn/sdk";

/** The exchange rate (CU per DPN) and its DPN price input over the recorded epochs. */
export function RateChart({ epochs }: { readonly epochs: readonly RateEpochResponse[] }) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = host.current;
    if (element === null) return;
    // The API answers newest first; uPlot wants ascending x.
    const sorted = [...epochs].sort((a, b) => a.atMs - b.atMs);
    const data: uPlot.AlignedData = [
      sorted.map((e) => e.atMs / 1000),
      sorted.map((e) => e.rate.cuPerDpn),
      sorted.map((e) => e.prices.dpnPriceUsd),
    ];
    const width = Math.max(320, element.clientWidth);
    const plot = new uPlot(
      {
        width,
        height: 280,
        series: [
          {},
          { label: "CU per DPN", stroke: "#2563eb", width: 2, scale: "cu" },
          { label: "DPN price (USD)", stroke: "#16a34a", width: 1.5, scale: "usd" },
        ],
        axes: [
          {},
          { scale: "cu", label: "CU / DPN", size: 70 },
          { scale: "usd", side: 1, label: "USD", grid: { show: false } },
        ],
      },
      data,
      element,
    );
    return () => plot.destroy();
  }, [epochs]);
  return <div ref={host} className="rate-chart" data-epochs={epochs.length} />;
}
