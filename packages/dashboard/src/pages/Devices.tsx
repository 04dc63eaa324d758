import { dpn } from "../api.ts";
import { Status } from "../components/Status.tsx";
import { classColour } from "../components/WorldMap.tsx";
import { formatDpnAmount, formatNumber, formatPercent, shortId } from "../format.ts";
import { usePoll } from "../usePoll.ts";

export function Devices() {
  const devices = usePoll((signal) => dpn.devices({ signal }), "devices", 2_000);
  const list = devices.data?.devices ?? [];
  return (
    <section>
      <h1>Devices</h1>
      <Status error={devices.error} loading={devices.data === undefined} />
      {devices.data !== undefined && list.length === 0 ? (
        <p className="muted">No device has registered. Start one with `npm run dpn -- worker`.</p>
      ) : null}
      <table data-testid="devices">
        <thead>
          <tr>
            <th>Device</th>
            <th>Owner</th>
            <th>Class</th>
            <th>Layer</th>
            <th>Region</th>
            <th className="num">CU/s</th>
            <th className="num">Reputation</th>
            <th className="num">Accepted</th>
            <th className="num">Rejected</th>
            <th className="num">Earned (DPN)</th>
            <th
              className="num"
              title="reward decay e^(−λ·days) of continuous running (§3.2); rigs only"
            >
              Decay
            </th>
            <th>Status</th>
          </tr>
        </thead>
        <tbody>
          {list.map((d) => (
            <tr key={d.deviceId}>
              <td>
                <code title={d.deviceId}>{shortId(d.deviceId)}</code>
              </td>
              <td>
                <a href={`#/wallet/${d.owner}`} title={d.owner}>
                  {shortId(d.owner)}
                </a>
              </td>
              <td title={d.classReason}>
                <span className="swatch" style={{ background: classColour(d.deviceClass) }} />
                {d.deviceClass}
                {d.declaredClass === d.deviceClass ? null : (
                  <span className="muted"> (declared {d.declaredClass})</span>
                )}
                {d.classReason === "" ? null : <div className="muted small">{d.classReason}</div>}
              </td>
              <td>
                {d.layer}
                {d.longTail ? <span className="muted"> · long tail</span> : null}
              </td>
              <td>{d.geohash}</td>
              <td
                className="num"
                title={`${d.lanes} lane${d.lanes === 1 ? "" : "s"}, ${d.memoryMiB} MiB proved`}
              >
                {formatNumber(d.cuPerSec, 3)}
              </td>
              <td className="num">{formatPercent(d.reputation)}</td>
              <td className="num">{d.accepted}</td>
              <td className="num">{d.rejected}</td>
              <td className="num">{formatDpnAmount(d.earned)}</td>
              <td className="num" title={`${formatNumber(d.operatingDays, 3)} days running`}>
                {formatNumber(d.decay, 4)}
              </td>
              <td>
                <span className={`badge ${d.online ? "state-online" : "state-offline"}`}>
                  {d.online ? "online" : "offline"}
                </span>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
