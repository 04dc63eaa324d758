import { formatDpn } from "@dpn/protocol";
import { DevicesResponse } from "@dpn/wire";
import * as devices from "../../store/devices.ts";
import { type ApiPlugin, answers } from "../context.ts";

/** Registered devices (they connect over the device channel, /v1/devices/ws). */
export const deviceRoutes: ApiPlugin = async (app, { bank, store }) => {
  app.get(
    "/v1/devices",
    {
      schema: {
        summary: "Registered devices, their class, layer, reputation and earnings.",
        response: answers({ 200: DevicesResponse }),
      },
    },
    async () => ({
      devices: (await devices.devices(store.db)).map((d) => ({
        deviceId: d.id,
        owner: d.owner,
        deviceClass: d.device_class,
        declaredClass: d.declared_class,
        layer: d.layer,
        longTail: d.long_tail === 1,
        geohash: d.geohash,
        cuPerSec: d.cu_per_sec,
        reputation: d.reputation,
        accepted: d.accepted,
        rejected: d.rejected,
        earned: formatDpn(BigInt(d.earned)),
        ...bank.deviceDecay(d),
        online: bank.sessions.has(d.id),
        standby: bank.sessions.get(d.id)?.standby ?? false,
      })),
    }),
  );
};
