import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";

/**
 * TensorFlow.js on its WebAssembly backend (DESIGN: tfjs-node does not work here). The .wasm
 * binaries ship inside the @tensorflow/tfjs-backend-wasm npm package; they are read from its
 * dist directory in node_modules, never fetched.
 *
 * Single-threaded on purpose: the threaded build would start its own pthread workers, while we
 * parallelise across devices with piscina threads (one backend per thread), and one thread keeps
 * every reduction in a fixed order, so a training run is repeatable for a seed.
 */
export const WASM_DIR = `${dirname(fileURLToPath(import.meta.resolve("@tensorflow/tfjs-backend-wasm")))}/`;

let ready: Promise<typeof tf> | undefined;

/** Selects the wasm backend once per thread and resolves to the tfjs namespace. */
export function loadTf(): Promise<typeof tf> {
  ready ??= (async () => {
    tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
    // Production mode skips per-op NaN checks; updates are checked for finiteness explicitly.
    tf.enableProdMode();
    setWasmPaths(WASM_DIR);
    // The Emscripten runtime adds process-wide handlers that rethrow every uncaught exception
    // and unhandled rejection; a host (the bank node) keeps its own policy, so they are removed.
    const before = {
      uncaughtException: process.listeners("uncaughtException"),
      unhandledRejection: process.listeners("unhandledRejection"),
    };
    try {
      if (!(await tf.setBackend("wasm"))) {
        throw new Error(`tfjs could not start its wasm backend from ${WASM_DIR}.`);
      }
      await tf.ready();
    } finally {
      for (const listener of process.listeners("uncaughtException")) {
        if (!before.uncaughtException.includes(listener))
          process.off("uncaughtException", listener);
      }
      for (const listener of process.listeners("unhandledRejection")) {
        if (!before.unhandledRejection.includes(listener)) {
          process.off("unhandledRejection", listener);
        }
      }
    }
    return tf;
  })();
  return ready;
}
