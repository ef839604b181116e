// Caller identification while processes are being started beside the caller, on the host, as
// root (as the supervisor runs it): a real TCP client holding its connection as uid 1000, and a
// loop starting programs the way a launcher does (root → uid 1000 → execve). While such a
// launcher is between taking the uid and its execve, the kernel makes it non-dumpable and its
// file table reads EACCES to the workload's uid; a scan that meets it must look again rather than
// refuse the caller. One that stays non-dumpable is still refused (test/redteam/caller-identity).
import { spawn, type ChildProcess } from "node:child_process";
import { realpathSync } from "node:fs";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExeHashes, identifyCaller } from "../../blueprint/supervisor/identify.js";

const WORKLOAD = { uid: 1000, gid: 1000 };
const asWorkload = ["--reuid=1000", "--regid=1000", "--clear-groups"];
let server: net.Server;
let client: ChildProcess;
let launches: ChildProcess;
let clientPort: number;
let serverPort: number;

beforeAll(async () => {
  const accepted = new Promise<net.Socket>((resolve) => {
    server = net.createServer(resolve);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  serverPort = (server.address() as net.AddressInfo).port;
  // bash alone holds the connection (`read` is a builtin), as uid 1000.
  client = spawn("setpriv", [...asWorkload, "bash", "-c", `exec 3<>/dev/tcp/127.0.0.1/${serverPort}; read -r -t 600 <&3`], { stdio: "ignore" });
  clientPort = (await accepted).remotePort ?? 0;
  launches = spawn("sh", ["-c", `while :; do setpriv ${asWorkload.join(" ")} true; done`], { stdio: "ignore" });
}, 60_000);

afterAll(async () => {
  launches?.kill("SIGKILL");
  client?.kill("SIGKILL");
  await new Promise((r) => server?.close(r));
});

describe("caller identification beside processes being started", () => {
  it("names the caller every time, through 300 identifications while a launcher loop runs", async () => {
    const hashes = new ExeHashes();
    const bash = realpathSync("/bin/bash");
    const refused: string[] = [];
    for (let i = 0; i < 300; i++) {
      const caller = await identifyCaller(clientPort, serverPort, WORKLOAD, hashes);
      if (caller.exe !== bash) refused.push(caller.unidentified ?? String(caller.exe));
    }
    expect(refused).toEqual([]);
  }, 300_000);
});
