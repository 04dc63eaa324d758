import type { Identity } from "@dpn/wire";
import { type FormEvent, useEffect, useRef, useState } from "react";
import { dpn } from "../api.ts";
import { Stat, Status } from "../components/Status.tsx";
import { type AgentStatus, BrowserAgent } from "../device/agent.ts";
import { pauseReason } from "../device/dutyCycle.ts";
import { identityFromStoredKeys, newSeeds, type StoredKeys } from "../device/keys.ts";
import { WorkerExecutor } from "../device/workerExecutor.ts";
import { accountIdError, formatDpnAmount, formatNumber } from "../format.ts";
import { cellError } from "../geohash.ts";
import { usePoll } from "../usePoll.ts";

/** Where this tab's device keys live (seeds only; never sent anywhere). */
const KEYS_STORAGE = "dpn.device.keys.v1";
const SETTINGS_STORAGE = "dpn.device.settings.v1";

interface BatteryLike {
  readonly charging: boolean;
  addEventListener(type: "chargingchange", listener: () => void): void;
}

/** A phone's browser is offered the `phone` class first; the user may change it. */
const LOOKS_MOBILE = /Mobi|Android/i.test(navigator.userAgent);

function loadSeeds(): StoredKeys {
  try {
    const raw = localStorage.getItem(KEYS_STORAGE);
    if (raw !== null) {
      const parsed = JSON.parse(raw) as Partial<StoredKeys>;
      if (typeof parsed.ed25519Seed === "string" && typeof parsed.mldsa44Seed === "string")
        return { ed25519Seed: parsed.ed25519Seed, mldsa44Seed: parsed.mldsa44Seed };
    }
  } catch {
    // unreadable storage: make new keys
  }
  const seeds = newSeeds();
  localStorage.setItem(KEYS_STORAGE, JSON.stringify(seeds));
  return seeds;
}

interface Settings {
  owner: string;
  geohash: string;
  deviceClass: "browser" | "phone";
  cpuPercent: number;
  runOnBattery: boolean;
}

function loadSettings(): Partial<Settings> {
  try {
    return JSON.parse(localStorage.getItem(SETTINGS_STORAGE) ?? "{}") as Partial<Settings>;
  } catch {
    return {};
  }
}

export function Contribute() {
  const [identity, setIdentity] = useState<Identity | undefined>(undefined);
  const [keysError, setKeysError] = useState<string | undefined>(undefined);
  const saved = useRef(loadSettings()).current;
  const [owner, setOwner] = useState(saved.owner ?? "");
  const [geohash, setGeohash] = useState(saved.geohash ?? "u33d");
  const [deviceClass, setDeviceClass] = useState<"browser" | "phone">(
    saved.deviceClass ?? (LOOKS_MOBILE ? "phone" : "browser"),
  );
  const [cpuPercent, setCpuPercent] = useState(saved.cpuPercent ?? 50);
  const [runOnBattery, setRunOnBattery] = useState(saved.runOnBattery ?? false);
  const [formError, setFormError] = useState<string | undefined>(undefined);
  const [status, setStatus] = useState<AgentStatus>("stopped");
  const [statusDetail, setStatusDetail] = useState<string | undefined>(undefined);
  const [registered, setRegistered] = useState<string | undefined>(undefined);
  const [tally, setTally] = useState({ accepted: 0, rejected: 0, earned: 0 });
  const [lastTask, setLastTask] = useState<{ text: string; detail?: string } | undefined>(
    undefined,
  );
  const agent = useRef<BrowserAgent | undefined>(undefined);
  const cpuShare = useRef(cpuPercent / 100);
  cpuShare.current = cpuPercent / 100;
  const battery = useRef<{ charging: boolean } | undefined>(undefined);
  const allowBattery = useRef(runOnBattery);
  allowBattery.current = runOnBattery;

  useEffect(() => {
    try {
      setIdentity(identityFromStoredKeys(loadSeeds()));
    } catch (error) {
      setKeysError(
        `This browser cannot make DPN keys (${error instanceof Error ? error.message : String(error)}).`,
      );
    }
  }, []);

  // Respect the user: pause when the tab is hidden or, if the browser says so, on battery.
  useEffect(() => {
    const onVisibility = () => agent.current?.conditionsChanged();
    document.addEventListener("visibilitychange", onVisibility);
    const nav = navigator as Navigator & { getBattery?: () => Promise<BatteryLike> };
    nav.getBattery?.().then(
      (manager) => {
        battery.current = { charging: manager.charging };
        manager.addEventListener("chargingchange", () => {
          battery.current = { charging: manager.charging };
          agent.current?.conditionsChanged();
        });
      },
      () => undefined,
    );
    return () => {
      document.removeEventListener("visibilitychange", onVisibility);
      agent.current?.close();
    };
  }, []);

  const ownerId = owner.trim() === "" ? identity?.id : owner.trim();
  const balance = usePoll(
    (signal) =>
      ownerId === undefined ? Promise.resolve(undefined) : dpn.balance(ownerId, { signal }),
    `contribute:${ownerId ?? ""}`,
    status === "stopped" ? 0 : 2_000,
  );

  const start = (event: FormEvent) => {
    event.preventDefault();
    if (identity === undefined) return;
    const problem = (owner.trim() === "" ? undefined : accountIdError(owner)) ?? cellError(geohash);
    setFormError(problem);
    if (problem !== undefined) return;
    localStorage.setItem(
      SETTINGS_STORAGE,
      JSON.stringify({ owner, geohash, deviceClass, cpuPercent, runOnBattery }),
    );
    setTally({ accepted: 0, rejected: 0, earned: 0 });
    setLastTask(undefined);
    setRegistered(undefined);
    const nodeUrl = window.location.origin;
    // Vite bundles the worker and, as a chunk of its own, snarkjs: nothing loads from elsewhere.
    const worker = new Worker(new URL("../device/deviceWorker.ts", import.meta.url), {
      type: "module",
    });
    const next = new BrowserAgent({
      nodeUrl,
      identity,
      owner: ownerId ?? identity.id,
      geohash: geohash.trim().toLowerCase(),
      deviceClass,
      // One Web Worker: the tab offers one core, and the challenge measures one lane.
      cores: 1,
      memoryMiB: 1024,
      // The machine, not the key: a new identity in the same browser is the same hardware.
      fingerprintText: `${navigator.userAgent}|${navigator.hardwareConcurrency}`,
      executor: new WorkerExecutor(worker, nodeUrl),
      cpuShare: () => cpuShare.current,
      pauseReason: () =>
        pauseReason({
          hidden: document.visibilityState !== "visible",
          battery: battery.current,
          runOnBattery: allowBattery.current,
        }),
      openSocket: (url) => new WebSocket(url),
      onEvent: (e) => {
        if (e.type === "status") {
          setStatus(e.status);
          setStatusDetail(e.detail);
        } else if (e.type === "registered") {
          setRegistered(
            `${e.deviceClass} (${e.layer} layer), benchmark ${formatNumber(e.benchmarkCuPerSec, 3)} CU/s — ${e.reason}`,
          );
        } else if (e.type === "task-done") {
          const what =
            e.taskType === "zk-groth16"
              ? `${e.items} Groth16 proof${e.items === 1 ? "" : "s"}`
              : `${e.items} hash item${e.items === 1 ? "" : "s"}`;
          setLastTask({
            text: `${what} in ${formatNumber(e.elapsedMs / 1000, 3)} s`,
            detail:
              e.taskType === "zk-groth16"
                ? `${formatNumber(e.elapsedMs / e.items / 1000, 3)} s per proof, snarkjs in a Web Worker`
                : "SHA-256 in a Web Worker",
          });
        } else if (e.type === "task-failed") {
          setLastTask({ text: "failed", detail: e.message });
        } else if (e.type === "verdict") {
          setTally((t) => ({
            accepted: t.accepted + (e.accepted ? 1 : 0),
            rejected: t.rejected + (e.accepted ? 0 : 1),
            earned: t.earned + Number(e.reward),
          }));
        }
      },
    });
    // A previous agent that ended in an error still holds its worker: end it first.
    agent.current?.close();
    agent.current = next;
    next.start().catch((error: unknown) => {
      next.close(); // frees the worker; its "stopped" is overridden just below
      setStatus("error");
      setStatusDetail(error instanceof Error ? error.message : String(error));
    });
  };

  const stop = () => {
    agent.current?.close();
    agent.current = undefined;
  };

  const running = status !== "stopped" && status !== "error";
  return (
    <section>
      <h1>Contribute this device</h1>
      <p className="muted">
        This tab becomes a DPN device: it registers with keys made here (Ed25519 and ML-DSA-44, kept
        in this browser's storage), takes tasks — SHA-256 chains and, if the node finds this
        computer fast enough, Groth16 proofs made with snarkjs — computes them in a Web Worker and
        is paid in DPN to the owner account. Nothing runs until you press Start; the CPU share rests
        the worker between pieces of work; work pauses while the tab is hidden
        {runOnBattery ? "" : " or the computer is on battery"}.
      </p>
      {keysError === undefined ? null : (
        <p className="error" role="alert">
          {keysError}
        </p>
      )}
      <div className="facts">
        <span>Device id</span>
        <code data-testid="device-id">{identity?.id ?? "making keys…"}</code>
      </div>
      <form className="contribute-form" onSubmit={start} noValidate>
        <label>
          Owner account (paid){" "}
          <input
            name="owner"
            size={50}
            value={owner}
            placeholder={identity?.id ?? "dpn_…"}
            onChange={(e) => setOwner(e.target.value)}
            disabled={running}
          />
        </label>
        <label>
          Region (geohash-4){" "}
          <input
            name="geohash"
            size={6}
            value={geohash}
            onChange={(e) => setGeohash(e.target.value)}
            disabled={running}
          />
        </label>
        <label>
          Class{" "}
          <select
            name="class"
            value={deviceClass}
            onChange={(e) => setDeviceClass(e.target.value === "phone" ? "phone" : "browser")}
            disabled={running}
          >
            <option value="browser">browser</option>
            <option value="phone">phone</option>
          </select>
        </label>
        <label>
          CPU share {cpuPercent}%{" "}
          <input
            type="range"
            name="cpu"
            min={10}
            max={100}
            step={10}
            value={cpuPercent}
            onChange={(e) => setCpuPercent(Number(e.target.value))}
          />
        </label>
        <label>
          <input
            type="checkbox"
            checked={runOnBattery}
            onChange={(e) => {
              allowBattery.current = e.target.checked;
              setRunOnBattery(e.target.checked);
              agent.current?.conditionsChanged();
            }}
          />{" "}
          run on battery
        </label>
        {/* Keyed: React must not turn the clicked Stop button into Start (a submit) in place. */}
        {running ? (
          <button key="stop" type="button" onClick={stop}>
            Stop
          </button>
        ) : (
          <button key="start" type="submit" disabled={identity === undefined}>
            Start
          </button>
        )}
      </form>
      {formError === undefined ? null : (
        <p className="error" role="alert" data-testid="contribute-error">
          {formError}
        </p>
      )}
      {status === "error" ? (
        <p className="error" role="alert">
          {statusDetail}
        </p>
      ) : null}
      <div className="stats">
        <Stat
          label="Status"
          value={status === "paused" && statusDetail ? `paused (${statusDetail})` : status}
          detail={registered}
          testId="contribute-status"
        />
        <Stat
          label="Tasks"
          value={`${tally.accepted} accepted`}
          detail={`${tally.rejected} rejected`}
          testId="contribute-tasks"
        />
        <Stat
          label="Last task"
          value={lastTask?.text ?? "—"}
          detail={lastTask?.detail}
          testId="contribute-last-task"
        />
        <Stat
          label="Earned this session"
          value={`${formatNumber(tally.earned, 4)} DPN`}
          detail="minted to the owner on each accepted task"
        />
        <Stat
          label="Owner balance"
          value={
            balance.data === undefined ? "—" : `${formatDpnAmount(balance.data.balance, 18)} DPN`
          }
          detail={ownerId}
          testId="contribute-balance"
        />
      </div>
      <Status error={balance.error} loading={false} />
      <p className="muted small">
        The node measures this tab when it registers. A fast enough tab joins the heavy layer and is
        sent Groth16 proofs as well as hash tasks; a slow one (and any device registered as a phone)
        gets hash tasks only.
      </p>
    </section>
  );
}
