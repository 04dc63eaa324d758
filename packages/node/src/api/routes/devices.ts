import { formatDpn } from "@dpn/protocol";
import { DeviceRelease, DeviceReleaseResponse, DevicesResponse } from "@dpn/wire";
import * as devices from "../../store/devices.ts";
import { type ApiPlugin, answers } from "../context.ts";
import { readSigned, SignedRequest } from "../signedRequest.ts";

/** Registered devices (they connect over the device channel, /v1/devices/ws). */
export const deviceRoutes: ApiPlugin = async (app, context) => {
  const { bank, store, fingerprints } = context;
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
        classReason: d.class_reason,
        lanes: d.lanes,
        memoryMiB: d.memory_mib,
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

  app.post(
    "/v1/devices/release",
    {
      schema: {
        summary: "Disconnect the sender's devices on a hardware fingerprint, freeing their slots.",
        body: SignedRequest,
        signedPayload: { kind: "device.release", schema: DeviceRelease },
        response: answers({ 200: DeviceReleaseResponse }),
      },
    },
    async (request) => {
      const { sender, body } = readSigned(
        request.body,
        "device.release",
        DeviceRelease,
        context.signed(),
      );
      const released = fingerprints.releaseOwned(body.fingerprint, sender);
      return {
        fingerprint: body.fingerprint,
        released,
        // Closing is asynchronous; the sender's devices no longer count once their sockets close.
        connected: fingerprints.count(body.fingerprint) - released.length,
      };
    },
  );
};
