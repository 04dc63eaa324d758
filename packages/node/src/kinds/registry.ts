import type { TaskTypeName } from "@dpn/wire";
import { flFeaturesKind } from "./flFeatures/index.ts";
import { flTrainKind } from "./flTrain/index.ts";
import { hashKind } from "./hash/index.ts";
import type { KindContext, KindFactory, TaskKind } from "./kind.ts";
import { renderKind } from "./render/index.ts";
import { sqlAnalyticsKind } from "./sqlAnalytics/index.ts";
import { zkGroth16Kind } from "./zkGroth16/index.ts";

/**
 * Every task kind the node serves, by type (docs/protocol.md §Task kinds). A type of the wire
 * registry without a kind here does not compile; nothing else in the node names a kind.
 */
export const TASK_KINDS = {
  hash: hashKind,
  "zk-groth16": zkGroth16Kind,
  "sql-analytics": sqlAnalyticsKind,
  "fl-train": flTrainKind,
  "fl-features": flFeaturesKind,
  render: renderKind,
} satisfies { [T in TaskTypeName]: KindFactory<T> };

export type Kinds = { readonly [T in TaskTypeName]: TaskKind<T> };

/** Kinds that replace the registry's for some types (tests: hold a verification, say). */
export type KindOverrides = { readonly [T in TaskTypeName]?: KindFactory<T> };

/** The kinds of one node, made with its context. */
export function createKinds(context: KindContext, overrides: KindOverrides = {}): Kinds {
  // Each factory is applied to its own key, so the pairing the `satisfies` above checked holds.
  return Object.fromEntries(
    Object.entries({ ...TASK_KINDS, ...overrides }).map(([type, factory]) => [
      type,
      (factory as KindFactory<TaskTypeName>)(context),
    ]),
  ) as unknown as Kinds;
}

/** The kind of a job's type; a type the node does not know is a programmer error. */
export function kindOf(kinds: Kinds, type: string): TaskKind<TaskTypeName> {
  const kind = (kinds as Record<string, TaskKind<TaskTypeName> | undefined>)[type];
  if (kind === undefined) throw new Error(`no task kind ${type}`);
  return kind;
}
