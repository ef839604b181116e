// A small static C program that makes the raw syscalls the red-team tests
// need (Node has no ptrace, raw sockets or mount API). It is compiled on the
// host and bind-mounted read-only into the sandbox, which the spec allows for
// any given mount.
//
//   probe OP [OP...]   prints one line per OP: "<op> ok" or "<op> <ERRNO>"
//                      or "<op> signal <N>" when the attempt was killed.
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, chown, copyFile, mkdir, rename, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";

const SOURCE = String.raw`
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

static void report(const char *op, long rc) {
    if (rc >= 0) printf("%s ok\n", op);
    else printf("%s %s\n", op, strerrorname_np(errno));
}

static pid_t sleeper(void) {
    pid_t pid = fork();
    if (pid == 0) { pause(); _exit(0); }
    return pid;
}

static void reap(pid_t pid) { kill(pid, SIGKILL); waitpid(pid, NULL, 0); }

/* Runs fn in a child so a seccomp kill or a namespace change stays there. */
static void in_child(const char *op, long (*fn)(void)) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        long rc = fn();
        if (rc >= 0) _exit(0);
        _exit(errno & 0xff);
    }
    int status;
    waitpid(pid, &status, 0);
    if (WIFSIGNALED(status)) printf("%s signal %d\n", op, WTERMSIG(status));
    else if (WEXITSTATUS(status) == 0) printf("%s ok\n", op);
    else printf("%s %s\n", op, strerrorname_np(WEXITSTATUS(status)));
}

static long do_unshare_user(void) { return unshare(CLONE_NEWUSER); }
static long do_unshare_net(void) { return unshare(CLONE_NEWNET); }
static long do_userns_mount(void) {
    if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) return -1;
    return mount("none", "/tmp", "tmpfs", 0, NULL);
}
static long do_mount(void) { return mount("none", "/tmp", "tmpfs", 0, NULL); }
static long do_clone_newuser(void) {
    long pid = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
    if (pid == 0) _exit(0);
    if (pid > 0) waitpid((pid_t)pid, NULL, 0);
    return pid;
}
static long do_clone3(void) {
    struct clone_args args;
    memset(&args, 0, sizeof(args));
    args.exit_signal = SIGCHLD;
    long pid = syscall(SYS_clone3, &args, sizeof(args));
    if (pid == 0) _exit(0);
    if (pid > 0) waitpid((pid_t)pid, NULL, 0);
    return pid;
}
#if defined(__x86_64__)
static long do_int80(void) {
    long rc;
    /* i386 getpid (20) through the 32-bit entry point. */
    __asm__ volatile("int $0x80" : "=a"(rc) : "a"(20L) : "memory");
    if (rc < 0) { errno = (int)-rc; return -1; }
    return rc;
}
#endif

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (int i = 1; i < argc; i++) {
        const char *op = argv[i];
        errno = 0;
        if (strcmp(op, "ptrace") == 0) {
            pid_t child = sleeper();
            long rc = ptrace(PTRACE_ATTACH, child, 0, 0);
            report(op, rc);
            reap(child);
        } else if (strcmp(op, "process_vm_readv") == 0) {
            pid_t child = sleeper();
            char buf[8], *src = buf;
            struct iovec local = {buf, sizeof(buf)}, remote = {src, sizeof(buf)};
            report(op, process_vm_readv(child, &local, 1, &remote, 1, 0));
            reap(child);
        } else if (strncmp(op, "socket:", 7) == 0) {
            int domain, type, proto;
            if (sscanf(op + 7, "%d:%d:%d", &domain, &type, &proto) != 3) { printf("%s bad-op\n", op); continue; }
            int fd = socket(domain, type, proto);
            report(op, fd);
            if (fd >= 0) close(fd);
        } else if (strcmp(op, "unshare-user") == 0) in_child(op, do_unshare_user);
        else if (strcmp(op, "unshare-net") == 0) in_child(op, do_unshare_net);
        else if (strcmp(op, "userns-mount") == 0) in_child(op, do_userns_mount);
        else if (strcmp(op, "mount") == 0) in_child(op, do_mount);
        else if (strcmp(op, "clone-newuser") == 0) in_child(op, do_clone_newuser);
        else if (strcmp(op, "clone3") == 0) in_child(op, do_clone3);
#if defined(__x86_64__)
        else if (strcmp(op, "int80") == 0) in_child(op, do_int80);
#endif
        else if (strcmp(op, "umount2") == 0) report(op, umount2("/sandbox", MNT_DETACH));
        else if (strcmp(op, "pivot_root") == 0) report(op, syscall(SYS_pivot_root, "/nonexistent", "/nonexistent"));
        else if (strcmp(op, "fsopen") == 0) report(op, syscall(SYS_fsopen, "tmpfs", 0));
        else if (strcmp(op, "fsconfig") == 0) report(op, syscall(SYS_fsconfig, -1, 0, NULL, NULL, 0));
        else if (strcmp(op, "fsmount") == 0) report(op, syscall(SYS_fsmount, -1, 0, 0));
        else if (strcmp(op, "move_mount") == 0) report(op, syscall(SYS_move_mount, -1, "", -1, "", 0));
        else if (strcmp(op, "open_tree") == 0) report(op, syscall(SYS_open_tree, AT_FDCWD, "/tmp", 1 /* OPEN_TREE_CLONE */));
        else if (strcmp(op, "mount_setattr") == 0) report(op, syscall(SYS_mount_setattr, -1, "", 0, NULL, 0));
        else if (strcmp(op, "setns") == 0) report(op, syscall(SYS_setns, -1, 0));
        else if (strcmp(op, "bpf") == 0) {
            char attr[128];
            memset(attr, 0, sizeof(attr));
            report(op, syscall(SYS_bpf, 0 /* BPF_MAP_CREATE */, attr, sizeof(attr)));
        } else if (strcmp(op, "perf_event_open") == 0) {
            char attr[128];
            memset(attr, 0, sizeof(attr));
            *(uint32_t *)(attr + 4) = sizeof(attr); /* size */
            *(uint32_t *)attr = 1;                 /* PERF_TYPE_SOFTWARE, config 0 = cpu-clock */
            attr[40] = 0x60;                       /* exclude_kernel | exclude_hv */
            long fd = syscall(SYS_perf_event_open, attr, 0, -1, -1, 0);
            report(op, fd);
            if (fd >= 0) close((int)fd);
        } else if (strcmp(op, "userfaultfd") == 0) {
            long fd = syscall(SYS_userfaultfd, 1 /* UFFD_USER_MODE_ONLY */);
            report(op, fd);
            if (fd >= 0) close((int)fd);
        } else if (strcmp(op, "add_key") == 0) report(op, syscall(SYS_add_key, "user", "nemoclaw-probe", "x", 1, -2 /* process keyring */));
        else if (strcmp(op, "keyctl") == 0) report(op, syscall(SYS_keyctl, 0 /* GET_KEYRING_ID */, -3 /* session */, 0));
        else if (strcmp(op, "request_key") == 0) report(op, syscall(SYS_request_key, "user", "nemoclaw-absent", NULL, 0));
        else if (strcmp(op, "io_uring_setup") == 0) {
            char params[120];
            memset(params, 0, sizeof(params));
            long fd = syscall(SYS_io_uring_setup, 1, params);
            report(op, fd);
            if (fd >= 0) close((int)fd);
        } else if (strcmp(op, "finit_module") == 0) report(op, syscall(SYS_finit_module, -1, "", 0));
        else if (strcmp(op, "init_module") == 0) report(op, syscall(SYS_init_module, NULL, 0, ""));
        else if (strcmp(op, "delete_module") == 0) report(op, syscall(SYS_delete_module, "nemoclaw_absent", O_NONBLOCK));
        else if (strcmp(op, "kexec_file_load") == 0) report(op, syscall(SYS_kexec_file_load, -1, -1, 0, "", 0));
        else if (strncmp(op, "ptrace-pid:", 11) == 0) report(op, ptrace(PTRACE_ATTACH, (pid_t)atoi(op + 11), 0, 0));
        else if (strncmp(op, "seize-pid:", 10) == 0) report(op, ptrace(PTRACE_SEIZE, (pid_t)atoi(op + 10), 0, 0));
        else if (strncmp(op, "kill-pid:", 9) == 0) report(op, kill((pid_t)atoi(op + 9), SIGKILL));
        else if (strncmp(op, "vmread-pid:", 11) == 0) {
            char buf[8];
            struct iovec local = {buf, sizeof(buf)}, remote = {(void *)0x400000, sizeof(buf)};
            report(op, process_vm_readv((pid_t)atoi(op + 11), &local, 1, &remote, 1, 0));
        } else if (strcmp(op, "euid") == 0) printf("euid %d\n", (int)geteuid());
        else printf("%s unknown-op\n", op);
    }
    return 0;
}
`;

export const PROBE_DIR_IN_SANDBOX = "/opt/nemoclaw-probe";
export const PROBE_IN_SANDBOX = `${PROBE_DIR_IN_SANDBOX}/probe`;

/**
 * Compiles `source` into a static binary named `name` under the host's tmp dir, once per source
 * version (the folder is named by the source's hash), and returns its path. Static, so it runs in
 * any image.
 */
export async function compileStaticProbe(name: string, source: string): Promise<string> {
  const hash = createHash("sha256").update(source).digest("hex").slice(0, 12);
  const dir = path.join(os.tmpdir(), `nemoclaw-${name}-${hash}`);
  const binary = path.join(dir, name);
  if (existsSync(binary)) return binary;
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const file = path.join(dir, `${name}.c`);
  await writeFile(file, source);
  await execa("gcc", ["-O1", "-static", "-Wall", "-o", `${binary}.tmp`, file]);
  await rename(`${binary}.tmp`, binary);
  return binary;
}

let built: Promise<string> | undefined;

/** Host directory holding the compiled `probe`; compiled once per source version. */
export function probeDir(): Promise<string> {
  built ??= compileStaticProbe("probe", SOURCE).then((binary) => path.dirname(binary));
  return built;
}

/** A root-owned setuid copy of the probe, for the setuid-gain case. */
export async function setuidProbeDir(): Promise<string> {
  const dir = `${await probeDir()}-suid`;
  const binary = path.join(dir, "probe");
  await mkdir(dir, { recursive: true, mode: 0o755 });
  await copyFile(path.join(await probeDir(), "probe"), binary);
  await chown(binary, 0, 0);
  await chmod(binary, 0o4755);
  return dir;
}

/** Parses probe output into op → result ("ok", "EPERM", "signal 31"). */
export function parseProbe(stdout: string): Record<string, string> {
  const results: Record<string, string> = {};
  for (const line of stdout.split("\n")) {
    const space = line.indexOf(" ");
    if (space > 0) results[line.slice(0, space)] = line.slice(space + 1);
  }
  return results;
}
