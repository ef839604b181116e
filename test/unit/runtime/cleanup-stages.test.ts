// Which sandbox image a dangling launcher build stage belongs to (it goes with that image).
import { describe, expect, it } from "vitest";
import { stageOwner } from "../../../blueprint/runtime/cleanup.js";

describe("stageOwner", () => {
  const images = [
    { Id: "old", Created: 1_000 },
    { Id: "new", Created: 5_000 },
    { Id: "newer", Created: 5_100 },
  ];
  it("is the first image built after the stage", () => {
    expect(stageOwner({ Created: 4_990 }, images)?.Id).toBe("new");
    expect(stageOwner({ Created: 990 }, images)?.Id).toBe("old");
  });
  it("is nobody when no image follows within 30 minutes (its image is gone)", () => {
    expect(stageOwner({ Created: 5_200 }, images)).toBeUndefined();
    expect(stageOwner({ Created: 1_000 - 1_801 }, images)).toBeUndefined();
  });
});
