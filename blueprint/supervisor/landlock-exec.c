/*
 * landlock-exec — confine a command with Landlock, then exec it.
 *
 *   landlock-exec --abi
 *   landlock-exec [--best-effort | --hard-requirement] [--uid N --gid N]
 *                 [--ready-fd N] [--ro PATH...] [--rw PATH...]
 *                 [--connect-tcp PORT...] [--bind-tcp PORT...]
 *                 -- CMD [ARGS...]
 *
 * The sandbox supervisor runs the workload through this launcher. Landlock is
 * only reachable through raw syscalls, and Node cannot make them, so this is
 * the one native piece of the sandbox. It is built statically so it runs on
 * any base image and does not depend on the image's libc at run time.
 *
 * Everything is deny-by-default: the ruleset handles every access right the
 * running kernel knows, and only the listed paths (and ports) get rights back.
 * TCP is handled too (ABI >= 4), so with no --connect-tcp / --bind-tcp the
 * workload cannot open or accept TCP connections at all; its only way out is
 * the Unix socket the host runtime mounts in.
 *
 * --ready-fd N: an inherited pipe that tells the caller whether the exec
 * happened. It is marked close-on-exec just before execvp, so a successful
 * exec closes it with nothing written (the caller reads EOF); a failure writes
 * one line there first. The supervisor uses it to know the workload is up.
 *
 * Exit codes: the command's own once exec'd; 2 when confinement cannot be put
 * in place (fail closed); 64 on a usage error; 126/127 when exec fails.
 *
 * The kernel UAPI is restated below rather than taken from <linux/landlock.h>:
 * Debian bookworm ships 6.1 headers, which stop at ABI 2, and the launcher has
 * to know the newer rights to handle them on newer kernels.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset 444
#endif
#ifndef __NR_landlock_add_rule
#define __NR_landlock_add_rule 445
#endif
#ifndef __NR_landlock_restrict_self
#define __NR_landlock_restrict_self 446
#endif

/* --- Landlock UAPI (include/uapi/linux/landlock.h) ------------------------ */

struct ll_ruleset_attr {
    uint64_t handled_access_fs;  /* ABI 1 */
    uint64_t handled_access_net; /* ABI 4 */
    uint64_t scoped;             /* ABI 6 */
};

struct ll_path_beneath_attr {
    uint64_t allowed_access;
    int32_t parent_fd;
} __attribute__((packed));

struct ll_net_port_attr {
    uint64_t allowed_access;
    uint64_t port;
};

#define LL_CREATE_RULESET_VERSION (1U << 0)
#define LL_RULE_PATH_BENEATH 1
#define LL_RULE_NET_PORT 2

#define FS_EXECUTE (1ULL << 0)
#define FS_WRITE_FILE (1ULL << 1)
#define FS_READ_FILE (1ULL << 2)
#define FS_READ_DIR (1ULL << 3)
#define FS_REMOVE_DIR (1ULL << 4)
#define FS_REMOVE_FILE (1ULL << 5)
#define FS_MAKE_CHAR (1ULL << 6)
#define FS_MAKE_DIR (1ULL << 7)
#define FS_MAKE_REG (1ULL << 8)
#define FS_MAKE_SOCK (1ULL << 9)
#define FS_MAKE_FIFO (1ULL << 10)
#define FS_MAKE_BLOCK (1ULL << 11)
#define FS_MAKE_SYM (1ULL << 12)
#define FS_REFER (1ULL << 13)     /* ABI 2 */
#define FS_TRUNCATE (1ULL << 14)  /* ABI 3 */
#define FS_IOCTL_DEV (1ULL << 15) /* ABI 5 */

#define NET_BIND_TCP (1ULL << 0)    /* ABI 4 */
#define NET_CONNECT_TCP (1ULL << 1) /* ABI 4 */

#define SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0) /* ABI 6 */
#define SCOPE_SIGNAL (1ULL << 1)               /* ABI 6 */

#define FS_ABI1 ((FS_MAKE_SYM << 1) - 1)

/* Only these rights make sense on a non-directory; the kernel rejects a rule
 * for a file that asks for directory rights, so file rules get masked. */
#define FS_FILE_RIGHTS (FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | FS_TRUNCATE | FS_IOCTL_DEV)

#define FS_RO (FS_EXECUTE | FS_READ_FILE | FS_READ_DIR)

#define EXIT_CONFINE 2
#define EXIT_USAGE 64

enum mode { MODE_HARD, MODE_BEST_EFFORT };

struct options {
    enum mode mode;
    long uid; /* -1: keep */
    long gid; /* -1: keep */
    char **ro;
    int ro_n;
    char **rw;
    int rw_n;
    uint64_t *connect_ports;
    int connect_n;
    uint64_t *bind_ports;
    int bind_n;
    int ready_fd; /* -1: none */
    char **cmd;
};

static void die(int code, const char *fmt, const char *arg) {
    fprintf(stderr, "landlock-exec: ");
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    exit(code);
}

static void die_errno(const char *what, const char *arg) {
    fprintf(stderr, "landlock-exec: %s%s%s: %s\n", what, arg ? " " : "", arg ? arg : "", strerror(errno));
    exit(EXIT_CONFINE);
}

static void usage(void) {
    fputs("usage: landlock-exec --abi\n"
          "       landlock-exec [--best-effort|--hard-requirement] [--uid N --gid N]\n"
          "                     [--ro PATH...] [--rw PATH...] [--connect-tcp PORT...] [--bind-tcp PORT...]\n"
          "                     -- CMD [ARGS...]\n",
          stderr);
    exit(EXIT_USAGE);
}

/* 0 when the kernel has no Landlock: not built in (ENOSYS), disabled at boot
 * (EOPNOTSUPP), or the syscall filtered by seccomp. */
static int landlock_abi(void) {
    long abi = syscall(__NR_landlock_create_ruleset, NULL, 0, LL_CREATE_RULESET_VERSION);
    return abi < 0 ? 0 : (int)abi;
}

static uint64_t fs_rights_for_abi(int abi) {
    uint64_t rights = FS_ABI1;
    if (abi >= 2) rights |= FS_REFER;
    if (abi >= 3) rights |= FS_TRUNCATE;
    if (abi >= 5) rights |= FS_IOCTL_DEV;
    return rights;
}

static long parse_number(const char *s, long max, const char *what) {
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < 0 || v > max) die(EXIT_USAGE, what, s);
    return v;
}

static int is_option(const char *arg) { return strncmp(arg, "--", 2) == 0; }

/* Collects the non-option words after a list option (--ro a b c). */
static int take_list(char **argv, int i, char ***out, int *n) {
    *out = &argv[i];
    *n = 0;
    while (argv[i] != NULL && !is_option(argv[i])) {
        i++;
        (*n)++;
    }
    return i;
}

static int take_ports(char **argv, int i, uint64_t **out, int *n) {
    char **words;
    int count;
    int next = take_list(argv, i, &words, &count);
    uint64_t *ports = realloc(*out, (size_t)(*n + count) * sizeof(uint64_t));
    if (ports == NULL && *n + count > 0) die_errno("out of memory", NULL);
    for (int k = 0; k < count; k++) ports[*n + k] = (uint64_t)parse_number(words[k], 65535, "not a TCP port: %s");
    *out = ports;
    *n += count;
    return next;
}

static void parse_args(int argc, char **argv, struct options *o) {
    memset(o, 0, sizeof(*o));
    o->mode = MODE_HARD; /* fail closed unless the caller opts out */
    o->uid = -1;
    o->gid = -1;
    o->ready_fd = -1;
    int i = 1;
    while (i < argc) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            o->cmd = &argv[i + 1];
            break;
        } else if (strcmp(a, "--best-effort") == 0) {
            o->mode = MODE_BEST_EFFORT;
            i++;
        } else if (strcmp(a, "--hard-requirement") == 0) {
            o->mode = MODE_HARD;
            i++;
        } else if (strcmp(a, "--uid") == 0 && i + 1 < argc) {
            o->uid = parse_number(argv[i + 1], 0x7fffffff, "not a uid: %s");
            i += 2;
        } else if (strcmp(a, "--gid") == 0 && i + 1 < argc) {
            o->gid = parse_number(argv[i + 1], 0x7fffffff, "not a gid: %s");
            i += 2;
        } else if (strcmp(a, "--ready-fd") == 0 && i + 1 < argc) {
            o->ready_fd = (int)parse_number(argv[i + 1], 1023, "not a file descriptor: %s");
            i += 2;
        } else if (strcmp(a, "--ro") == 0) {
            /* Repeated --ro flags must not lose earlier paths, so lists are
             * only accepted once each; the driver always emits one of each. */
            if (o->ro != NULL) die(EXIT_USAGE, "%s given twice", a);
            i = take_list(argv, i + 1, &o->ro, &o->ro_n);
        } else if (strcmp(a, "--rw") == 0) {
            if (o->rw != NULL) die(EXIT_USAGE, "%s given twice", a);
            i = take_list(argv, i + 1, &o->rw, &o->rw_n);
        } else if (strcmp(a, "--connect-tcp") == 0) {
            i = take_ports(argv, i + 1, &o->connect_ports, &o->connect_n);
        } else if (strcmp(a, "--bind-tcp") == 0) {
            i = take_ports(argv, i + 1, &o->bind_ports, &o->bind_n);
        } else {
            fprintf(stderr, "landlock-exec: unknown option %s\n", a);
            usage();
        }
    }
    if (o->cmd == NULL || o->cmd[0] == NULL) usage();
    if ((o->uid < 0) != (o->gid < 0)) die(EXIT_USAGE, "%s", "--uid and --gid go together");
}

/* Empties the capability bounding, ambient and inheritable sets, so nothing
 * the workload runs can ever regain a capability the supervisor holds
 * (CAP_SYS_PTRACE for caller identification, CAP_SETUID/SETGID, CAP_SETPCAP).
 * Dropping from the bounding set needs CAP_SETPCAP, which is why the
 * container grants it; a set that cannot be emptied is a confinement failure. */
static void clear_capability_sets(void) {
    for (int cap = 0; cap <= 63; cap++) {
        int held = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
        if (held < 0) break; /* EINVAL: past the kernel's last capability */
        if (held == 1 && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
            char name[16];
            snprintf(name, sizeof(name), "%d", cap);
            fprintf(stderr, "landlock-exec: cannot drop capability %s from the bounding set "
                            "(needs CAP_SETPCAP): %s\n", name, strerror(errno));
            exit(EXIT_CONFINE);
        }
    }
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
        die_errno("prctl(PR_CAP_AMBIENT_CLEAR_ALL)", NULL);
    struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
    if (syscall(SYS_capget, &header, data) != 0) die_errno("capget", NULL);
    for (int k = 0; k < _LINUX_CAPABILITY_U32S_3; k++) data[k].inheritable = 0;
    if (syscall(SYS_capset, &header, data) != 0) die_errno("capset", NULL);
}

/* Drops to the workload identity. Supplementary groups go first: they are
 * root's and would otherwise follow the workload. Changing uid away from 0
 * also clears the permitted and effective capability sets, which is what
 * leaves the workload with CapEff 0 even though the supervisor held
 * CAP_SETUID/CAP_SETGID to get here; the bounding set is emptied first,
 * while CAP_SETPCAP is still effective. */
static void drop_identity(const struct options *o) {
    if (o->uid < 0) return;
    uid_t uid = (uid_t)o->uid;
    gid_t gid = (gid_t)o->gid;
    clear_capability_sets();
    if (setgroups(0, NULL) != 0 && !(errno == EPERM && getgid() == gid && getegid() == gid))
        die_errno("setgroups", NULL);
    if (setresgid(gid, gid, gid) != 0) die_errno("setresgid", NULL);
    if (setresuid(uid, uid, uid) != 0) die_errno("setresuid", NULL);
    if (getuid() != uid || geteuid() != uid || getgid() != gid || getegid() != gid)
        die(EXIT_CONFINE, "%s", "identity did not change as asked");
}

static void add_path_rules(int ruleset, char **paths, int n, uint64_t want, uint64_t handled) {
    for (int k = 0; k < n; k++) {
        int fd = open(paths[k], O_PATH | O_CLOEXEC);
        if (fd < 0) {
            /* Policies list paths for every image and host layout; a path
             * that is absent here grants nothing, so skipping it is safe. */
            if (errno == ENOENT || errno == ENOTDIR) {
                fprintf(stderr, "landlock-exec: note: %s does not exist, rule skipped\n", paths[k]);
                continue;
            }
            die_errno("cannot open", paths[k]);
        }
        struct stat st;
        if (fstat(fd, &st) != 0) die_errno("cannot stat", paths[k]);
        struct ll_path_beneath_attr rule = {
            .allowed_access = want & handled,
            .parent_fd = fd,
        };
        if (!S_ISDIR(st.st_mode)) rule.allowed_access &= FS_FILE_RIGHTS;
        if (syscall(__NR_landlock_add_rule, ruleset, LL_RULE_PATH_BENEATH, &rule, 0) != 0)
            die_errno("landlock_add_rule", paths[k]);
        close(fd);
    }
}

static void add_port_rules(int ruleset, const uint64_t *ports, int n, uint64_t access) {
    for (int k = 0; k < n; k++) {
        struct ll_net_port_attr rule = {.allowed_access = access, .port = ports[k]};
        if (syscall(__NR_landlock_add_rule, ruleset, LL_RULE_NET_PORT, &rule, 0) != 0)
            die_errno("landlock_add_rule (tcp port)", NULL);
    }
}

static void confine(const struct options *o, int abi) {
    struct ll_ruleset_attr attr = {.handled_access_fs = fs_rights_for_abi(abi)};
    size_t attr_size = sizeof(attr.handled_access_fs);
    if (abi >= 4) {
        attr.handled_access_net = NET_BIND_TCP | NET_CONNECT_TCP;
        attr_size = offsetof(struct ll_ruleset_attr, scoped);
    }
    if (abi >= 6) {
        /* Without scoping, a confined process could still talk to an
         * abstract Unix socket or signal a process outside its domain. */
        attr.scoped = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL;
        attr_size = sizeof(attr);
    }
    if (abi < 4 && (o->connect_n > 0 || o->bind_n > 0))
        fprintf(stderr, "landlock-exec: note: Landlock ABI %d cannot filter TCP; port rules ignored\n", abi);

    int ruleset = (int)syscall(__NR_landlock_create_ruleset, &attr, attr_size, 0);
    if (ruleset < 0) die_errno("landlock_create_ruleset", NULL);

    add_path_rules(ruleset, o->ro, o->ro_n, FS_RO, attr.handled_access_fs);
    add_path_rules(ruleset, o->rw, o->rw_n, attr.handled_access_fs, attr.handled_access_fs);
    if (abi >= 4) {
        add_port_rules(ruleset, o->connect_ports, o->connect_n, NET_CONNECT_TCP);
        add_port_rules(ruleset, o->bind_ports, o->bind_n, NET_BIND_TCP);
    }

    if (syscall(__NR_landlock_restrict_self, ruleset, 0) != 0) die_errno("landlock_restrict_self", NULL);
    close(ruleset);
}

int main(int argc, char **argv) {
    if (argc == 2 && strcmp(argv[1], "--abi") == 0) {
        printf("%d\n", landlock_abi());
        return 0;
    }

    struct options o;
    parse_args(argc, argv, &o);
    drop_identity(&o);

    /* Required by landlock_restrict_self without CAP_SYS_ADMIN, and wanted
     * anyway: nothing the workload execs may gain privileges (setuid bits,
     * file capabilities). Set even when Landlock is unavailable. */
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) die_errno("prctl(PR_SET_NO_NEW_PRIVS)", NULL);

    int abi = landlock_abi();
    if (abi == 0) {
        if (o.mode == MODE_HARD)
            die(EXIT_CONFINE, "%s",
                "Landlock is not available on this kernel (needs Linux >= 5.13 with "
                "CONFIG_SECURITY_LANDLOCK and \"landlock\" in the lsm= boot list); "
                "refusing to run unconfined because compatibility is hard_requirement");
        fputs("landlock-exec: warning: Landlock is not available on this kernel; "
              "running WITHOUT filesystem confinement (best_effort)\n",
              stderr);
    } else {
        confine(&o, abi);
    }

    if (o.ready_fd >= 0 && fcntl(o.ready_fd, F_SETFD, FD_CLOEXEC) != 0) die_errno("fcntl(--ready-fd)", NULL);
    execvp(o.cmd[0], o.cmd);
    int err = errno;
    fprintf(stderr, "landlock-exec: cannot exec %s: %s\n", o.cmd[0], strerror(err));
    if (o.ready_fd >= 0) dprintf(o.ready_fd, "exec failed: %s\n", strerror(err));
    return err == ENOENT ? 127 : 126;
}
