import { MAX_LEASES_PER_FRAME } from "@dpn/wire";

type BatchedKind = "node.leases" | "node.verdicts";

/**
 * A socket's sender that batches: leases and verdicts produced in the same turn of the event
 * loop share one frame, since every frame costs an ML-DSA-44 signature (~5 ms), the node's
 * largest cost per task. Other kinds go out at once. `sendNow` seals and sends one frame.
 */
export function batchedSender(
  sendNow: (kind: string, body: unknown) => void,
): (kind: string, body: unknown) => void {
  const batched = new Map<BatchedKind, unknown[]>();
  const frame = (kind: BatchedKind, items: unknown[]) =>
    sendNow(kind, kind === "node.leases" ? { leases: items } : { verdicts: items });
  const flush = (): void => {
    for (const [kind, items] of batched) frame(kind, items);
    batched.clear();
  };
  return (kind, body) => {
    if (kind !== "node.leases" && kind !== "node.verdicts") {
      sendNow(kind, body);
      return;
    }
    const items =
      kind === "node.leases"
        ? (body as { leases: unknown[] }).leases
        : (body as { verdicts: unknown[] }).verdicts;
    const pending = batched.get(kind);
    if (pending !== undefined && pending.length + items.length <= MAX_LEASES_PER_FRAME) {
      pending.push(...items);
      return;
    }
    if (pending !== undefined) frame(kind, pending);
    if (batched.size === 0) setImmediate(flush);
    batched.set(kind, [...items]);
  };
}
