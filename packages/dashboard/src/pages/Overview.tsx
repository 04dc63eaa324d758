import { dpn } from "../api.ts";
import { Stat, Status } from "../components/Status.tsx";
import { classColour, WorldMap } from "../components/WorldMap.tsx";
import { formatBps, formatDpnAmount, formatNumber, weiToDpn } from "../format.ts";
import { countOnline } from "../regions.ts";
import { usePoll } from "../usePoll.ts";

export function Overview() {
  const devices = usePoll((signal) => dpn.devices({ signal }), "devices");
  // Jobs are their requesters'; anyone sees only the aggregates.
  const jobs = usePoll((signal) => dpn.jobSummary({ signal }), "jobs-summary");
  const rate = usePoll((signal) => dpn.economics({ signal }), "rate");
  const supply = usePoll((signal) => dpn.economicsSupply({ signal }), "supply");

  const list = devices.data?.devices ?? [];
  const online = list.filter((d) => d.online);
  const running = jobs.data?.jobs.open ?? 0;
  const cuPerSecOnline = online.reduce((sum, d) => sum + d.cuPerSec, 0);
  const r = rate.data;
  const s = supply.data;

  return (
    <section>
      <h1>Overview</h1>
      <Status
        error={devices.error ?? jobs.error ?? rate.error ?? supply.error}
        loading={devices.data === undefined}
      />
      <div className="stats">
        <Stat
          label="Devices online"
          value={`${online.length}`}
          detail={`of ${list.length} registered`}
          testId="devices-online"
        />
        <Stat
          label="Jobs running"
          value={`${running}`}
          detail={`${formatNumber(jobs.data?.openCu ?? 0, 3)} CU queued or running`}
          testId="jobs-running"
        />
        <Stat
          label="Capacity online"
          value={`${formatNumber(cuPerSecOnline, 3)} CU/s`}
          detail="sum of benchmarks"
        />
        <Stat
          label="Exchange rate"
          value={r === undefined ? "—" : `${formatNumber(r.rate.cuPerDpn, 5)} CU/DPN`}
          detail={
            r === undefined
              ? undefined
              : `MSF ${formatNumber(r.rate.msf, 3)} · EHF ${formatNumber(r.rate.ehf, 3)} · burn ${formatBps(r.burning.burnBps)}`
          }
          testId="exchange-rate"
        />
        <Stat
          label="DPN burned"
          value={s === undefined ? "—" : formatDpnAmount(weiToDpn(s.burned))}
          detail={
            s === undefined
              ? undefined
              : `${formatDpnAmount(weiToDpn(s.outstanding), 0)} outstanding`
          }
          testId="supply"
        />
      </div>
      <div className="overview-grid">
        <div className="panel map-panel">
          <h2>Device regions</h2>
          <WorldMap devices={list} />
          <p className="muted small">
            Each marker is a precision-4 geohash cell (≈ 39 × 20 km) at its centre; faded markers
            have no device online.
          </p>
        </div>
        <div className="panel">
          <h2>Online by class</h2>
          <table className="compact">
            <tbody>
              {countOnline(list, (d) => d.deviceClass).map(([name, count]) => (
                <tr key={name}>
                  <td>
                    <span className="swatch" style={{ background: classColour(name) }} />
                    {name}
                  </td>
                  <td className="num">{count}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h2>Online by layer</h2>
          <table className="compact">
            <tbody>
              {countOnline(list, (d) => d.layer).map(([name, count]) => (
                <tr key={name}>
                  <td>{name}</td>
                  <td className="num">{count}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {online.length === 0 ? <p className="muted">No device is online.</p> : null}
        </div>
      </div>
    </section>
  );
}
