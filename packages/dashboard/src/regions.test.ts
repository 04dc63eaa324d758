import { describe, expect, it } from "vitest";
import { countOnline, deviceCells } from "./regions.ts";
import { parseRoute } from "./route.ts";

const d = (deviceClass: string, layer: string, geohash: string, online: boolean) => ({
  deviceClass,
  layer,
  geohash,
  online,
});

describe("deviceCells", () => {
  it("groups devices by precision-4 cell and class, counting those online", () => {
    const cells = deviceCells([
      d("server", "heavy", "u33d", true),
      d("server", "heavy", "u33dc", false),
      d("phone", "light", "u33d", true),
      d("rig", "heavy", "dr5r", true),
    ]);
    expect(cells).toEqual([
      { geohash: "dr5r", deviceClass: "rig", count: 1, online: 1 },
      { geohash: "u33d", deviceClass: "phone", count: 1, online: 1 },
      { geohash: "u33d", deviceClass: "server", count: 2, online: 1 },
    ]);
  });
});

describe("countOnline", () => {
  it("counts online devices only, largest first", () => {
    const devices = [
      d("server", "heavy", "u33d", true),
      d("server", "heavy", "6gyf", true),
      d("phone", "light", "r3gx", true),
      d("rig", "heavy", "dr5r", false),
    ];
    expect(countOnline(devices, (x) => x.deviceClass)).toEqual([
      ["server", 2],
      ["phone", 1],
    ]);
    expect(countOnline(devices, (x) => x.layer)).toEqual([
      ["heavy", 2],
      ["light", 1],
    ]);
  });
});

describe("parseRoute", () => {
  it("maps hashes to pages", () => {
    expect(parseRoute("")).toEqual({ page: "overview" });
    expect(parseRoute("#/")).toEqual({ page: "overview" });
    expect(parseRoute("#/jobs")).toEqual({ page: "jobs" });
    expect(parseRoute("#/jobs/job_1")).toEqual({ page: "job", id: "job_1" });
    expect(parseRoute("#/wallet")).toEqual({ page: "wallet", id: undefined });
    expect(parseRoute("#/wallet/dpn_1/")).toEqual({ page: "wallet", id: "dpn_1" });
    expect(parseRoute("#/devices")).toEqual({ page: "devices" });
    expect(parseRoute("#/economics")).toEqual({ page: "economics" });
    expect(parseRoute("#/contribute")).toEqual({ page: "contribute" });
    expect(parseRoute("#/nope")).toEqual({ page: "missing", path: "/nope" });
  });
});
