import { describe, expect, it } from "vitest";
import { deriveConfidence, modelReportedConfidence } from "./confidence.js";

describe("deriveConfidence", () => {
  it("weighs checks at 0.7 and the model's word at 0.3", () => {
    const d = deriveConfidence(
      [
        { name: "a", passed: true },
        { name: "b", passed: false },
      ],
      1,
    );
    expect(d).toMatchObject({
      checks_passed: 1,
      checks_failed: 1,
      checks_score: 0.5,
      model_reported: 1,
      value: 0.65,
    });
  });

  it("lets the checks speak alone when the model reports nothing", () => {
    expect(deriveConfidence([{ name: "a", passed: true }], null).value).toBe(1);
  });

  it("never passes 0.80 on the model's word alone", () => {
    const d = deriveConfidence([], 1);
    expect(d.prior_used).toBe(true);
    expect(d.value).toBe(0.65);
  });

  it("honours check weights and clamps what the model says", () => {
    const d = deriveConfidence(
      [
        { name: "heavy", passed: true, weight: 3 },
        { name: "light", passed: false },
      ],
      7,
    );
    expect(d.checks_score).toBe(0.75);
    expect(d.model_reported).toBe(1);
    expect(d.value).toBe(0.825);
  });

  it("reads the model's confidence only from a finite number at the field", () => {
    expect(modelReportedConfidence({ confidence: 0.4 }, "confidence")).toBe(0.4);
    expect(modelReportedConfidence({ confidence: "high" }, "confidence")).toBeNull();
    expect(modelReportedConfidence({ confidence: 0.4 }, null)).toBeNull();
  });
});
