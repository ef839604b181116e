/*
 * egress-forwarder — the sandbox's proxy port (127.0.0.1:3128), relayed to the host's proxy socket.
 *
 *   egress-forwarder --host 127.0.0.1 --port 3128 --socket /run/nemoclaw/proxy.sock --control-fd 3
 *
 * The workload's HTTP(S)_PROXY points at the port; the socket is the sandbox's only way out. Every
 * byte of every proxied connection crosses this process, so it is C: a Node relay here cost
 * 0.13 ms per request round trip inside a one-CPU sandbox, this one a few microseconds.
 *
 * It decides nothing. Who is calling is found by the supervisor (identify.ts, tested Node code):
 * for each accepted connection this writes `who <id> <client port>\n` on the control descriptor
 * (a socket pair shared with the supervisor) and reads nothing from the client until the answer
 * `caller <id> <preamble>\n` arrives. It then connects to the socket, writes the preamble line
 * (the sandbox's caller secret and the caller's identity, caller-preamble.ts) and relays bytes
 * both ways until either side ends:
 *   - the socket cannot be reached (the host runtime is not serving this sandbox): the client gets
 *     an HTTP 503 saying so (`<socket>: ENOENT`), then its connection ends;
 *   - the client ends its side: the socket's side is ended, and its answer still relayed;
 *   - the socket's side ends (e.g. the gateway answered 431 and closed while the client was still
 *     writing): the client's side is ended once the answer is written, and what the client still
 *     sends is read and dropped for up to 5 s. Closing with unread bytes would make the kernel
 *     send a reset, which can overtake the answer;
 *   - an error on either side closes both.
 *
 * Privileges: started by the supervisor as root holding CAP_SETUID, CAP_SETGID and CAP_SETPCAP.
 * It empties the bounding set, keeps only CAP_SETUID and CAP_SETGID (to take the socket owner's
 * ids around each connect(2): root here has no CAP_DAC_OVERRIDE and the socket is 0600), sets
 * no_new_privs and is non-dumpable: the workload (uid 1000, no capabilities) can neither signal it
 * nor read its memory (the caller secret passes through it).
 *
 * Exit codes: 0 when the supervisor closes the control descriptor; 2 on a fatal error; 64 on a
 * usage error.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define FLOW_BUFFER 65536
#define MAX_CONNECTIONS 1024 /* fewer when the descriptor limit is low: main() */
#define MAX_WAITING 256
#define CONTROL_BUFFER 65536
#define LINGER_MS 5000

static const char *socket_path;
static int control_fd = -1;
static int listen_fd = -1;
static int epoll_fd = -1;

static void die(const char *what) {
  fprintf(stderr, "nemoclaw-forwarder: %s: %s\n", what, strerror(errno));
  exit(2);
}

static void fail(const char *message) {
  fprintf(stderr, "nemoclaw-forwarder: %s\n", message);
  exit(2);
}

/* --- connections ------------------------------------------------------- */

enum side { SIDE_CLIENT, SIDE_UPSTREAM, SIDE_LISTEN, SIDE_CONTROL };
enum state { WAITING, RELAYING, LINGERING };

struct conn;
struct tag {
  struct conn *conn;
  enum side side;
};

/* Bytes going one way: read from `from` into buf, written to the other side. */
struct flow {
  char *buf;
  size_t len, off;
  bool eof;      /* the reading side ended */
  bool shut;     /* the writing side was shut after the last byte */
  bool dropping; /* read and dropped (lingering) */
};

/*
 * One side of a connection. Edge-triggered: `readable`/`writable` turn false when a read or a
 * write returned EAGAIN and true again with the next edge, so a flow woken for the other side
 * makes no call that could only return EAGAIN. EPOLLOUT is watched only while a write is blocked (`out_watched`): watched all
 * the time, each byte the peer reads would wake this process once more per exchange.
 */
struct end {
  int fd;
  bool readable, writable, out_watched;
  struct tag tag;
};

struct conn {
  uint64_t id;
  enum state state;
  struct end client, upstream;
  struct flow up;   /* client → upstream */
  struct flow down; /* upstream → client */
  int64_t linger_until;
  bool dead;
  struct conn *prev, *next; /* in the waiting or lingering list */
  struct conn *next_dead;
};

struct list {
  struct conn *head, *tail;
  int count;
};

static struct list waiting, lingering;
static struct conn *dead;
static int open_connections;
static uint64_t next_id = 1;
static bool accepting;
static int max_connections = MAX_CONNECTIONS;
/* accept(2) ran out of descriptors or memory: no accepting until a connection closes (the
   listening socket stays readable, and level-triggered it would spin). */
static bool starved;

static void list_push(struct list *l, struct conn *c) {
  c->prev = l->tail;
  c->next = NULL;
  if (l->tail) l->tail->next = c;
  else l->head = c;
  l->tail = c;
  l->count++;
}

static void list_remove(struct list *l, struct conn *c) {
  if (c->prev) c->prev->next = c->next;
  else l->head = c->next;
  if (c->next) c->next->prev = c->prev;
  else l->tail = c->prev;
  c->prev = c->next = NULL;
  l->count--;
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#define RELAY_EVENTS (EPOLLIN | EPOLLRDHUP | EPOLLET)

static void add_watch(int fd, struct tag *tag, uint32_t events) {
  struct epoll_event ev = {.events = events, .data.ptr = tag};
  if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0) die("epoll_ctl");
}

/* Starts relaying through `e`: watched for input from now on, assumed ready both ways. */
static void open_end(struct end *e, int fd) {
  e->fd = fd;
  e->readable = e->writable = true;
  e->out_watched = false;
  add_watch(fd, &e->tag, RELAY_EVENTS);
}

static void watch_output(struct end *e, bool on) {
  if (e->out_watched == on) return;
  struct epoll_event ev = {.events = RELAY_EVENTS | (on ? EPOLLOUT : 0), .data.ptr = &e->tag};
  if (epoll_ctl(epoll_fd, EPOLL_CTL_MOD, e->fd, &ev) < 0) die("epoll_ctl");
  e->out_watched = on;
}

static void close_end(struct end *e) {
  if (e->fd >= 0) close(e->fd);
  e->fd = -1;
  e->readable = e->writable = e->out_watched = false;
}

static struct tag listen_tag = {NULL, SIDE_LISTEN}, control_tag = {NULL, SIDE_CONTROL};

/* Accepts while fewer than max_connections are open and MAX_WAITING wait for their caller. */
static void update_accepting(void) {
  bool room = !starved && open_connections < max_connections && waiting.count < MAX_WAITING;
  if (room == accepting) return;
  struct epoll_event ev = {.events = room ? EPOLLIN : 0, .data.ptr = &listen_tag};
  if (epoll_ctl(epoll_fd, EPOLL_CTL_MOD, listen_fd, &ev) < 0) die("epoll_ctl");
  accepting = room;
}

static void close_conn(struct conn *c) {
  if (c->dead) return;
  if (c->state == WAITING) list_remove(&waiting, c);
  if (c->state == LINGERING) list_remove(&lingering, c);
  close_end(&c->client);
  close_end(&c->upstream);
  c->dead = true;
  c->next_dead = dead;
  dead = c;
  open_connections--;
  starved = false;
  update_accepting();
}

static void free_dead(void) {
  while (dead) {
    struct conn *c = dead;
    dead = c->next_dead;
    free(c->up.buf);
    free(c->down.buf);
    free(c);
  }
}

/* The client's side is ended; what it still sends is read and dropped until it closes or 5 s pass. */
static void linger(struct conn *c) {
  close_end(&c->upstream);
  c->up.dropping = true;
  c->up.len = c->up.off = 0;
  c->state = LINGERING;
  c->linger_until = now_ms() + LINGER_MS;
  list_push(&lingering, c);
}

/*
 * Moves bytes along one flow until a side would block or the reading side ended. A failed read
 * counts as the end when `read_error_ends` (the socket's side: the gateway closing with the
 * client's bytes unread resets it, after its answer); a failed write makes the flow drop what it
 * reads when `write_error_drops` (writing to the socket after the gateway answered and closed).
 * False: the connection failed.
 */
static bool pump_flow(struct flow *f, struct end *from, struct end *to, bool read_error_ends, bool write_error_drops) {
  for (;;) {
    if (f->off < f->len) {
      if (!to->writable) {
        watch_output(to, true);
        return true;
      }
      ssize_t n = send(to->fd, f->buf + f->off, f->len - f->off, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) {
        f->off += (size_t)n;
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) {
        to->writable = false;
        watch_output(to, true);
        return true;
      }
      if (!write_error_drops) return false;
      f->dropping = true;
    }
    f->len = f->off = 0;
    if (to->out_watched) watch_output(to, false);
    if (f->eof) {
      if (!f->shut && to->fd >= 0 && !f->dropping) shutdown(to->fd, SHUT_WR);
      f->shut = true;
      return true;
    }
    if (!from->readable) return true;
    ssize_t n = recv(from->fd, f->buf, FLOW_BUFFER, MSG_DONTWAIT);
    if (n > 0) {
      if (!f->dropping) f->len = (size_t)n;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      from->readable = false;
      return true;
    }
    if (n < 0 && !read_error_ends) return false;
    f->eof = true;
  }
}

/* Progress on every flow of the connection, each until it would block or its input ended. */
static void pump(struct conn *c) {
  if (c->dead || c->state == WAITING) return;
  if (c->state == RELAYING) {
    if (!pump_flow(&c->up, &c->client, &c->upstream, false, true) || !pump_flow(&c->down, &c->upstream, &c->client, true, false)) {
      close_conn(c);
      return;
    }
    if (!c->down.shut) return;
    linger(c);
  }
  /* Lingering: the answer still to write, and the client's bytes to drop until it closes. */
  if (!pump_flow(&c->down, &c->upstream, &c->client, true, false) || !pump_flow(&c->up, &c->client, &c->upstream, false, true)) {
    close_conn(c);
    return;
  }
  if (c->up.eof && c->down.shut) close_conn(c);
}

/* An edge on one end: what it allows again, then progress. */
static void on_event(struct end *e, uint32_t events) {
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) e->readable = true;
  if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) e->writable = true;
  pump(e->tag.conn);
}

/* --- reaching the socket ------------------------------------------------ */

static void json_escape(char *out, size_t size, const char *in) {
  size_t o = 0;
  for (const unsigned char *p = (const unsigned char *)in; *p && o + 7 < size; p++) {
    if (*p == '"' || *p == '\\') {
      out[o++] = '\\';
      out[o++] = (char)*p;
    } else if (*p < 0x20) {
      o += (size_t)snprintf(out + o, size - o, "\\u%04x", *p);
    } else {
      out[o++] = (char)*p;
    }
  }
  out[o] = '\0';
}

/* The client's way out is closed: it gets a 503 saying why, then its side is ended. */
static void unavailable(struct conn *c, int error) {
  const char *code = strerrorname_np(error);
  char reason[PATH_MAX + 64], escaped[2 * (PATH_MAX + 64)], body[4 * PATH_MAX + 512];
  snprintf(reason, sizeof reason, "%s: %s", socket_path, code ? code : "error");
  json_escape(escaped, sizeof escaped, reason);
  int body_len = snprintf(body, sizeof body,
                          "{\"error\":\"nemoclaw egress unavailable\",\"reason\":\"%s\",\"hint\":\"the nemoclaw runtime on the host is not serving this "
                          "sandbox; the operator can run `openclaw nemoclaw <name> start`\"}",
                          escaped);
  /* Written straight into the flow to the client (FLOW_BUFFER holds it many times over). */
  int len = snprintf(c->down.buf, FLOW_BUFFER,
                     "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
                     body_len, body);
  c->down.len = (size_t)len;
  c->down.off = 0;
  c->down.eof = true;
  linger(c);
  pump(c);
}

/*
 * connect(2) to the socket under its owner's effective ids when the owner is not root (a host
 * user's runtime): for a Unix socket the permission check happens in the call itself.
 */
static int connect_upstream(int *error) {
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(socket_path) >= sizeof addr.sun_path) {
    *error = ENAMETOOLONG;
    return -1;
  }
  strcpy(addr.sun_path, socket_path);
  struct stat st;
  uid_t uid = 0;
  gid_t gid = 0;
  if (stat(socket_path, &st) == 0) {
    uid = st.st_uid;
    gid = st.st_gid;
  }
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = errno;
    return -1;
  }
  if (uid != 0) {
    if (syscall(SYS_setresgid, -1, gid, -1) != 0 || syscall(SYS_setresuid, -1, uid, -1) != 0) die("cannot take the socket owner's ids");
  }
  int rc = connect(fd, (struct sockaddr *)&addr, sizeof addr);
  int saved = errno;
  if (uid != 0) {
    if (syscall(SYS_setresuid, -1, 0, -1) != 0 || syscall(SYS_setresgid, -1, 0, -1) != 0) die("cannot return to root's ids");
  }
  if (rc < 0) {
    *error = saved;
    close(fd);
    return -1;
  }
  return fd;
}

/* The supervisor named the caller: connect, send its preamble first, relay. */
static void start_relay(struct conn *c, const char *preamble, size_t len) {
  list_remove(&waiting, c);
  c->state = RELAYING;
  c->up.buf = malloc(FLOW_BUFFER);
  c->down.buf = malloc(FLOW_BUFFER);
  if (!c->up.buf || !c->down.buf) fail("out of memory");
  update_accepting();
  if (len + 1 > FLOW_BUFFER) fail("preamble too long");
  open_end(&c->client, c->client.fd);
  int error = 0;
  int fd = connect_upstream(&error);
  if (fd < 0) {
    unavailable(c, error);
    return;
  }
  memcpy(c->up.buf, preamble, len);
  c->up.buf[len] = '\n';
  c->up.len = len + 1;
  open_end(&c->upstream, fd);
  pump(c);
}

/* --- the control descriptor --------------------------------------------- */

static char control_buf[CONTROL_BUFFER];
static size_t control_len;

static void write_control(const char *line, size_t len) {
  while (len > 0) {
    ssize_t n = send(control_fd, line, len, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      /* A descriptor left non-blocking: at most MAX_WAITING short lines are ever unread. */
      struct pollfd p = {.fd = control_fd, .events = POLLOUT};
      poll(&p, 1, -1);
      continue;
    }
    if (n <= 0) die("control write");
    line += n;
    len -= (size_t)n;
  }
}

static void answer(char *line) {
  /* caller <id> <preamble> */
  if (strncmp(line, "caller ", 7) != 0) fail("bad control line");
  char *end;
  errno = 0;
  unsigned long long id = strtoull(line + 7, &end, 10);
  if (errno != 0 || *end != ' ') fail("bad control line");
  const char *preamble = end + 1;
  for (struct conn *c = waiting.head; c; c = c->next) {
    if (c->id == id) {
      start_relay(c, preamble, strlen(preamble));
      return;
    }
  }
  fail("answer for an unknown connection");
}

static void read_control(void) {
  for (;;) {
    if (control_len == sizeof control_buf) fail("control line too long");
    ssize_t n = recv(control_fd, control_buf + control_len, sizeof control_buf - control_len, MSG_DONTWAIT);
    if (n == 0) exit(0); /* the supervisor is gone */
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) return;
      die("control read");
    }
    control_len += (size_t)n;
    char *start = control_buf, *nl;
    while ((nl = memchr(start, '\n', control_len - (size_t)(start - control_buf)))) {
      *nl = '\0';
      answer(start);
      start = nl + 1;
    }
    control_len -= (size_t)(start - control_buf);
    memmove(control_buf, start, control_len);
  }
}

/* --- accepting ---------------------------------------------------------- */

static void accept_clients(void) {
  while (accepting) {
    struct sockaddr_in peer;
    socklen_t peer_len = sizeof peer;
    int fd = accept4(listen_fd, (struct sockaddr *)&peer, &peer_len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED) return;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        if (open_connections == 0) die("accept"); /* no close will ever make room */
        starved = true;
        update_accepting();
        return;
      }
      die("accept");
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct conn *c = calloc(1, sizeof *c);
    if (!c) fail("out of memory");
    c->id = next_id++;
    c->state = WAITING;
    c->client = (struct end){.fd = fd, .tag = {c, SIDE_CLIENT}};
    c->upstream = (struct end){.fd = -1, .tag = {c, SIDE_UPSTREAM}};
    list_push(&waiting, c);
    open_connections++;
    char line[64];
    int len = snprintf(line, sizeof line, "who %llu %u\n", (unsigned long long)c->id, (unsigned)ntohs(peer.sin_port));
    write_control(line, (size_t)len);
    update_accepting();
  }
}

/* --- set-up ------------------------------------------------------------- */

struct cap_header {
  uint32_t version;
  int pid;
};
struct cap_data {
  uint32_t effective, permitted, inheritable;
};

/* Empties the bounding and ambient sets and keeps CAP_SETUID and CAP_SETGID only. */
static void drop_privileges(void) {
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) die("PR_SET_DUMPABLE");
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) die("PR_SET_NO_NEW_PRIVS");
  if (geteuid() != 0) return; /* a test run as a plain user: nothing to drop */
  for (int cap = 0; cap <= 63; cap++) {
    if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1 && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) die("PR_CAPBSET_DROP");
  }
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) die("PR_CAP_AMBIENT");
  struct cap_header h = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct cap_data d[2] = {{0, 0, 0}, {0, 0, 0}};
  uint32_t keep = (1u << CAP_SETUID) | (1u << CAP_SETGID);
  d[0].effective = d[0].permitted = keep;
  if (syscall(SYS_capset, &h, d) != 0) die("capset");
}

static int listen_on(const char *host, int port) {
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) fail("--host must be an IPv4 address");
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket");
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0) die("bind");
  if (listen(fd, 511) != 0) die("listen");
  return fd;
}

static void usage(void) {
  fputs("usage: egress-forwarder --host ADDR --port N --socket PATH --control-fd N\n", stderr);
  exit(64);
}

int main(int argc, char **argv) {
  const char *host = NULL;
  int port = 0;
  for (int i = 1; i < argc; i++) {
    if (i + 1 >= argc) usage();
    if (strcmp(argv[i], "--host") == 0) host = argv[++i];
    else if (strcmp(argv[i], "--port") == 0) port = atoi(argv[++i]);
    else if (strcmp(argv[i], "--socket") == 0) socket_path = argv[++i];
    else if (strcmp(argv[i], "--control-fd") == 0) control_fd = atoi(argv[++i]);
    else usage();
  }
  if (!host || port < 1 || port > 65535 || !socket_path || socket_path[0] != '/' || control_fd < 3) usage();
  if (fcntl(control_fd, F_GETFD) < 0) fail("--control-fd is not open");
  fcntl(control_fd, F_SETFD, FD_CLOEXEC);
  signal(SIGPIPE, SIG_IGN);
  /* Two descriptors per connection: the soft limit up to the hard one, and no more connections
     than it allows (the rest wait in the listen backlog rather than get a 503 for EMFILE). */
  struct rlimit nofile;
  if (getrlimit(RLIMIT_NOFILE, &nofile) == 0) {
    if (nofile.rlim_cur < nofile.rlim_max) {
      nofile.rlim_cur = nofile.rlim_max;
      setrlimit(RLIMIT_NOFILE, &nofile);
      getrlimit(RLIMIT_NOFILE, &nofile);
    }
    if (nofile.rlim_cur != RLIM_INFINITY && nofile.rlim_cur < 2 * MAX_CONNECTIONS + 16) {
      max_connections = nofile.rlim_cur > 18 ? (int)(nofile.rlim_cur - 16) / 2 : 1;
    }
  }
  drop_privileges();

  epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd < 0) die("epoll_create1");
  listen_fd = listen_on(host, port);
  add_watch(listen_fd, &listen_tag, EPOLLIN);
  accepting = true;
  add_watch(control_fd, &control_tag, EPOLLIN);
  write_control("ready\n", 6);

  struct epoll_event events[64];
  for (;;) {
    int timeout = -1;
    if (lingering.head) {
      int64_t left = lingering.head->linger_until - now_ms();
      timeout = left < 0 ? 0 : (int)left;
    }
    int n = epoll_wait(epoll_fd, events, 64, timeout);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("epoll_wait");
    }
    for (int i = 0; i < n; i++) {
      struct tag *t = events[i].data.ptr;
      if (t->side == SIDE_LISTEN) accept_clients();
      else if (t->side == SIDE_CONTROL) read_control();
      else on_event(t->side == SIDE_CLIENT ? &t->conn->client : &t->conn->upstream, events[i].events);
    }
    int64_t now = now_ms();
    while (lingering.head && lingering.head->linger_until <= now) close_conn(lingering.head);
    free_dead();
  }
}
