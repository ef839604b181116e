// The status screen's Disk line from the engine's own accounting (`docker system df`): a
// sandbox with a /sandbox quota counts by its disk volume, as the engine leaves its loop-mounted
// volume (a local volume with mount options) out of the accounting.
import { describe, expect, it } from "vitest";
import { diskUseOf } from "../../../blueprint/runtime/overview.js";
import { sandboxDiskVolumeName } from "../../../blueprint/sandbox/disk.js";
import { sandboxVolumeName } from "../../../blueprint/sandbox/container-spec.js";
import { DEFAULT_IMAGE_REPOSITORY } from "../../../blueprint/sandbox/image.js";

const GiB = 1024 ** 3;

describe("diskUseOf", () => {
  it("counts a quota sandbox's disk volume, which is all the engine reports of it", () => {
    // What Docker 20.10 reports for a sandbox created with the default 10 GiB quota.
    const use = diskUseOf({ Volumes: [{ Name: sandboxDiskVolumeName("quota"), UsageData: { Size: 10 * GiB } }] });
    expect(use.volumes).toEqual({ count: 1, bytes: 10 * GiB });
  });

  it("counts plain and quota sandboxes alike, each once, and nothing that is not a /sandbox", () => {
    const use = diskUseOf({
      Volumes: [
        { Name: sandboxVolumeName("plain"), UsageData: { Size: 4096 } },
        { Name: sandboxDiskVolumeName("quota"), UsageData: { Size: GiB } },
        // An engine that does report the loop-mounted volume: its content is inside the image.
        { Name: sandboxVolumeName("quota"), UsageData: { Size: 123 } },
        { Name: sandboxVolumeName("quota-disk"), UsageData: { Size: 1 } },
        { Name: "nemoclaw-runtime-100c007a5feefa76", UsageData: { Size: 50_000 } },
        { Name: "nemoclaw-openclaw-2026.9.6-a778fa9b6a51", UsageData: { Size: 567_000_000 } },
        { Name: "nemoclaw-box-run", UsageData: { Size: 10 } },
        { Name: "someone-elses-sandbox", UsageData: { Size: 10 } },
        { Name: sandboxVolumeName("unmeasured"), UsageData: { Size: -1 } },
      ],
    });
    expect(use.volumes).toEqual({ count: 4, bytes: 4096 + GiB + 1 });
  });

  it("counts our sandbox images only", () => {
    const use = diskUseOf({
      Images: [
        { RepoTags: [`${DEFAULT_IMAGE_REPOSITORY}:abc`], Size: 300 },
        { RepoTags: ["node:24"], Size: 1000 },
        { RepoTags: null, Size: 5 },
      ],
      Volumes: null,
    });
    expect(use).toEqual({ images: { count: 1, bytes: 300 }, volumes: { count: 0, bytes: 0 } });
  });
});
