// A small static C program that tries, from wherever it runs, to take hold of another process the
// ways Node cannot: ptrace (PTRACE_ATTACH, PTRACE_SEIZE), process_vm_readv, and through a pidfd,
// copying one of its file descriptors (pidfd_getfd) and signalling it (pidfd_send_signal). The
// red-team points it at the sandboxed gateway from the tools' domain. Compiled on the host like
// docker-probe.ts; static, so it runs in the Debian minbase image.
//
//   gateway-probe PID   prints one line per attempt: "<op> ok" or "<op> <ERRNO>"
import { compileStaticProbe } from "./docker-probe.js";

const SOURCE = String.raw`
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

static void report(const char *op, long rc) {
    if (rc >= 0) printf("%s ok\n", op);
    else printf("%s %s\n", op, strerrorname_np(errno));
}

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: gateway-probe PID\n"); return 64; }
    setvbuf(stdout, NULL, _IOLBF, 0);
    pid_t pid = (pid_t)atoi(argv[1]);
    long rc;
    errno = 0; rc = ptrace(PTRACE_ATTACH, pid, 0, 0); report("ptrace-attach", rc);
    if (rc == 0) ptrace(PTRACE_DETACH, pid, 0, 0);
    errno = 0; rc = ptrace(PTRACE_SEIZE, pid, 0, 0); report("ptrace-seize", rc);
    if (rc == 0) ptrace(PTRACE_DETACH, pid, 0, 0);
    char buf[8];
    struct iovec local = {buf, sizeof(buf)}, remote = {(void *)0x400000, sizeof(buf)};
    errno = 0; report("process_vm_readv", process_vm_readv(pid, &local, 1, &remote, 1, 0));
    errno = 0; int pidfd = (int)syscall(SYS_pidfd_open, pid, 0); report("pidfd_open", pidfd);
    if (pidfd >= 0) {
        for (int fd = 0; fd < 64; fd++) {
            errno = 0; long got = syscall(SYS_pidfd_getfd, pidfd, fd, 0);
            if (got >= 0 || errno != EBADF) { report("pidfd_getfd", got); break; }
        }
        errno = 0; report("pidfd_send_signal", syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0));
    }
    return 0;
}
`;

let built: Promise<string> | undefined;

/** Host path of the compiled `gateway-probe`; compiled once per source version. */
export function gatewayProbeBinary(): Promise<string> {
  built ??= compileStaticProbe("gateway-probe", SOURCE);
  return built;
}
