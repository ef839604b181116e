// The sandbox's seccomp profile, generated as Docker's JSON profile format.
//
// Allow-list: every syscall not named below fails with EPERM, so syscalls a
// newer kernel adds stay blocked until someone decides otherwise. The allowed
// set is what Node, glibc, a POSIX shell and the Landlock launcher use; the
// kernel's own checks (no capabilities, uid 1000, Landlock) still apply on top.
//
// Arguments are filtered where a syscall is only dangerous with some flags:
// clone and unshare with namespace flags, socket by address family, and
// personality. clone3 passes its flags in memory, which seccomp cannot read,
// so it returns ENOSYS: glibc then falls back to clone, whose flags we can see.
//
// Only the native architecture is listed. A 32-bit entry point (int 0x80 on
// x86_64) would reach syscalls such as socketcall that carry their arguments
// in memory; with no filter for that architecture the kernel refuses them.

export type SeccompAction = "SCMP_ACT_ALLOW" | "SCMP_ACT_ERRNO" | "SCMP_ACT_KILL_PROCESS" | "SCMP_ACT_LOG";
export type SeccompOperator =
  | "SCMP_CMP_EQ"
  | "SCMP_CMP_NE"
  | "SCMP_CMP_LT"
  | "SCMP_CMP_LE"
  | "SCMP_CMP_GT"
  | "SCMP_CMP_GE"
  | "SCMP_CMP_MASKED_EQ";

/** One comparison; MASKED_EQ tests `(arg & value) == valueTwo`. */
export interface SeccompArg {
  index: number;
  value: number;
  valueTwo?: number;
  op: SeccompOperator;
}

export interface SeccompRule {
  names: string[];
  action: SeccompAction;
  errnoRet?: number;
  /** All comparisons must hold (AND); several rules for one syscall are OR-ed. */
  args?: SeccompArg[];
  comment?: string;
}

/** Docker's seccomp profile format (`--security-opt seccomp=<json>`). */
export interface SeccompProfile {
  defaultAction: SeccompAction;
  defaultErrnoRet: number;
  architectures: string[];
  syscalls: SeccompRule[];
}

export type SeccompArch = "x64" | "arm64";

export interface SeccompOptions {
  /** CPU architecture of the Docker host. Default: this process's. */
  arch?: SeccompArch;
  /** Extra syscalls to allow. Naming one of BLOCKED_SYSCALLS is an error. */
  allowSyscalls?: readonly string[];
}

const EPERM = 1;
const ENOSYS = 38;

const AF_UNIX = 1;
const AF_INET = 2;
const AF_INET6 = 10;
const AF_NETLINK = 16;
const NETLINK_ROUTE = 0;
const SOCK_STREAM = 1;
const SOCK_DGRAM = 2;
/** The socket type shares its argument with SOCK_NONBLOCK / SOCK_CLOEXEC. */
const SOCK_TYPE_MASK = 0xf;

const CLONE_NEWTIME = 0x00000080;
const CLONE_NEWNS = 0x00020000;
const CLONE_NEWCGROUP = 0x02000000;
const CLONE_NEWUTS = 0x04000000;
const CLONE_NEWIPC = 0x08000000;
const CLONE_NEWUSER = 0x10000000;
const CLONE_NEWPID = 0x20000000;
const CLONE_NEWNET = 0x40000000;
/** CLONE_NEWTIME is left out for clone(): there bit 0x80 is part of the exit signal. */
const CLONE_NAMESPACE_FLAGS =
  CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET;

const PER_LINUX = 0;
const PERSONALITY_QUERY = 0xffffffff;

/**
 * Denied with EPERM whatever the options say. They are absent from the allow
 * list (so the default action already denies them); naming them here is the
 * contract the red-team tests check and what allowSyscalls may not override.
 */
export const BLOCKED_SYSCALLS: readonly string[] = [
  // reading or writing another process's memory
  "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd", "process_madvise",
  // mounts, old and new API
  "mount", "umount", "umount2", "pivot_root", "chroot",
  "fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree", "open_tree_attr", "mount_setattr",
  // namespaces (unshare and clone are allowed only without namespace flags)
  "setns",
  // kernel attack surface with a history of privilege escalations
  "bpf", "perf_event_open", "userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register",
  "keyctl", "add_key", "request_key",
  // the kernel itself
  "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module", "reboot",
  "swapon", "swapoff", "syslog", "acct", "quotactl", "quotactl_fd", "lookup_dcookie",
  "iopl", "ioperm", "modify_ldt", "uselib", "vhangup", "nfsservctl",
  "settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "sethostname", "setdomainname",
  // handles that bypass path checks (Landlock, mount boundaries)
  "open_by_handle_at", "name_to_handle_at", "fanotify_init", "fanotify_mark",
  "mbind", "set_mempolicy", "migrate_pages", "move_pages",
];

/**
 * Allowed unconditionally. Names a kernel or libseccomp does not know for the
 * target architecture (e.g. x86-only `open` on arm64) are skipped by runc.
 */
const ALLOWED_SYSCALLS: readonly string[] = [
  // files and directories
  "access", "faccessat", "faccessat2", "open", "openat", "openat2", "creat", "close", "close_range",
  "read", "readv", "pread64", "preadv", "preadv2", "write", "writev", "pwrite64", "pwritev", "pwritev2",
  "lseek", "stat", "fstat", "lstat", "newfstatat", "statx", "statfs", "fstatfs",
  "getdents", "getdents64", "getcwd", "chdir", "fchdir", "mkdir", "mkdirat", "rmdir",
  "rename", "renameat", "renameat2", "link", "linkat", "unlink", "unlinkat", "symlink", "symlinkat",
  "readlink", "readlinkat", "chmod", "fchmod", "fchmodat", "fchmodat2", "chown", "fchown", "lchown", "fchownat",
  "truncate", "ftruncate", "fallocate", "fsync", "fdatasync", "sync", "syncfs", "sync_file_range", "flock",
  "fadvise64", "readahead", "umask", "utime", "utimes", "utimensat", "futimesat", "mknod", "mknodat",
  "getxattr", "lgetxattr", "fgetxattr", "listxattr", "llistxattr", "flistxattr",
  "setxattr", "lsetxattr", "fsetxattr", "removexattr", "lremovexattr", "fremovexattr",
  "copy_file_range", "sendfile", "splice", "tee", "vmsplice", "cachestat",
  "dup", "dup2", "dup3", "fcntl", "ioctl", "pipe", "pipe2",
  "inotify_init", "inotify_init1", "inotify_add_watch", "inotify_rm_watch",
  "io_setup", "io_destroy", "io_submit", "io_cancel", "io_getevents", "io_pgetevents",
  // memory
  "brk", "mmap", "munmap", "mremap", "mprotect", "madvise", "mincore", "msync", "remap_file_pages",
  "mlock", "mlock2", "munlock", "mlockall", "munlockall", "memfd_create", "membarrier",
  "pkey_alloc", "pkey_free", "pkey_mprotect", "mseal",
  // processes and threads (clone: see the argument rules)
  "fork", "vfork", "execve", "execveat", "exit", "exit_group", "wait4", "waitid",
  "kill", "tkill", "tgkill", "pidfd_open", "pidfd_send_signal", "process_mrelease",
  "getpid", "getppid", "gettid", "getpgid", "setpgid", "getpgrp", "getsid", "setsid",
  "getuid", "geteuid", "getgid", "getegid", "getresuid", "getresgid", "getgroups",
  // the supervisor drops root for uid 1000; without capabilities these can only lower privilege
  "setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid", "setfsuid", "setfsgid", "setgroups",
  "capget", "capset", "prctl", "arch_prctl", "seccomp", "set_tid_address", "set_robust_list",
  "get_robust_list", "rseq", "getrlimit", "setrlimit", "prlimit64", "getrusage", "getpriority",
  "setpriority", "ioprio_get", "ioprio_set", "sched_yield", "sched_getaffinity", "sched_setaffinity",
  "sched_getattr", "sched_setattr", "sched_getparam", "sched_setparam", "sched_getscheduler",
  "sched_setscheduler", "sched_get_priority_max", "sched_get_priority_min", "sched_rr_get_interval",
  "getcpu", "uname", "sysinfo", "times", "restart_syscall",
  "landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self",
  // signals, time, waiting
  "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigpending", "rt_sigsuspend",
  "rt_sigtimedwait", "rt_sigqueueinfo", "rt_tgsigqueueinfo", "sigaltstack", "signalfd", "signalfd4",
  "pause", "alarm", "nanosleep", "clock_nanosleep", "clock_gettime", "clock_getres", "gettimeofday", "time",
  "getitimer", "setitimer", "timer_create", "timer_delete", "timer_gettime", "timer_settime",
  "timer_getoverrun", "timerfd_create", "timerfd_gettime", "timerfd_settime",
  "futex", "futex_waitv", "futex_wait", "futex_wake", "futex_requeue",
  "poll", "ppoll", "select", "pselect6", "epoll_create", "epoll_create1", "epoll_ctl", "epoll_wait",
  "epoll_pwait", "epoll_pwait2", "eventfd", "eventfd2", "getrandom",
  // System V and POSIX IPC stay inside the container's own IPC namespace
  "shmget", "shmat", "shmdt", "shmctl", "semget", "semop", "semtimedop", "semctl",
  "msgget", "msgsnd", "msgrcv", "msgctl",
  "mq_open", "mq_unlink", "mq_timedsend", "mq_timedreceive", "mq_notify", "mq_getsetattr",
  // sockets (socket itself: see the argument rules); there is no interface but loopback
  "socketpair", "bind", "listen", "accept", "accept4", "connect", "shutdown",
  "getsockname", "getpeername", "getsockopt", "setsockopt",
  "sendto", "sendmsg", "sendmmsg", "recvfrom", "recvmsg", "recvmmsg",
];

const ARCHITECTURES: Record<SeccompArch, string> = {
  x64: "SCMP_ARCH_X86_64",
  arm64: "SCMP_ARCH_AARCH64",
};

function currentArch(): SeccompArch {
  if (process.arch === "x64" || process.arch === "arm64") return process.arch;
  throw new Error(`no seccomp profile for CPU architecture ${process.arch} (supported: x64, arm64)`);
}

function socketRule(domain: number, comment: string, ...more: SeccompArg[]): SeccompRule {
  return {
    names: ["socket"],
    action: "SCMP_ACT_ALLOW",
    args: [{ index: 0, value: domain, op: "SCMP_CMP_EQ" }, ...more],
    comment,
  };
}

function socketType(type: number): SeccompArg {
  return { index: 1, value: SOCK_TYPE_MASK, valueTwo: type, op: "SCMP_CMP_MASKED_EQ" };
}

/** The profile for `HostConfig.SecurityOpt: ["seccomp=" + JSON.stringify(profile)]`. */
export function buildSeccompProfile(options: SeccompOptions = {}): SeccompProfile {
  const arch = options.arch ?? currentArch();
  const extra = options.allowSyscalls ?? [];
  const forbidden = extra.filter((name) => BLOCKED_SYSCALLS.includes(name));
  if (forbidden.length > 0) {
    throw new Error(`seccomp: ${forbidden.join(", ")} cannot be allowed: the sandbox always blocks them`);
  }
  const allowed = [...new Set([...ALLOWED_SYSCALLS, ...extra])];

  return {
    defaultAction: "SCMP_ACT_ERRNO",
    defaultErrnoRet: EPERM,
    architectures: [ARCHITECTURES[arch]],
    syscalls: [
      { names: allowed, action: "SCMP_ACT_ALLOW" },
      {
        names: ["clone"],
        action: "SCMP_ACT_ALLOW",
        args: [{ index: 0, value: CLONE_NAMESPACE_FLAGS, valueTwo: 0, op: "SCMP_CMP_MASKED_EQ" }],
        comment: "threads and processes, but no new namespaces",
      },
      {
        names: ["unshare"],
        action: "SCMP_ACT_ALLOW",
        args: [{ index: 0, value: CLONE_NAMESPACE_FLAGS | CLONE_NEWTIME, valueTwo: 0, op: "SCMP_CMP_MASKED_EQ" }],
        comment: "unsharing files or fs state is harmless; namespaces are not",
      },
      {
        names: ["clone3"],
        action: "SCMP_ACT_ERRNO",
        errnoRet: ENOSYS,
        comment: "flags live in memory seccomp cannot inspect; ENOSYS makes libc fall back to clone",
      },
      socketRule(AF_UNIX, "Unix sockets: the way out is the runtime's proxy socket"),
      socketRule(AF_INET, "TCP over IPv4 (loopback forwarder)", socketType(SOCK_STREAM)),
      socketRule(AF_INET, "UDP over IPv4 (loopback only: there is no other interface)", socketType(SOCK_DGRAM)),
      socketRule(AF_INET6, "TCP over IPv6", socketType(SOCK_STREAM)),
      socketRule(AF_INET6, "UDP over IPv6", socketType(SOCK_DGRAM)),
      socketRule(
        AF_NETLINK,
        "NETLINK_ROUTE only: getifaddrs() and glibc's resolver read interfaces through it",
        { index: 2, value: NETLINK_ROUTE, op: "SCMP_CMP_EQ" },
      ),
      {
        names: ["personality"],
        action: "SCMP_ACT_ALLOW",
        args: [{ index: 0, value: PER_LINUX, op: "SCMP_CMP_EQ" }],
      },
      {
        names: ["personality"],
        action: "SCMP_ACT_ALLOW",
        args: [{ index: 0, value: PERSONALITY_QUERY, op: "SCMP_CMP_EQ" }],
      },
    ],
  };
}

/** The `HostConfig.SecurityOpt` entry that applies a profile. */
export function seccompSecurityOpt(profile: SeccompProfile): string {
  return `seccomp=${JSON.stringify(profile)}`;
}
