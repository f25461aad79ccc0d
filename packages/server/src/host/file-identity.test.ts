import { describe, expect, it } from "vitest";
import { describeUnsafePath, describeUntrustedLink, parseFileStats, tidyPath } from "./file-identity.js";

const hex = (text: string) => Buffer.from(text, "utf8").toString("hex");

describe("file identity output", () => {
  it("parses unsafe and untrusted lines strictly, refusing names with control characters", () => {
    const output = [
      `unsafe\t${hex("/srv/open/app.conf")}\twritable\t${hex("/srv/open")}\t0\t777`,
      `unsafe\t${hex("/srv/x")}\tunreadable\t${hex("/srv")}\t0\t0`,
      `untrusted\t${hex("/srv/app.conf")}\t${hex("/srv/app.conf")}\tlink\t${hex("/srv/app.conf")}\t65534\t0`,
      `untrusted\t${hex("/srv/evil\nname")}\t${hex("/srv/l")}\tlink\t${hex("/srv/l")}\t65534\t0`,
    ].join("\n");
    const [unsafe, unreadable, untrusted, refused] = parseFileStats(output);
    expect(unsafe).toEqual({
      status: "unsafe",
      path: "/srv/open/app.conf",
      directory: "/srv/open",
      reason: "writable",
      uid: 0,
      mode: "777",
    });
    // A directory chaos cannot read counts as one others may write.
    expect(unreadable).toMatchObject({ status: "unsafe", reason: "writable" });
    expect(untrusted).toMatchObject({ status: "untrusted", given: "/srv/app.conf", link: "/srv/app.conf", reason: "link", uid: 65534 });
    expect(refused).toMatchObject({ status: "refused", name: { reason: "holds a newline or control character" } });
    for (const bad of [
      `unsafe\t${hex("/a")}\tforged\t${hex("/")}\t0\t777`,
      `unsafe\t${hex("/a")}\twritable\t${hex("/")}\t0`,
      `untrusted\t${hex("/a")}\t${hex("/a")}\tlink\t${hex("/a")}\tx\t0`,
    ]) {
      expect(() => parseFileStats(bad)).toThrow(/unexpected output while reading file modes/);
    }
  });

  it("describes refusals with the path, the directory or link, why, and what to do", () => {
    expect(describeUnsafePath("web1", { path: "/srv/a", directory: "/srv", reason: "owner", uid: 33, mode: "755" })).toBe(
      "web1 has no perl, so chaos can change modes there only by name, and /srv/a is refused: the directory /srv on its way belongs to uid 33, who can change its entries, so another user could swap the file or a parent for a symlink. Install perl on web1, or name paths whose directories only root can write",
    );
    expect(
      describeUntrustedLink("web1", { given: "/srv/a", link: "/srv/a", reason: "link", directory: "/srv/a", uid: 33, mode: "0" }),
    ).toContain(
      "web1: /srv/a leads through the symlink /srv/a, which belongs to uid 33: another user chose or can change which file that is",
    );
  });

  it("tidies a path without changing which file it names", () => {
    expect(["/a//b/", "/", "//", "/a/./b", "/a/../b", "/a/.b"].map(tidyPath)).toEqual(["/a/b", "/", "/", "/a/b", "/a/../b", "/a/.b"]);
  });
});
