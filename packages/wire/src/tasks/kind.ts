import type { z } from "zod";

/**
 * What crosses the network for one task kind (docs/protocol.md §Task kinds): the job spec a
 * requester submits, one leased item as the device receives it, one output per item as the
 * device returns it, and what a device advertises to be given this kind (absent: nothing but
 * the kind's name). Every package reads a kind's wire shape from here, never from a copy.
 */
export interface TaskWire<
  T extends string,
  Spec extends z.ZodType<{ readonly type: T }>,
  Item extends z.ZodType,
  Output extends z.ZodType,
  Capability extends z.ZodType | undefined = undefined,
> {
  readonly type: T;
  readonly spec: Spec;
  readonly item: Item;
  readonly output: Output;
  readonly capability: Capability;
}

export function taskWire<
  T extends string,
  Spec extends z.ZodType<{ readonly type: T }>,
  Item extends z.ZodType,
  Output extends z.ZodType,
  Capability extends z.ZodType | undefined = undefined,
>(wire: TaskWire<T, Spec, Item, Output, Capability>): TaskWire<T, Spec, Item, Output, Capability> {
  return wire;
}
