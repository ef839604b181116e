// A small static C program that tries to send an HTTP request through the sandbox's forwarder
// under another binary's name, the ways an untrusted agent would (compiled on the host like
// docker-probe.ts, copied into /sandbox as the workload):
//
//   spoof connect    HOST PORT PATH        one process connects and sends (the honest case)
//   spoof fork-exec  HOST PORT PATH IDLE   the socket is made, then the process forks: the parent
//                                          execs IDLE (e.g. /usr/bin/sleep) holding the inherited
//                                          socket, the child connects and sends once the parent
//                                          runs IDLE
//   spoof nondumpable HOST PORT PATH IDLE  the same, but the sender makes itself non-dumpable (its
//                                          fd table unreadable) and the child execs IDLE
//
// Prints the proxy's raw answer (status line, headers, body) on stdout, or "error <where> <errno>".
import { compileStaticProbe } from "./docker-probe.js";

const SOURCE = String.raw`
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void fail(const char *where) { printf("error %s %s\n", where, strerrorname_np(errno)); fflush(stdout); }

/* Waits (up to 10 s) until process pid runs exe. */
static int wait_exe(pid_t pid, const char *exe) {
    char link[64], target[4096];
    snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
    for (int i = 0; i < 1000; i++) {
        ssize_t n = readlink(link, target, sizeof(target) - 1);
        if (n > 0) { target[n] = 0; if (strcmp(target, exe) == 0) return 0; }
        struct timespec t = {0, 10 * 1000 * 1000};
        nanosleep(&t, NULL);
    }
    return -1;
}

/* Connects s to the forwarder, sends one absolute-form GET, prints the whole answer. */
static int exchange(int s, const char *host, const char *port, const char *path) {
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons(3128);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(s, (struct sockaddr *)&a, sizeof(a)) != 0) { fail("connect"); return 1; }
    char req[2048];
    int len = snprintf(req, sizeof(req), "GET http://%s:%s%s HTTP/1.1\r\nHost: %s:%s\r\nConnection: close\r\n\r\n", host, port, path, host, port);
    if (write(s, req, len) != len) { fail("write"); return 1; }
    struct timeval tv = {15, 0}; /* never hang a test on a proxy that keeps the connection */
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    char buf[8192];
    ssize_t n;
    while ((n = read(s, buf, sizeof(buf))) > 0) fwrite(buf, 1, n, stdout);
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOFBF, 1 << 16);
    if (argc < 5) { fprintf(stderr, "usage: spoof MODE HOST PORT PATH [IDLE]\n"); return 64; }
    const char *mode = argv[1], *host = argv[2], *port = argv[3], *path = argv[4];
    int s = socket(AF_INET, SOCK_STREAM, 0); /* no CLOEXEC: an exec'd program keeps it */
    if (s < 0) { fail("socket"); return 1; }
    if (strcmp(mode, "connect") == 0) return exchange(s, host, port, path);
    if (argc < 6) { fprintf(stderr, "%s needs IDLE\n", mode); return 64; }
    const char *idle = argv[5];
    char *idle_argv[] = {(char *)idle, "30", NULL};
    if (strcmp(mode, "fork-exec") == 0) {
        pid_t child = fork();
        if (child > 0) { execv(idle, idle_argv); fail("execv"); return 1; }
        pid_t parent = getppid();
        if (wait_exe(parent, idle) != 0) { fail("wait-exe"); return 1; }
        int rc = exchange(s, host, port, path);
        kill(parent, SIGKILL);
        return rc;
    }
    if (strcmp(mode, "nondumpable") == 0) {
        pid_t child = fork();
        if (child == 0) { execv(idle, idle_argv); fail("execv"); _exit(1); }
        if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) { fail("prctl"); return 1; }
        if (wait_exe(child, idle) != 0) { fail("wait-exe"); return 1; }
        int rc = exchange(s, host, port, path);
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
        return rc;
    }
    fprintf(stderr, "unknown mode %s\n", mode);
    return 64;
}
`;

let built: Promise<string> | undefined;

/** Host path of the compiled `spoof` binary; compiled once per source version. */
export function spoofBinary(): Promise<string> {
  built ??= compileStaticProbe("spoof", SOURCE);
  return built;
}

/** The proxy's answer as the probe printed it: status and JSON body (or the probe's own error). */
export function parseSpoof(stdout: string): { status: number | null; body: Record<string, unknown> | null; raw: string } {
  const status = /^HTTP\/1\.1 (\d{3})/.exec(stdout);
  const split = stdout.indexOf("\r\n\r\n");
  let body: Record<string, unknown> | null = null;
  if (split >= 0) {
    try {
      body = JSON.parse(stdout.slice(split + 4)) as Record<string, unknown>;
    } catch {
      body = null;
    }
  }
  return { status: status ? Number(status[1]) : null, body, raw: stdout };
}
