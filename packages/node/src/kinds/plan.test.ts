import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MAX_ITEMS_PER_FRAGMENT } from "../limits.ts";
import { splitItems } from "./plan.ts";

describe("splitItems under a verification cap", () => {
  it("splits evenly when it can: four items of 6 CU under a 12 CU cap make two tasks", () => {
    const tasks = splitItems([6, 6, 6, 6], 1, 12);
    expect(tasks.map((t) => t.items)).toEqual([
      [0, 2],
      [2, 4],
    ]);
  });

  it("packs uneven items when an even split would exceed the cap", () => {
    // An even split into ⌈29 / 10⌉ = 3 fragments would put 9 + 9 together.
    const tasks = splitItems([9, 9, 1, 1, 9], 1, 10);
    expect(tasks.every((t) => t.cu <= 10)).toBe(true);
    expect(tasks.map((t) => t.items)).toEqual([
      [0, 1],
      [1, 3],
      [3, 5],
    ]);
  });

  it("covers every item once, in order, each task within the cap and the item bound", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 10 }), { minLength: 1, maxLength: 600 }),
        fc.integer({ min: 0, max: 64 }),
        (itemCu, devices) => {
          const tasks = splitItems(itemCu, devices, 10);
          let next = 0;
          for (const task of tasks) {
            expect(task.items[0]).toBe(next);
            next = task.items[1];
            expect(task.cu).toBeLessThanOrEqual(10);
            expect(task.items[1] - task.items[0]).toBeLessThanOrEqual(MAX_ITEMS_PER_FRAGMENT);
          }
          expect(next).toBe(itemCu.length);
        },
      ),
    );
  });
});
