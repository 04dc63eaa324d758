import {
  DEFAULT_PRIVACY_PARAMS,
  DP_BUDGET_EXCEEDED,
  DP_INVALID_EPSILON,
  gaussianSigma,
  seededRng,
} from "@dpn/protocol";
import { describe, expect, it } from "vitest";
import { makeDataset } from "./dataset.ts";
import { FL_INVALID_PRIVACY } from "./errors.ts";
import { PrivacyAccountant, privatizeFeatures, privatizeUpdate } from "./localDp.ts";
import { errorCode } from "./testing.ts";
import { l2Norm } from "./vectors.ts";

const params = { ...DEFAULT_PRIVACY_PARAMS, totalEpsilon: 1, totalDelta: 1e-6 };

function context(accountant: PrivacyAccountant, deviceId = "phone-1", datasetId = "flights") {
  return { accountant, deviceId, datasetId, rng: seededRng(`dp/${deviceId}`) };
}

describe("local differential privacy", () => {
  it("clips, then adds Gaussian noise with σ from the protocol for Δ₂ = 2C", () => {
    const accountant = new PrivacyAccountant(params);
    const update = Float32Array.from({ length: 20_000 }, () => 0.01);
    const released = privatizeUpdate(
      update,
      { clipNorm: 1, epsilon: 0.5, delta: 1e-7 },
      context(accountant),
    );
    const sigma = gaussianSigma(2, 0.5, 1e-7);
    expect(released.sigma).toBeCloseTo(sigma, 9);
    expect(released.clipped).toBe(true);
    // The noise dominates: the released norm is about σ·√d.
    expect(l2Norm(released.update) / (sigma * Math.sqrt(update.length))).toBeCloseTo(1, 1);
  });

  it("charges every release to the device's budget on that data set and refuses the overrun", () => {
    const accountant = new PrivacyAccountant(params);
    const update = Float32Array.from([0.1, -0.2]);
    const privacy = { clipNorm: 1, epsilon: 0.4, delta: 1e-7 };
    privatizeUpdate(update, privacy, context(accountant));
    privatizeUpdate(update, privacy, context(accountant));
    expect(accountant.remaining("phone-1", "flights").epsilon).toBeCloseTo(0.2, 12);
    expect(errorCode(() => privatizeUpdate(update, privacy, context(accountant)))).toBe(
      DP_BUDGET_EXCEEDED,
    );
    // The refused release spent nothing; other data sets and devices have their own budgets.
    expect(accountant.budget("phone-1", "flights").releases).toBe(2);
    expect(accountant.remaining("phone-1", "flights").epsilon).toBeCloseTo(0.2, 12);
    privatizeUpdate(update, privacy, context(accountant, "phone-1", "penguins"));
    privatizeUpdate(update, privacy, context(accountant, "phone-2", "flights"));
    expect(accountant.budget("phone-2", "flights").releases).toBe(1);
  });

  it("refuses ε ≥ 1 for the Gaussian mechanism and a non-positive clip norm before charging", () => {
    const accountant = new PrivacyAccountant({ ...params, totalEpsilon: 8 });
    const update = Float32Array.from([0.1]);
    expect(
      errorCode(() =>
        privatizeUpdate(update, { clipNorm: 1, epsilon: 1, delta: 1e-7 }, context(accountant)),
      ),
    ).toBe(DP_INVALID_EPSILON);
    expect(
      errorCode(() =>
        privatizeUpdate(update, { clipNorm: 0, epsilon: 0.5, delta: 1e-7 }, context(accountant)),
      ),
    ).toBe(FL_INVALID_PRIVACY);
    expect(accountant.budget("phone-1", "flights").releases).toBe(0);
  });

  it("privatises features once per data set: Laplace on clipped features, randomised labels", () => {
    const rows = Array.from({ length: 4000 }, (_, i) => [i % 2, 2]);
    const data = makeDataset(
      rows,
      rows.map((_, i) => i % 2),
      2,
    );
    const accountant = new PrivacyAccountant({ ...params, totalEpsilon: 4 });
    const noisy = privatizeFeatures(
      data,
      {
        featureEpsilon: 2,
        labelEpsilon: 1,
        bounds: [
          [0, 1],
          [0, 1],
        ],
      },
      context(accountant),
    );
    // Column 1 was clipped from 2 to 1; Laplace(b = 2/2 = 1) has mean 0, mean |X| = 1.
    let mean = 0;
    let flipped = 0;
    for (let i = 0; i < data.rows; i++) {
      mean += (noisy.x[2 * i + 1] as number) / data.rows;
      if (noisy.y[i] !== data.y[i]) flipped += 1;
    }
    expect(mean).toBeCloseTo(1, 1);
    // Binary randomised response at ε = 1 keeps a label with p = e/(e + 1) ≈ 0.731.
    expect(flipped / data.rows).toBeCloseTo(1 / (Math.E + 1), 1);
    expect(accountant.remaining("phone-1", "flights").epsilon).toBeCloseTo(1, 12);
    expect(
      errorCode(() =>
        privatizeFeatures(
          data,
          {
            featureEpsilon: 2,
            bounds: [
              [0, 1],
              [0, 1],
            ],
          },
          context(accountant),
        ),
      ),
    ).toBe(DP_BUDGET_EXCEEDED);
    expect(
      errorCode(() =>
        privatizeFeatures(data, { featureEpsilon: 0.5, bounds: [[0, 1]] }, context(accountant)),
      ),
    ).toBe(FL_INVALID_PRIVACY);
  });
});
